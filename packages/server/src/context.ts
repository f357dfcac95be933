// Everything a handler needs, built once at start: store, clock, config, logger, derived keys.
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import { offsetClock, systemClock, type Clock } from './domain/clock.ts';
import { hashSecret } from './domain/secrets.ts';
import { openStore, type Store } from './store/dialect.ts';
import { resolveServerSecret, type ServerSecret } from './server-secret.ts';
import { databaseUnavailableReason } from './store/unavailable.ts';
import { DeliveryNotifier } from './webhooks/notifier.ts';

export interface Context {
  readonly store: Store;
  readonly clock: Clock;
  readonly config: Config;
  readonly log: Logger;
  /** Keyed hash of a bearer secret, for storage and lookup. */
  hash(value: string): string;
  /** AES-256 key for secrets we must recover (webhook signing secrets). */
  readonly sealKey: Buffer;
  /** Where the server secret came from (never its value): for the banner. */
  readonly secretSource: Omit<ServerSecret, 'value'>;
  /** Wakes this process's delivery worker when queued deliveries commit (webhooks/notifier.ts). */
  readonly deliveryNotifier: DeliveryNotifier;
}

export interface ContextOptions {
  clock?: Clock;
  pgSchema?: string;
}

export async function createContext(config: Config, log: Logger, opts: ContextOptions = {}): Promise<Context> {
  const store = openStore({
    database: config.database,
    durability: config.durability,
    ...(opts.pgSchema ? { pgSchema: opts.pgSchema } : {}),
    onConnectionError: (err) =>
      log.warn({ event: 'database.connection_lost', reason: databaseUnavailableReason(err) ?? err.message }, 'database connection lost; it is replaced on next use'),
  });
  try {
    await store.migrate();
    // Never from the database it protects (docs/configuration.md "Server secret").
    const { value: secret, ...secretSource } = await resolveServerSecret(config, store, log);
    const derive = (label: string) => createHmac('sha256', secret).update(label).digest();
    const pepper = derive('connectd/hash/v1');
    return {
      store,
      clock: opts.clock ?? (config.testClockOffset ? offsetClock(config.testClockOffset) : systemClock),
      config,
      log,
      hash: (value: string) => hashSecret(pepper, value),
      sealKey: derive('connectd/seal/v1'),
      secretSource,
      deliveryNotifier: new DeliveryNotifier(),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
