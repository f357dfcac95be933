// The server secret (pepper for keyed hashes, sealing key for webhook secrets and stored
// idempotent responses) lives outside the database it protects: a copy of the database, WAL and
// all, must decrypt nothing and forge nothing (docs/configuration.md "Server secret").
// Sources, in order: CONNECTD_SECRET; a key file (created on first run, mode 0600, beside the data
// directory); for `:memory:` databases, a random secret that dies with the process.
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import type { Store } from './store/dialect.ts';
import { hasAccounts } from './store/accounts.ts';
import { deleteSetting, getOrCreateSetting, readSetting } from './store/settings.ts';

/** Where the secret came from, for the banner and the log. */
export interface ServerSecret {
  value: string;
  source: 'environment' | 'file' | 'memory';
  path?: string;
  created?: boolean;
}

export class ServerSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerSecretError';
  }
}

/** Releases before 0.2 kept the secret in the database; it moves to the key file once. */
const LEGACY_SETTING = 'server_secret';
const MIN_LENGTH = 32;

function readKeyFile(path: string): string {
  const value = readFileSync(path, 'utf8').trim();
  if (value.length < MIN_LENGTH) throw new ServerSecretError(`the key file ${path} holds fewer than ${MIN_LENGTH} characters`);
  return value;
}

/**
 * Creates the key file atomically: written under a private temporary name, then hard-linked into
 * place, so processes starting together agree on one value and nobody reads a half-written file.
 */
function createKeyFile(path: string, value: string): { value: string; created: boolean } {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${value}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
    return { value, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { value: readKeyFile(path), created: false };
  } finally {
    unlinkSync(tmp);
  }
}

const CHECK_SETTING = 'server_secret_check';

/**
 * The server secret, checked against the database it belongs to: the database keeps a keyed hash
 * of a constant under the secret (it reveals nothing of it), so a process started with another
 * secret, or with a lost key file silently re-created, refuses to start instead of treating every
 * stored key, token and sealed value as unknown.
 */
export async function resolveServerSecret(config: Config, store: Store, log: Logger): Promise<ServerSecret> {
  const { migrated, ...secret } = await findServerSecret(config, store, log);
  const check = createHmac('sha256', secret.value).update('connectd/secret-check/v1').digest('base64url');
  const refuse = (why: string): never => {
    if (secret.created && secret.path) unlinkSync(secret.path);
    throw new ServerSecretError(why);
  };
  const where = secret.source === 'file' ? `the key file ${secret.path ?? ''}` : 'CONNECTD_SECRET';
  const stored = await readSetting(store.db, CHECK_SETTING);
  if (secret.created && !migrated && (stored !== undefined || (await hasAccounts(store.db)))) {
    refuse(`the key file ${secret.path ?? ''} was missing, but this database already holds accounts: restore the key file that belongs to it, or give its secret as CONNECTD_SECRET`);
  }
  const kept = stored ?? (await getOrCreateSetting(store.db, CHECK_SETTING, () => check));
  if (kept !== check) refuse(`${where} does not belong to this database (it was set up with another secret): start with the secret it was created with`);
  return secret;
}

async function findServerSecret(config: Config, store: Store, log: Logger): Promise<ServerSecret & { migrated: boolean }> {
  const legacy = await readSetting(store.db, LEGACY_SETTING);
  if (config.secret) {
    if (legacy !== undefined) {
      log.warn({ event: 'secret.legacy_row' }, 'the database still holds a server secret from an older release; CONNECTD_SECRET is used instead');
    }
    return { value: config.secret, source: 'environment', migrated: false };
  }
  if (!config.secretFile) return { value: legacy ?? randomBytes(32).toString('base64url'), source: 'memory', migrated: false };

  const path = config.secretFile;
  let result: { value: string; created: boolean };
  try {
    result = statSync(path, { throwIfNoEntry: false }) ? { value: readKeyFile(path), created: false } : createKeyFile(path, legacy ?? randomBytes(32).toString('base64url'));
  } catch (err) {
    if (err instanceof ServerSecretError) throw err;
    throw new ServerSecretError(`cannot use the key file ${path}: ${(err as Error).message}`);
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    chmodSync(path, 0o600);
    log.warn({ event: 'secret.file_mode', path, mode: mode.toString(8) }, 'the key file was readable by others; its mode is now 0600');
  }
  if (legacy !== undefined) {
    if (legacy !== result.value) {
      throw new ServerSecretError(`the database holds a server secret that differs from the key file ${path}: start with the key file that belongs to this database`);
    }
    // Moved out: the database alone no longer unlocks anything it holds.
    await deleteSetting(store, LEGACY_SETTING);
    log.info({ event: 'secret.moved', path }, 'moved the server secret out of the database into the key file');
  }
  return { value: result.value, source: 'file', path, created: result.created, migrated: legacy !== undefined };
}
