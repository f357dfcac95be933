// The currencies Stripe accepts for a charge, in the order Stripe lists them. Source: the list in
// Stripe's own API error for an unknown currency ("Invalid currency: xyz. Stripe currently supports
// these currencies: usd, aed, …"), as returned by api.stripe.com in October 2024; it includes a few
// withdrawn ISO 4217 codes (eek, lvl, ltl, …) that Stripe still accepts.
export const STRIPE_CURRENCIES: readonly string[] = (
  'usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf ' +
  'clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl hrk htg huf idr ' +
  'ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr ' +
  'mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd ' +
  'shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw ' +
  'usdc btn ghs eek lvl svc vef ltl sll mro'
).split(' ');

const SUPPORTED = new Set(STRIPE_CURRENCIES);

/** Stripe compares currencies case-insensitively and answers in lower case. */
export function isStripeCurrency(code: string): boolean {
  return SUPPORTED.has(code.toLowerCase());
}

export function invalidCurrencyMessage(code: string): string {
  return `Invalid currency: ${code.toLowerCase()}. Stripe currently supports these currencies: ${STRIPE_CURRENCIES.join(', ')}`;
}
