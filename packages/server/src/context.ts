// Everything a handler needs, built once at start: store, clock, config, logger, derived keys.
import { createHmac, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import { offsetClock, systemClock, type Clock } from './domain/clock.ts';
import { hashSecret } from './domain/secrets.ts';
import { openStore, type Store } from './store/dialect.ts';
import { getOrCreateSetting } from './store/settings.ts';

export interface Context {
  readonly store: Store;
  readonly clock: Clock;
  readonly config: Config;
  readonly log: Logger;
  /** Keyed hash of a bearer secret, for storage and lookup. */
  hash(value: string): string;
  /** AES-256 key for secrets we must recover (webhook signing secrets). */
  readonly sealKey: Buffer;
}

export interface ContextOptions {
  clock?: Clock;
  pgSchema?: string;
}

export async function createContext(config: Config, log: Logger, opts: ContextOptions = {}): Promise<Context> {
  const store = openStore({ database: config.database, ...(opts.pgSchema ? { pgSchema: opts.pgSchema } : {}) });
  try {
    await store.migrate();
    // Without CONNECTD_SECRET, a random secret is generated once and kept in the database, so all
    // processes sharing it agree. Setting CONNECTD_SECRET keeps the pepper out of the database.
    const secret =
      config.secret ?? (await getOrCreateSetting(store.db, 'server_secret', () => randomBytes(32).toString('base64url')));
    const derive = (label: string) => createHmac('sha256', secret).update(label).digest();
    const pepper = derive('connectd/hash/v1');
    return {
      store,
      clock: opts.clock ?? (config.testClockOffset ? offsetClock(config.testClockOffset) : systemClock),
      config,
      log,
      hash: (value: string) => hashSecret(pepper, value),
      sealKey: derive('connectd/seal/v1'),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
