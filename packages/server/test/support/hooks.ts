// Shared by the webhook delivery tests (crash.test.ts, throughput.test.ts): a bounded-concurrency
// loop and a seed whose platform A has Connect endpoints with a fixed secret.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testSeed } from './fixtures.ts';

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
