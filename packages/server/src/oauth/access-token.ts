// Minting an OAuth access token: an sk_<mode>_ key of the connected account, stored as a hash,
// tied to its connection and scope (docs/contract.md Part B §2.4).
import { newSecretKey, type Mode } from '../domain/ids.ts';
import type { Context } from '../context.ts';
import { insertAccessToken } from '../store/keys.ts';
import type { Db } from '../store/schema.ts';

export async function mintAccessToken(
  trx: Db,
  ctx: Context,
  t: { accountId: string; mode: Mode; connectionId: string; scope: string },
): Promise<string> {
  const accessToken = newSecretKey(t.mode);
  await insertAccessToken(trx, { hash: ctx.hash(accessToken), ...t, last4: accessToken.slice(-4), now: ctx.clock.now() });
  return accessToken;
}
