// POST /v1/account_links (docs/contract.md Part A "Accounts API and Account Links", Part B §8.3):
// a single-use URL to connectd's onboarding pages for a connected account, valid for
// ACCOUNT_LINK_TTL seconds. A second visit, or a visit after it expired, goes to refresh_url.
import { z } from 'zod';
import { ApiError } from '../../domain/errors.ts';
import { patterns, randomBase62 } from '../../domain/ids.ts';
import { freshOnboarding, parseOnboarding } from '../../domain/onboarding.ts';
import { insertAccountLink } from '../../store/account-links.ts';
import { lockAccountRow, updateAccount } from '../../store/accounts.ts';
import { connectionCovers, findActiveConnection } from '../../store/connections.ts';
import { recordResponse } from '../../store/idempotency.ts';
import { expand, paramSchema, parseParams } from '../params.ts';
import type { ApiRoute } from '../route-table.ts';

/** Seconds an Account Link can be opened: Stripe's own links last five minutes (docs/contract.md Part B §8.3). */
export const ACCOUNT_LINK_TTL = 300;

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

const NOT_CONNECTED = 'You requested an account link for an account that is not connected to your platform or does not exist.';

function checkRedirect(param: 'refresh_url' | 'return_url', value: string, livemode: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ApiError(400, 'Not a valid URL', { code: 'url_invalid', param });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new ApiError(400, 'Not a valid URL', { code: 'url_invalid', param });
  if (livemode && parsed.protocol !== 'https:') throw new ApiError(400, 'Livemode requests must always be redirected via HTTPS.', { param });
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
      if (!patterns.account.test(p.account)) throw new ApiError(400, NOT_CONNECTED, { param: 'account' });
      const platformId = req.caller.keyAccountId;
      const connection = await findActiveConnection(ctx.store.db, platformId, p.account);
      if (!connection || !connectionCovers(connection, req.caller.mode)) throw new ApiError(400, NOT_CONNECTED, { param: 'account' });
      if (p.type === 'account_update') {
        // Standard accounts keep their details up to date in their own Dashboard.
        throw new ApiError(400, 'You cannot create `account_update` type Account Links for this account: it has access to a Stripe-hosted Dashboard (a Standard account), where its holder updates its details.', { param: 'type' });
      }
      const token = randomBase62(32);
      const created = ctx.clock.now();
      return ctx.store.transaction(async (trx) => {
        const account = await lockAccountRow(trx, p.account);
        if (!account || account.deleted_at !== null) throw new ApiError(400, NOT_CONNECTED, { param: 'account' });
        // From the first link on, the account holder provides what the platform could prefill (docs/contract.md Part B §8.2).
        const o = parseOnboarding(account.onboarding);
        if (o && !o.link_created) await updateAccount(trx, account.id, { onboarding: JSON.stringify({ ...(o ?? freshOnboarding()), link_created: true }) });
        await insertAccountLink(trx, {
          hash: ctx.hash(token),
          account_id: account.id,
          platform_id: platformId,
          livemode: livemode ? 1 : 0,
          type: p.type,
          collect: p.collection_options?.fields ?? p.collect ?? 'currently_due',
          refresh_url: p.refresh_url,
          return_url: p.return_url,
          created,
          expires_at: created + ACCOUNT_LINK_TTL,
          used_at: null,
        });
        const body = { object: 'account_link', created, expires_at: created + ACCOUNT_LINK_TTL, url: `${ctx.config.publicUrl}/setup/s/${account.id}/${token}` };
        await recordResponse(trx, { body });
        return body;
      });
    },
  },
];
