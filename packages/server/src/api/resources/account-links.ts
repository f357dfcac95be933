// POST /v1/account_links (docs/contract.md Part A "Accounts API and Account Links", Part B §8.3):
// a single-use URL to connectd's onboarding pages for a connected account, valid for
// ACCOUNT_LINK_TTL seconds. A second visit, or a visit after it expired, goes to refresh_url. The
// link itself is made by oauth/account-links.ts, which the platform dashboard uses too.
import { z } from 'zod';
import { ApiError } from '../../domain/errors.ts';
import { isHttpUrl } from '../../domain/http-url.ts';
import { createAccountLink } from '../../oauth/account-links.ts';
import { recordResponse } from '../../store/idempotency.ts';
import { expand, paramSchema, parseParams } from '../params.ts';
import type { ApiRoute } from '../route-table.ts';

const url = z.string().max(2048);
const fields = z.enum(['currently_due', 'eventually_due']);
const params = paramSchema({
  account: z.string().max(100),
  type: z.enum(['account_onboarding', 'account_update']),
  refresh_url: url,
  return_url: url,
  collect: fields.optional(),
  collection_options: z.object({ fields: fields.optional(), future_requirements: z.enum(['include', 'omit']).optional() }).strict().optional(),
  expand,
});

function checkRedirect(param: 'refresh_url' | 'return_url', value: string, livemode: boolean): void {
  if (!isHttpUrl(value)) throw new ApiError(400, 'Not a valid URL', { code: 'url_invalid', param });
  if (livemode && new URL(value).protocol !== 'https:') throw new ApiError(400, 'Livemode requests must always be redirected via HTTPS.', { param });
}

export const accountLinkRoutes: ApiRoute[] = [
  {
    method: 'POST',
    path: '/v1/account_links',
    access: 'write',
    ownKeyOnly: true,
    handler: async (ctx, req) => {
      const p = parseParams(params, req.params);
      const livemode = req.caller.mode === 'live';
      checkRedirect('refresh_url', p.refresh_url, livemode);
      checkRedirect('return_url', p.return_url, livemode);
      return ctx.store.transaction(async (trx) => {
        const body = await createAccountLink(ctx, trx, {
          platformId: req.caller.keyAccountId,
          accountId: p.account,
          livemode,
          type: p.type,
          collect: p.collection_options?.fields ?? p.collect ?? 'currently_due',
          refreshUrl: p.refresh_url,
          returnUrl: p.return_url,
        });
        await recordResponse(trx, { body });
        return body;
      });
    },
  },
];
