// stripe_user[...] prefill (docs/contract.md Part B §1.2): invalid values are silently ignored, never an error.
export interface Prefill {
  email?: string;
  url?: string;
  country?: string;
  business_name?: string;
  business_type?: string;
  first_name?: string;
  last_name?: string;
  phone_number?: string;
  currency?: string;
}

const CHECKS: Record<keyof Prefill, (v: string) => boolean> = {
  email: (v) => v.length <= 254 && /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(v),
  url: (v) => v.length <= 2000 && /^https?:\/\/[^\s<>"]+$/.test(v),
  country: (v) => /^[A-Z]{2}$/.test(v),
  business_name: (v) => v.length <= 200 && !/[\u0000-\u001f<>]/.test(v),
  business_type: (v) => ['sole_prop', 'corporation', 'non_profit', 'partnership', 'llc'].includes(v),
  first_name: (v) => v.length <= 100 && !/[\u0000-\u001f<>]/.test(v),
  last_name: (v) => v.length <= 100 && !/[\u0000-\u001f<>]/.test(v),
  phone_number: (v) => /^\+?[0-9 ()-]{4,20}$/.test(v),
  currency: (v) => /^[a-z]{3}$/.test(v),
};

export function sanitizePrefill(raw: unknown): Prefill {
  const out: Prefill = {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return out;
  for (const [key, check] of Object.entries(CHECKS) as Array<[keyof Prefill, (v: string) => boolean]>) {
    const v = (raw as Record<string, unknown>)[key];
    if (typeof v === 'string' && check(v)) out[key] = v;
  }
  return out;
}
