// Shared by the webhook delivery tests (crash.test.ts, throughput.test.ts): a bounded-concurrency
// loop, a fresh connected account (one account.application.authorized event each), and a seed
// whose platform A has Connect endpoints with a fixed secret.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { A, testSeed } from './fixtures.ts';
import { helperCode } from './flow.ts';
import { post } from './http.ts';

/** Runs fn(0…n-1) with at most `limit` calls in flight. */
export async function pool<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await fn(i);
    }),
  );
  return out;
}

/** A fresh test account connected to platform A; returns its id. */
export async function connectFreshAccount(base: string): Promise<string> {
  const { code } = await helperCode(base, A.testSecret, { client_id: A.clientIdTest, scope: 'read_write' });
  const t = await post(`${base}/oauth/token`, { grant_type: 'authorization_code', code }, { authorization: `Bearer ${A.testSecret}` });
  assert.equal(t.status, 200, t.text);
  return String(t.json.stripe_user_id);
}

/** The test seed with platform A's Connect endpoints at `hookUrls`, all signed with `secret`. */
export function writeHookSeed(dir: string, name: string, hookUrls: string[], secret: string): string {
  const seed = testSeed();
  const platform = seed.accounts[0]?.platform;
  assert.ok(platform);
  platform.webhook_endpoints = hookUrls.map((url) => ({ url, secret, livemode: false }));
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(seed));
  return file;
}
