// Pure rules of webhook delivery: the SSRF address policy and the retry schedules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelay } from '../../src/webhooks/retry.ts';
import { refuseAddress, refuseUrl } from '../../src/webhooks/ssrf.ts';

describe('SSRF policy', () => {
  const special = ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12::1', 'fec0::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '::7f00:1', '64:ff9b::7f00:1', '::ffff:0:7f00:1'];
  it('refuses every non-public address for live endpoints, in every spelling', () => {
    for (const ip of special) assert.ok(refuseAddress(ip, true), ip);
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) assert.equal(refuseAddress(ip, true), null, ip);
  });
  it('lets test endpoints use loopback and private networks, never link-local', () => {
    for (const ip of ['127.0.0.1', '::1', '10.0.0.5', '192.168.1.20']) assert.equal(refuseAddress(ip, false), null, ip);
    for (const ip of ['169.254.169.254', '::ffff:a9fe:a9fe', 'fe80::1']) assert.ok(refuseAddress(ip, false), ip);
  });
  it('checks literal hosts in URLs at registration', () => {
    assert.ok(refuseUrl('https://[::ffff:127.0.0.1]:8443/x', true));
    assert.ok(refuseUrl('https://127.0.0.1/x', true));
    assert.ok(refuseUrl('https://localhost/x', true));
    assert.ok(refuseUrl('http://169.254.169.254/latest', false));
    assert.equal(refuseUrl('http://127.0.0.1:4000/hooks', false), null);
    assert.equal(refuseUrl('https://hooks.example.com/x', true), null);
  });
});

describe('retry schedules', () => {
  const total = (mode: 'standard' | 'fast', live: boolean, random: () => number) => {
    let sum = 0;
    let n = 0;
    for (let f = 1; ; f++) {
      const d = retryDelay(mode, live, f, random);
      if (d === null) return { n, sum };
      n++;
      sum += d + 1; // the worker schedules one second later (whole-second queue)
    }
  };
  it('live: exponential backoff, every retry within 3 days even with maximum jitter', () => {
    const { n, sum } = total('standard', true, () => 1);
    assert.ok(n >= 8, `${n} retries`);
    assert.ok(sum <= 72 * 3600, `${sum} s`);
    const delays = Array.from({ length: n }, (_, i) => retryDelay('standard', true, i + 1, () => 0.5) ?? 0);
    for (let i = 1; i < 5; i++) assert.ok((delays[i] ?? 0) > (delays[i - 1] ?? 0), 'grows');
  });
  it('test: 3 retries over a few hours', () => {
    const { n, sum } = total('standard', false, () => 0.5);
    assert.equal(n, 3);
    assert.ok(sum > 3600 && sum < 6 * 3600, `${sum} s`);
  });
  it('fast: about 1 s, 2 s, 4 s … with ±10 % jitter', () => {
    assert.equal(retryDelay('fast', false, 1, () => 0.5), 1);
    assert.equal(retryDelay('fast', false, 2, () => 0.5), 2);
    assert.equal(retryDelay('fast', false, 3, () => 0.5), 4);
    const jittered = retryDelay('fast', false, 6, () => 0);
    assert.ok(jittered !== null && jittered >= 28 && jittered <= 32);
  });
});
