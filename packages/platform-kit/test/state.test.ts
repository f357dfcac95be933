import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cookieState, memoryStateStore, newState, StateError } from '../src/index.ts';

const clock = (start = 1_700_000_000) => {
  let t = start;
  return { now: () => t, advance: (s: number) => (t += s) };
};

const failsWith = (reason: string) => (err: unknown) => err instanceof StateError && err.reason === reason;

describe('state generation', () => {
  it('is 256 bits of base64url, different every time', () => {
    const states = new Set(Array.from({ length: 1000 }, () => newState()));
    assert.equal(states.size, 1000);
    for (const s of states) assert.match(s, /^[A-Za-z0-9_-]{43}$/);
  });
});

describe('memoryStateStore: bound to a session, single use, expiring', () => {
  it('accepts the state issued to the session once', async () => {
    const store = memoryStateStore();
    const state = await store.issue('session-a');
    await store.consume('session-a', state);
    await assert.rejects(async () => store.consume('session-a', state), failsWith('unknown'));
  });

  it('refuses a missing, mismatched or other-session state, and a mismatch uses the state up', async () => {
    const store = memoryStateStore();
    const a = await store.issue('session-a');
    const b = await store.issue('session-b');
    await assert.rejects(async () => store.consume('session-a', undefined), failsWith('missing'));
    await assert.rejects(async () => store.consume('session-b', b.slice(0, -1) + (b.endsWith('A') ? 'B' : 'A')), failsWith('mismatch'));
    await assert.rejects(async () => store.consume('session-b', b), failsWith('unknown'));
    // a's state presented in another session is refused there
    await assert.rejects(async () => store.consume('session-c', a), failsWith('unknown'));
  });

  it('expires after its time to live', async () => {
    const c = clock();
    const store = memoryStateStore({ ttlSeconds: 60, now: c.now });
    const state = await store.issue('s');
    c.advance(60);
    await assert.rejects(async () => store.consume('s', state), failsWith('expired'));
  });
});

describe('cookieState: a signed cookie, single use, expiring', () => {
  const secret = 'x'.repeat(32);

  it('accepts the state with its cookie once', () => {
    const cs = cookieState(secret);
    const { state, cookie } = cs.issue();
    cs.consume(cookie, state);
    assert.throws(() => cs.consume(cookie, state), failsWith('unknown'));
  });

  it('refuses a forged or foreign cookie, a mismatched state and an expired one', () => {
    const c = clock();
    const cs = cookieState(secret, { ttlSeconds: 60, now: c.now });
    const { state, cookie } = cs.issue();
    const [s, exp] = cookie.split('.');
    assert.throws(() => cs.consume(`${s}.${Number(exp) + 3600}.${cookie.split('.')[2]}`, state), failsWith('unknown'));
    assert.throws(() => cookieState('y'.repeat(32)).consume(cookie, state), failsWith('unknown'));
    assert.throws(() => cs.consume(undefined, state), failsWith('unknown'));
    assert.throws(() => cs.consume(cookie, newState()), failsWith('mismatch'));
    c.advance(61);
    assert.throws(() => cs.consume(cookie, state), failsWith('expired'));
  });

  it('bound to a user: the same browser signed in as someone else is refused', () => {
    const cs = cookieState(secret);
    const { state, cookie } = cs.issue('driver-1');
    assert.throws(() => cs.consume(cookie, state, 'driver-2'), failsWith('unknown'));
    assert.throws(() => cs.consume(cookie, state), failsWith('unknown'));
    cs.consume(cookie, state, 'driver-1');
  });

  it('needs a real secret', () => {
    assert.throws(() => cookieState('short'), TypeError);
  });
});
