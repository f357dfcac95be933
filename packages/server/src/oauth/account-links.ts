// Creating an Account Link (docs/contract.md Part B §8.3): one function for POST /v1/account_links
// and the platform dashboard's "Create onboarding link", in the caller's transaction. The link is a
// single-use URL to connectd's onboarding pages, valid for ACCOUNT_LINK_TTL seconds; its token is
// stored only as a keyed hash, so the URL returned here is the only copy.
import { ApiError } from '../domain/errors.ts';
import { patterns, randomBase62 } from '../domain/ids.ts';
import { parseOnboarding } from '../domain/onboarding.ts';
import type { Context } from '../context.ts';
import { insertAccountLink } from '../store/account-links.ts';
import { lockAccount, updateAccount } from '../store/accounts.ts';
import { connectionCovers, findActiveConnection } from '../store/connections.ts';
import type { AccountLinksTable, AccountsTable, Db } from '../store/schema.ts';

/** Seconds an Account Link can be opened: Stripe's own links last five minutes (docs/contract.md Part B §8.3). */
export const ACCOUNT_LINK_TTL = 300;

export interface AccountLinkRequest {
  platformId: string;
  accountId: string;
  livemode: boolean;
  type: AccountLinksTable['type'];
  collect: AccountLinksTable['collect'];
  /** Already checked by the caller: the API checks what the platform sent; the dashboard uses its own page. */
  refreshUrl: string;
  returnUrl: string;
}

/** Stripe's account_link object. */
export interface AccountLink {
  object: 'account_link';
  created: number;
  expires_at: number;
  url: string;
}

const NOT_CONNECTED = 'You requested an account link for an account that is not connected to your platform or does not exist.';

const notConnected = () => new ApiError(400, NOT_CONNECTED, { param: 'account' });

/**
 * The account, locked, if it exists, is not deleted, is connected to the platform, and lives in the
 * link's mode (a test key cannot open onboarding of a live account through the live connection's
 * test access).
 */
async function lockConnectedAccount(trx: Db, r: AccountLinkRequest): Promise<AccountsTable> {
  if (!patterns.account.test(r.accountId)) throw notConnected();
  // Locked first, so a concurrent delete (which locks it too) has either ended the connection or not begun.
  const account = await lockAccount(trx, r.accountId);
  if (!account || account.deleted_at !== null || (account.test_only === 1) === r.livemode) throw notConnected();
  const connection = await findActiveConnection(trx, r.platformId, r.accountId);
  if (!connection || !connectionCovers(connection, r.livemode ? 'live' : 'test')) throw notConnected();
  // Only an account this platform created, and onboards: a merchant who connected through OAuth
  // owns its sign-in and details, which a link must never reach (docs/contract.md Part B §8.3).
  if (account.created_by !== r.platformId || account.onboarding === null) {
    throw new ApiError(400, 'You can only create Account Links for accounts your platform created with the Accounts API; an account connected through OAuth manages its own details.', { param: 'account' });
  }
  return account;
}

/** From the first link on, the account holder provides what the platform could prefill (docs/contract.md Part B §8.2). */
async function markLinkCreated(trx: Db, account: AccountsTable): Promise<void> {
  const o = parseOnboarding(account.onboarding);
  if (o && !o.link_created) await updateAccount(trx, account.id, { onboarding: JSON.stringify({ ...o, link_created: true }) });
}

/** Stores a new link for a connected account and returns it; refusals are the API's (docs/contract.md Part B §8.3). */
export async function createAccountLink(ctx: Context, trx: Db, r: AccountLinkRequest): Promise<AccountLink> {
  const account = await lockConnectedAccount(trx, r);
  if (r.type === 'account_update') {
    // Standard accounts keep their details up to date in their own Dashboard.
    throw new ApiError(400, 'You cannot create `account_update` type Account Links for this account: it has access to a Stripe-hosted Dashboard (a Standard account), where its holder updates its details.', { param: 'type' });
  }
  await markLinkCreated(trx, account);
  const token = randomBase62(32);
  const created = ctx.clock.now();
  const expiresAt = created + ACCOUNT_LINK_TTL;
  await insertAccountLink(trx, {
    hash: ctx.hash(token),
    account_id: account.id,
    platform_id: r.platformId,
    livemode: r.livemode ? 1 : 0,
    type: r.type,
    collect: r.collect,
    refresh_url: r.refreshUrl,
    return_url: r.returnUrl,
    created,
    expires_at: expiresAt,
    used_at: null,
  });
  return { object: 'account_link', created, expires_at: expiresAt, url: `${ctx.config.publicUrl}/setup/s/${account.id}/${token}` };
}
