// The onboarding state of a Standard account created through the API, and what it implies for the
// account object: requirements, details_submitted, charges_enabled, payouts_enabled
// (docs/contract.md Part A "Accounts API and Account Links", Part B §8.1). Pure: no I/O.

export type BusinessType = 'individual' | 'company' | 'non_profit' | 'government_entity';

export interface BankAccount {
  bank_name: string;
  routing_number: string;
  last4: string;
  country: string;
  currency: string;
}

export interface Onboarding {
  business_type: BusinessType | null;
  product_description: string | null;
  support_phone: string | null;
  support_email: string | null;
  support_url: string | null;
  mcc: string | null;
  external_account: BankAccount | null;
  tos_acceptance: { date: number; ip: string; user_agent: string | null } | null;
  /** The person finished the onboarding flow (Stripe's details_submitted). */
  details_submitted: boolean;
  /** An Account Link was created: business_type and external_account are frozen for the API from then on. */
  link_created: boolean;
}

export function freshOnboarding(): Onboarding {
  return {
    business_type: null,
    product_description: null,
    support_phone: null,
    support_email: null,
    support_url: null,
    mcc: null,
    external_account: null,
    tos_acceptance: null,
    details_submitted: false,
    link_created: false,
  };
}

export function parseOnboarding(json: string | null): Onboarding | null {
  return json === null ? null : { ...freshOnboarding(), ...(JSON.parse(json) as Partial<Onboarding>) };
}

/**
 * What onboarding collects, in Stripe's names and order: the list a fresh US Standard account shows
 * in `requirements.currently_due` (docs/contract.md Part B §8.1).
 */
export const REQUIREMENTS = [
  'business_profile.product_description',
  'business_profile.support_phone',
  'business_profile.url',
  'external_account',
  'tos_acceptance.date',
  'tos_acceptance.ip',
] as const;

export type Requirement = (typeof REQUIREMENTS)[number];

/** The requirements still due, given the account's URL (kept on the account row) and its onboarding. */
export function requirementsDue(url: string | null, o: Onboarding): Requirement[] {
  const met: Record<Requirement, boolean> = {
    'business_profile.product_description': !!o.product_description,
    'business_profile.support_phone': !!o.support_phone,
    'business_profile.url': !!url,
    external_account: o.external_account !== null,
    'tos_acceptance.date': o.tos_acceptance !== null,
    'tos_acceptance.ip': o.tos_acceptance !== null,
  };
  return REQUIREMENTS.filter((r) => !met[r]);
}

/** Charges and payouts are enabled once the details were submitted and nothing is due. */
export function capabilityState(url: string | null, o: Onboarding | null): { detailsSubmitted: boolean; enabled: boolean; due: Requirement[] } {
  if (o === null) return { detailsSubmitted: true, enabled: true, due: [] };
  const due = requirementsDue(url, o);
  return { detailsSubmitted: o.details_submitted, enabled: o.details_submitted && due.length === 0, due };
}

/** Stripe's test bank account (routing 110000000, account 000123456789), as onboarding's test data fills it. */
export const TEST_BANK_ACCOUNT: BankAccount = { bank_name: 'STRIPE TEST BANK', routing_number: '110000000', last4: '6789', country: 'US', currency: 'usd' };

/**
 * The fields of two account objects that differ, with their values before: Stripe's
 * `previous_attributes`. Nested objects are compared key by key; an array or a scalar that changed
 * is given whole (Stripe API reference "The Event object").
 */
export function previousAttributes(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = before[key];
    const a = after[key];
    if (isPlainObject(b) && isPlainObject(a)) {
      const inner = previousAttributes(b, a);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else if (JSON.stringify(b) !== JSON.stringify(a)) {
      out[key] = b === undefined ? null : b;
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
