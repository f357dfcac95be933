// Stripe-Signature (docs/contract.md Part A "Webhook delivery", Part B §4.4): `t=<unix>,v1=<hex>` with no
// spaces, one v1 per active secret; HMAC-SHA256 keyed by the whole `whsec_…` string over
// `<t>.<raw body>`.
import { createHmac } from 'node:crypto';

export function signatureHeader(body: string, secrets: readonly string[], timestamp: number): string {
  const signed = `${timestamp}.${body}`;
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${createHmac('sha256', s).update(signed, 'utf8').digest('hex')}`)].join(',');
}
