// Acting for a connected account with stripe-node against connectd.
// Run: CONNECTD_URL=http://127.0.0.1:12111 PLATFORM_KEY=sk_test_… CLIENT_ID=ca_… node docs/examples/connected-account.mjs
import Stripe from 'stripe';

const base = new URL(process.env.CONNECTD_URL ?? 'http://127.0.0.1:12111');
const platformKey = process.env.PLATFORM_KEY;
const clientId = process.env.CLIENT_ID;
if (!platformKey || !clientId) throw new Error('set PLATFORM_KEY and CLIENT_ID (printed by npm start)');

const stripe = new Stripe(platformKey, { host: base.hostname, port: Number(base.port), protocol: base.protocol.replace(':', '') });

// 1. Connect a fresh test account without a browser (connectd's test helper), then exchange the code.
const res = await fetch(new URL('/v1/test_helpers/oauth/authorize', base), {
  method: 'POST',
  headers: { authorization: `Bearer ${platformKey}`, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ client_id: clientId, scope: 'read_write', 'stripe_user[business_name]': 'Example Shop' }),
});
const { code } = await res.json();
const { stripe_user_id: account } = await stripe.oauth.token({ grant_type: 'authorization_code', code });

// 2. Use your own key plus Stripe-Account to act for the connected account.
const customer = await stripe.customers.create({ email: 'buyer@example.com', metadata: { order: '42' } }, { stripeAccount: account });
const charge = await stripe.charges.create({ amount: 2000, currency: 'usd', source: 'tok_visa', customer: customer.id }, { stripeAccount: account });
await stripe.refunds.create({ charge: charge.id, amount: 500 }, { stripeAccount: account });

// 3. A declined card is a StripeCardError, exactly as against Stripe.
try {
  await stripe.charges.create({ amount: 2000, currency: 'usd', source: 'tok_chargeDeclined' }, { stripeAccount: account });
} catch (err) {
  if (!(err instanceof Stripe.errors.StripeCardError)) throw err;
  console.log(`declined: ${err.code}`);
}

// 4. Lists auto-paginate.
let n = 0;
for await (const c of stripe.customers.list({ limit: 2 }, { stripeAccount: account })) n += c.id ? 1 : 0;

// 5. After the merchant disconnects (or you deauthorize), every call for the account is refused.
await stripe.oauth.deauthorize({ client_id: clientId, stripe_user_id: account });
try {
  await stripe.customers.list({}, { stripeAccount: account });
} catch (err) {
  console.log(`after deauthorize: ${err.statusCode} ${err.code}`);
}
console.log(JSON.stringify({ account, customer: customer.id, charge: charge.id, customers: n }));
