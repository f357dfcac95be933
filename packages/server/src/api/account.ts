// GET /v1/account: the account the caller acts as, shaped like a Standard account.
import { ApiError } from '../domain/errors.ts';
import type { Context } from '../context.ts';
import { findAccount } from '../store/accounts.ts';
import type { AccountsTable } from '../store/schema.ts';
import type { ApiCaller } from './authenticate.ts';

export function accountObject(a: AccountsTable) {
  return {
    id: a.id,
    object: 'account',
    business_profile: { name: a.business_name, url: a.url },
    business_type: null,
    capabilities: { card_payments: 'active', transfers: 'active' },
    charges_enabled: true,
    country: a.country,
    created: a.created,
    default_currency: a.default_currency,
    details_submitted: true,
    email: a.email,
    metadata: {},
    payouts_enabled: true,
    settings: { dashboard: { display_name: a.business_name } },
    type: 'standard',
  };
}

export async function retrieveAccount(ctx: Context, caller: ApiCaller) {
  const account = await findAccount(ctx.store.db, caller.accountId);
  if (!account) throw new ApiError(404, 'invalid_request_error', `No such account: '${caller.accountId}'`, 'resource_missing');
  return accountObject(account);
}
