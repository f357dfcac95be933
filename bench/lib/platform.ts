// The bench's platform: fixed keys and client_id so every tool (run.ts, memory.ts, profile.ts)
// seeds the same account, and a seed file writer.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PLATFORM = 'acct_BenchPlatform0000';
export const SK = 'sk_test_BenchPlatform000000000000000000000000';
export const CLIENT_ID = 'ca_BenchPlatformTest0000000000000000';
export const REDIRECT = 'http://127.0.0.1:4000/callback';
export const AUTH = { authorization: `Bearer ${SK}` };
export const FORM = { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' };

export const platformAccount = {
  id: PLATFORM,
  email: 'bench-platform@example.com',
  password: 'bench-platform-password',
  keys: { test_secret: SK },
  platform: { name: 'Bench', client_id_test: CLIENT_ID, redirect_uris: [REDIRECT] },
};

/** Writes `{ accounts }` (the platform first, then `more`) to `<dir>/<name>.seed.json`. */
export function writeSeed(dir: string, name: string, more: unknown[] = []): string {
  const file = join(dir, `${name}.seed.json`);
  writeFileSync(file, JSON.stringify({ accounts: [platformAccount, ...more] }));
  return file;
}
