// The /oauth/token success body, in Stripe's field order (docs/contract.md Part B §2.4).
import type { Mode } from '../domain/ids.ts';

export interface TokenResponse {
  access_token: string;
  livemode: boolean;
  refresh_token: string;
  token_type: 'bearer';
  stripe_publishable_key: string;
  stripe_user_id: string;
  scope: string;
}

export function tokenResponse(input: {
  accessToken: string;
  mode: Mode;
  refreshToken: string;
  publishableKey: string;
  accountId: string;
  scope: string;
}): TokenResponse {
  return {
    access_token: input.accessToken,
    livemode: input.mode === 'live',
    refresh_token: input.refreshToken,
    token_type: 'bearer',
    stripe_publishable_key: input.publishableKey,
    stripe_user_id: input.accountId,
    scope: input.scope,
  };
}
