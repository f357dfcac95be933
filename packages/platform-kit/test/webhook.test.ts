import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { eventDeduper, verifyWebhook, WebhookSignatureError } from '../src/index.ts';

const NOW = 1_700_000_000;
const now = () => NOW;
const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'account.application.deauthorized', account: 'acct_1', created: NOW, livemode: false, data: { object: {} } });
const sign = (secret: string, payload = body, t = NOW) => createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex');
const failsWith = (reason: string) => (err: unknown) => err instanceof WebhookSignatureError && err.reason === reason;

describe('verifyWebhook', () => {
  const oldSecret = 'whsec_old_secret_value';
  const newSecret = 'whsec_new_secret_value';

  it('accepts a payload signed with the secret and returns the event', () => {
    const event = verifyWebhook(body, `t=${NOW},v1=${sign(newSecret)}`, newSecret, { now });
    assert.equal(event.id, 'evt_1');
    assert.equal(event.type, 'account.application.deauthorized');
  });

  it('with two secrets, accepts either, and a header carrying two signatures during a roll', () => {
    verifyWebhook(body, `t=${NOW},v1=${sign(oldSecret)}`, [newSecret, oldSecret], { now });
    verifyWebhook(Buffer.from(body), `t=${NOW},v1=${sign(newSecret)},v1=${sign(oldSecret)}`, [newSecret], { now });
    assert.throws(() => verifyWebhook(body, `t=${NOW},v1=${sign(oldSecret)}`, [newSecret], { now }), failsWith('no_match'));
  });

  it('refuses a tampered body, a missing or malformed header', () => {
    const header = `t=${NOW},v1=${sign(newSecret)}`;
    assert.throws(() => verifyWebhook(body.replace('acct_1', 'acct_2'), header, newSecret, { now }), failsWith('no_match'));
    assert.throws(() => verifyWebhook(body, undefined, newSecret, { now }), failsWith('no_header'));
    assert.throws(() => verifyWebhook(body, `v1=${sign(newSecret)}`, newSecret, { now }), failsWith('malformed'));
    assert.throws(() => verifyWebhook(body, `t=${NOW},v0=${sign(newSecret)}`, newSecret, { now }), failsWith('malformed'));
  });

  it('enforces the tolerance on the signed timestamp', () => {
    const old = NOW - 301;
    const header = `t=${old},v1=${sign(newSecret, body, old)}`;
    assert.throws(() => verifyWebhook(body, header, newSecret, { now }), failsWith('too_old'));
    verifyWebhook(body, header, newSecret, { now, tolerance: 600 });
    const edge = NOW - 300;
    verifyWebhook(body, `t=${edge},v1=${sign(newSecret, body, edge)}`, newSecret, { now });
  });
});

describe('verifyWebhook: secrets and bytes', () => {
  it('refuses an empty or missing secret as a configuration error, whatever the header', () => {
    const forged = `t=${NOW},v1=${createHmac('sha256', '').update(`${NOW}.${body}`).digest('hex')}`;
    assert.throws(() => verifyWebhook(body, forged, '', { now }), TypeError);
    assert.throws(() => verifyWebhook(body, forged, [], { now }), TypeError);
    assert.throws(() => verifyWebhook(body, forged, [undefined as unknown as string], { now }), TypeError);
  });

  it('signs the bytes as received, not their UTF-8 decoding', () => {
    // 0xff is not UTF-8: decoding would turn it into U+FFFD and change the signed bytes.
    const raw = Buffer.concat([Buffer.from('{"id":"evt_b","x":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const v1 = createHmac('sha256', 'whsec_bytes').update(`${NOW}.`).update(raw).digest('hex');
    assert.equal(verifyWebhook(raw, `t=${NOW},v1=${v1}`, 'whsec_bytes', { now }).id, 'evt_b');
  });
});

describe('eventDeduper', () => {
  it('says first time once per id within the window, and forgets after it', () => {
    let t = NOW;
    const d = eventDeduper({ windowSeconds: 100, now: () => t });
    assert.equal(d.firstTime('evt_1'), true);
    assert.equal(d.firstTime('evt_1'), false);
    assert.equal(d.firstTime('evt_2'), true);
    t += 100;
    assert.equal(d.firstTime('evt_1'), true);
  });
});
