// Seeded accounts' password hashes are computed after the server listens (issue 8, start-up): a
// sign-in meanwhile waits for the hash, a wrong password is refused, the stored value becomes the
// scrypt hash, and a placeholder left by a process that stopped first is hashed on the next start.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { loadConfig } from '../src/config/config.ts';
import { newPendingPasswordHash, verifyPassword } from '../src/domain/secrets.ts';
import { startServer } from '../src/server.ts';
import { M, testSeed } from './support/fixtures.ts';
import { FormClient } from './support/flow.ts';
import { Writable } from 'node:stream';

const dir = mkdtempSync(join(tmpdir(), 'connectd-seedpw-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.key`, { force: true });
});
const database = join(dir, 'connectd.sqlite');
const quiet = new Writable({ write: (_c, _e, cb) => cb() });

async function start() {
  const { config } = loadConfig(['serve', '--port', '0', '--db', database], {});
  const running = await startServer(config, { seed: testSeed(), logStream: quiet });
  Object.assign(running.ctx.config, { publicUrl: running.url });
  return running;
}

const storedHash = (email: string): string | null => {
  const db = new SQLite(database, { readonly: true });
  try {
    return (db.prepare('select password_hash from accounts where email = ?').get(email) as { password_hash: string | null }).password_hash;
  } finally {
    db.close();
  }
};

describe('seeded passwords', () => {
  it('a seeded account signs in right after start; a wrong password is refused; the hash is stored', async () => {
    const server = await start();
    try {
      const wrong = new FormClient(server.url);
      await assert.rejects(wrong.login(M.email, 'not-the-password'), /login answered 4\d\d/);
      await new FormClient(server.url).login(M.email, M.password);
      await server.passwordsStored;
      assert.match(storedHash(M.email) ?? '', /^scrypt\$131072\$8\$1\$/);
      await new FormClient(server.url).login(M.email, M.password);
    } finally {
      await server.close();
    }
  });

  it('a placeholder left behind (the process stopped before storing the hash) is hashed at the next start', async () => {
    const db = new SQLite(database);
    db.prepare('update accounts set password_hash = ? where email = ?').run(newPendingPasswordHash(), M.email);
    db.close();
    const server = await start();
    try {
      await new FormClient(server.url).login(M.email, M.password);
      await server.passwordsStored;
      assert.match(storedHash(M.email) ?? '', /^scrypt\$/);
    } finally {
      await server.close();
    }
  });

  it('a placeholder no process of ours is hashing matches no password', async () => {
    assert.equal(await verifyPassword(M.password, newPendingPasswordHash()), false);
  });
});
