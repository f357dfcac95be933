// The account object of a Standard account, as GET /v1/account and /v1/accounts show it.
import type { AccountsTable } from '../store/schema.ts';

export function accountObject(a: AccountsTable) {
  return {
    id: a.id,
    object: 'account',
    business_profile: { name: a.business_name, url: a.url },
    business_type: null,
    capabilities: { card_payments: 'active', transfers: 'active' },
    charges_enabled: true,
    country: a.country,
    created: a.created,
    default_currency: a.default_currency,
    details_submitted: true,
    email: a.email,
    metadata: {},
    payouts_enabled: true,
    settings: { dashboard: { display_name: a.business_name } },
    type: 'standard',
  };
}
