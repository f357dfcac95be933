// Webhook endpoints of an account; signing secrets sealed at rest (docs/security-model.md SE-02).
import { newWebhookEndpointId } from '../domain/ids.ts';
import { decryptSecret, encryptSecret } from '../domain/secrets.ts';
import { nextSeq } from './events.ts';
import { precompile } from './prepared.ts';
import type { Db, WebhookEndpointsTable } from './schema.ts';

export interface NewEndpoint {
  accountId: string;
  url: string;
  secret: string;
  livemode: boolean;
  connect: boolean;
  enabledEvents: string[];
  description?: string | null;
  now: number;
}

export async function insertEndpoint(db: Db, sealKey: Buffer, e: NewEndpoint): Promise<WebhookEndpointsTable> {
  const row: WebhookEndpointsTable = {
    id: newWebhookEndpointId(),
    account_id: e.accountId,
    url: e.url,
    secret_sealed: encryptSecret(sealKey, e.secret),
    livemode: e.livemode ? 1 : 0,
    connect: e.connect ? 1 : 0,
    enabled_events: JSON.stringify(e.enabledEvents),
    status: 'enabled',
    created: e.now,
    description: e.description ?? null,
    previous_secret_sealed: null,
    previous_secret_expires_at: null,
    seq: nextSeq(),
    claim_wanted_by: null,
    claim_wanted_until: null,
  };
  await db.insertInto('webhook_endpoints').values(row).execute();
  return row;
}

export function findEndpoint(db: Db, accountId: string, id: string): Promise<WebhookEndpointsTable | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).where('account_id', '=', accountId).where('status', '!=', 'deleted').executeTakeFirst();
}

/** The endpoint under a row lock, for read-modify-write (a concurrent roll must not be lost). */
export function lockEndpoint(db: Db, accountId: string, id: string): Promise<WebhookEndpointsTable | undefined> {
  return db
    .updateTable('webhook_endpoints')
    .set((eb) => ({ status: eb.ref('status') }))
    .where('id', '=', id)
    .where('account_id', '=', accountId)
    .where('status', '!=', 'deleted')
    .returningAll()
    .executeTakeFirst();
}

export function listEndpoints(db: Db, accountId: string): Promise<WebhookEndpointsTable[]> {
  return db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).where('status', '!=', 'deleted').orderBy('seq', 'desc').execute();
}

export async function updateEndpoint(
  db: Db,
  id: string,
  patch: Partial<Pick<WebhookEndpointsTable, 'url' | 'enabled_events' | 'status' | 'description' | 'secret_sealed' | 'previous_secret_sealed' | 'previous_secret_expires_at'>>,
): Promise<void> {
  // An update that changes nothing must not become `UPDATE … SET WHERE` (a syntax error).
  if (Object.keys(patch).length === 0) return;
  await db.updateTable('webhook_endpoints').set(patch).where('id', '=', id).execute();
}

/**
 * Connect endpoints that receive an event of this type and mode (docs/contract.md Part B §4.2): test
 * events go to test and live endpoints, live events to live endpoints only.
 */
const connectEndpoints = precompile((db: Db, p: { platformId: string; minLivemode: number }) =>
  db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('account_id', '=', p.platformId)
    .where('connect', '=', 1)
    .where('status', '=', 'enabled')
    .where('livemode', '>=', p.minLivemode),
);

export async function endpointsFor(db: Db, platformId: string, type: string, livemode: boolean): Promise<WebhookEndpointsTable[]> {
  // Precompiled (on every code exchange): one statement for both modes, livemode >= 0 or >= 1.
  const rows = await connectEndpoints.all(db, { platformId, minLivemode: livemode ? 1 : 0 });
  return rows.filter((r) => {
    const events = JSON.parse(r.enabled_events) as string[];
    return events.includes('*') || events.includes(type) || events.some((e) => e.endsWith('.*') && type.startsWith(e.slice(0, -1)));
  });
}

/** Every secret that signs now: the current one, and a rolled one until it expires. */
export function activeSecrets(sealKey: Buffer, e: Pick<WebhookEndpointsTable, 'secret_sealed' | 'previous_secret_sealed' | 'previous_secret_expires_at'>, now: number): string[] {
  const secrets = [decryptSecret(sealKey, e.secret_sealed)];
  if (e.previous_secret_sealed && (e.previous_secret_expires_at ?? 0) > now) secrets.push(decryptSecret(sealKey, e.previous_secret_sealed));
  return secrets;
}

/** The account's endpoint with this URL in this mode (livemode 0 or 1), if any. */
export function findEndpointByUrl(db: Db, accountId: string, url: string, livemode: number): Promise<{ id: string } | undefined> {
  return db.selectFrom('webhook_endpoints').select('id').where('account_id', '=', accountId).where('url', '=', url).where('livemode', '=', livemode).executeTakeFirst();
}
