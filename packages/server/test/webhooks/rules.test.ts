// Pure rules of webhook delivery: the SSRF address policy and the retry schedules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelay } from '../../src/webhooks/retry.ts';
import { classifyAddress, refuseAddress, refuseUrl, type AddressClass, type PrivateTargets } from '../../src/webhooks/ssrf.ts';

// Every spelling of every class (docs/webhooks.md "Where webhooks may be sent").
const ADDRESSES: Array<[string, AddressClass]> = [
  // public
  ['93.184.216.34', 'public'],
  ['8.8.8.8', 'public'],
  ['2606:4700:4700::1111', 'public'],
  ['::ffff:8.8.8.8', 'public'],
  ['64:ff9b::808:808', 'public'], // NAT64 of 8.8.8.8
  ['2002:808:808::1', 'public'], // 6to4 of 8.8.8.8
  ['2001:0:808:808::fefe:fefe', 'public'], // Teredo: server 8.8.8.8, client 1.1.1.1
  // loopback and private
  ['127.0.0.1', 'private'],
  ['127.8.9.10', 'private'],
  ['10.0.0.5', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.254', 'private'],
  ['192.168.1.20', 'private'],
  ['100.64.0.1', 'private'],
  ['::1', 'private'],
  ['0:0:0:0:0:0:0:1', 'private'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['::ffff:127.0.0.1', 'private'], // IPv4-mapped
  ['::ffff:7f00:1', 'private'],
  ['::ffff:10.0.0.1', 'private'],
  ['::7f00:1', 'private'], // IPv4-compatible
  ['::127.0.0.1', 'private'],
  ['::ffff:0:7f00:1', 'private'], // IPv4-translated (SIIT)
  ['64:ff9b::7f00:1', 'private'], // NAT64
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b:1::808:808', 'private'], // local-use NAT64 is never global
  ['2002:7f00:1::', 'private'], // 6to4 of 127.0.0.1
  ['2002:c0a8:101::1', 'private'], // 6to4 of 192.168.1.1
  ['2001:0:7f00:1::fefe:fefe', 'private'], // Teredo server 127.0.0.1
  ['2001:0:808:808::80ff:fffe', 'private'], // Teredo client 127.0.0.1 (inverted)
  // forbidden in every mode and setting
  ['0.0.0.0', 'forbidden'],
  ['0.1.2.3', 'forbidden'],
  ['169.254.169.254', 'forbidden'],
  ['169.254.0.1', 'forbidden'],
  ['100.100.100.200', 'forbidden'],
  ['168.63.129.16', 'forbidden'],
  ['192.0.0.1', 'forbidden'],
  ['192.0.2.1', 'forbidden'],
  ['198.51.100.7', 'forbidden'],
  ['203.0.113.9', 'forbidden'],
  ['192.88.99.1', 'forbidden'],
  ['198.18.0.1', 'forbidden'],
  ['198.19.255.255', 'forbidden'],
  ['224.0.0.1', 'forbidden'],
  ['239.255.255.250', 'forbidden'],
  ['240.0.0.1', 'forbidden'],
  ['255.255.255.255', 'forbidden'],
  ['::', 'forbidden'],
  ['::2', 'forbidden'], // IPv4-compatible 0.0.0.2
  ['fe80::1', 'forbidden'],
  ['fe80::1%eth0', 'forbidden'],
  ['fec0::1', 'forbidden'],
  ['ff02::1', 'forbidden'],
  ['ff00::', 'forbidden'],
  ['100::1', 'forbidden'],
  ['2001:db8::1', 'forbidden'],
  ['2001:2::1', 'forbidden'],
  ['2001:10::1', 'forbidden'],
  ['3fff::1', 'forbidden'],
  ['fd00:ec2::254', 'forbidden'],
  ['fd00:0ec2:0:0:0:0:0:0254', 'forbidden'],
  ['::ffff:169.254.169.254', 'forbidden'],
  ['::ffff:a9fe:a9fe', 'forbidden'],
  ['::ffff:0.0.0.0', 'forbidden'],
  ['::ffff:100.100.100.200', 'forbidden'],
  ['::a9fe:a9fe', 'forbidden'],
  ['::ffff:0:a9fe:a9fe', 'forbidden'],
  ['64:ff9b::a9fe:a9fe', 'forbidden'],
  ['64:ff9b::100.100.100.200', 'forbidden'],
  ['64:ff9b:1:a9fe:a9:fe00::', 'forbidden'], // local-use NAT64 /48 of 169.254.169.254
  ['64:ff9b:1::a9fe:a9fe', 'forbidden'],
  ['2002:a9fe:a9fe::', 'forbidden'], // 6to4 of 169.254.169.254
  ['2002::1', 'forbidden'], // 6to4 of 0.0.0.0
  ['2002:e000:1::', 'forbidden'], // 6to4 of 224.0.0.1
  ['2001:0:a9fe:a9fe::fefe:fefe', 'forbidden'], // Teredo server 169.254.169.254
  ['2001:0:808:808::5601:5601', 'forbidden'], // Teredo client 169.254.169.254 (inverted)
  ['example.com', 'forbidden'], // not an address
];

const MODES: Array<[boolean, PrivateTargets]> = [
  [false, 'allow'],
  [false, 'deny'],
  [true, 'allow'],
  [true, 'deny'],
];

/** The policy: forbidden never; private only for test endpoints with private targets allowed. */
const refused = (c: AddressClass, livemode: boolean, privateTargets: PrivateTargets) =>
  c === 'forbidden' || (c === 'private' && (livemode || privateTargets === 'deny'));

describe('SSRF policy', () => {
  it('classifies every spelling, judging IPv6 that embeds an IPv4 by the IPv4', () => {
    for (const [ip, c] of ADDRESSES) assert.equal(classifyAddress(ip), c, ip);
  });

  for (const [livemode, privateTargets] of MODES) {
    it(`${livemode ? 'live' : 'test'} endpoints, private targets ${privateTargets}: refuses forbidden always, private ${!livemode && privateTargets === 'allow' ? 'never' : 'always'}`, () => {
      for (const [ip, c] of ADDRESSES) assert.equal(refuseAddress(ip, livemode, privateTargets) !== null, refused(c, livemode, privateTargets), `${ip} (${c})`);
    });
  }

  const URLS: Array<[string, AddressClass | 'name']> = [
    ['http://127.0.0.1:5432/', 'private'],
    ['http://127.0.0.1:18601/internal-admin', 'private'],
    ['http://[::1]:4000/', 'private'],
    ['http://2130706433/', 'private'], // 127.0.0.1 as one number
    ['http://0x7f.1/', 'private'],
    ['http://localhost:4000/hooks', 'private'],
    ['http://LOCALHOST./x', 'private'],
    ['http://api.localhost/x', 'private'],
    ['https://[::ffff:127.0.0.1]:8443/x', 'private'],
    ['https://[2002:7f00:1::]/', 'private'],
    ['http://10.0.0.1/', 'private'],
    ['http://[fd00:ec2::254]/', 'forbidden'],
    ['http://100.100.100.200/', 'forbidden'],
    ['http://0.0.0.0:5432/', 'forbidden'],
    ['http://0/', 'forbidden'],
    ['http://169.254.169.254/latest/meta-data', 'forbidden'],
    ['http://[::ffff:a9fe:a9fe]/', 'forbidden'],
    ['http://[fe80::1]/', 'forbidden'],
    ['https://[2001:db8::1]/', 'forbidden'],
    ['https://hooks.example.com/x', 'name'], // names are checked at send, on the addresses they resolve to
    ['https://8.8.8.8/x', 'public'],
  ];
  for (const [livemode, privateTargets] of MODES) {
    it(`checks the literal host of a URL: ${livemode ? 'live' : 'test'}, private targets ${privateTargets}`, () => {
      for (const [url, c] of URLS) {
        const expected = c === 'name' || c === 'public' ? false : refused(c, livemode, privateTargets);
        assert.equal(refuseUrl(url, livemode, privateTargets) !== null, expected, `${url} (${c})`);
      }
    });
  }
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
