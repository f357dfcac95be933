// `npm test` on a machine missing a dependency ends promptly (README "Tests"): a file whose setup
// fails and leaves a server listening is reported as failed and the runner exits, instead of
// keeping the run alive until someone kills it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('the test runner', () => {
  it('ends a file whose before() fails with a server still open, and reports the failure', { timeout: 90_000 }, async () => {
    // Without the parent runner's marker, which would make the child skip running files.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
    const child = spawn('bash', ['scripts/test.sh', 'packages/server/test/fixtures/setup-fails.fixture.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.notEqual(code, 0, out);
    assert.match(out, /nonexistent\/chromium/);
    assert.match(out, /ℹ (fail|cancelled) [1-9]/);
  });
});
