// The account object of a Standard account (docs/contract.md Part B §8.1), as GET /v1/account,
// /v1/accounts and account.updated events show it. An account created through the API shows its
// onboarding state; one that signed up on connectd's pages is complete.
import { capabilityState, parseOnboarding, type Onboarding } from './onboarding.ts';

/** What the object is made of: an account row (store/schema.ts AccountsTable has these fields). */
export interface AccountRecord {
  id: string;
  email: string;
  business_name: string | null;
  country: string;
  default_currency: string;
  url: string | null;
  created: number;
  created_by: string | null;
  onboarding: string | null;
  metadata: string | null;
}

/** The metadata column: a JSON object, or null for none. */
export function parseMetadata(json: string | null): Record<string, string> {
  return json === null ? {} : (JSON.parse(json) as Record<string, string>);
}

export interface AccountView {
  /** The viewer is the platform that created the account (controller.is_controller). */
  controller: boolean;
}

const emptyRequirements = () => ({
  alternatives: [],
  current_deadline: null,
  currently_due: [] as string[],
  disabled_reason: null as string | null,
  errors: [],
  eventually_due: [] as string[],
  past_due: [] as string[],
  pending_verification: [],
});

function bankAccount(accountId: string, o: Onboarding) {
  const b = o.external_account;
  if (!b) return [];
  return [
    {
      id: `ba_${accountId.slice(5, 29)}`,
      object: 'bank_account',
      account: accountId,
      account_holder_name: null,
      account_holder_type: null,
      bank_name: b.bank_name,
      country: b.country,
      currency: b.currency,
      default_for_currency: true,
      last4: b.last4,
      routing_number: b.routing_number,
      status: 'new',
    },
  ];
}

export function accountObject(a: AccountRecord, view: AccountView = { controller: false }) {
  const o = parseOnboarding(a.onboarding);
  const state = capabilityState(a.url, o);
  const requirements = { ...emptyRequirements(), currently_due: state.due, eventually_due: state.due, past_due: state.due, disabled_reason: state.enabled ? null : 'requirements.past_due' };
  const createdByViewer = view.controller && a.created_by !== null;
  const capability = state.enabled ? 'active' : 'inactive';
  return {
    id: a.id,
    object: 'account',
    business_profile: {
      mcc: o?.mcc ?? null,
      name: a.business_name,
      product_description: o?.product_description ?? null,
      support_address: null,
      support_email: o?.support_email ?? null,
      support_phone: o?.support_phone ?? null,
      support_url: o?.support_url ?? null,
      url: a.url,
    },
    business_type: o?.business_type ?? null,
    capabilities: { card_payments: capability, transfers: capability },
    charges_enabled: state.enabled,
    // The platform that created the account controls it; Stripe's Standard values (docs/contract.md Part B §8.1).
    controller: createdByViewer
      ? { fees: { payer: 'account' }, is_controller: true, losses: { payments: 'stripe' }, requirement_collection: 'stripe', stripe_dashboard: { type: 'full' }, type: 'application' }
      : { type: a.created_by !== null ? 'application' : 'account' },
    country: a.country,
    created: a.created,
    default_currency: a.default_currency,
    details_submitted: state.detailsSubmitted,
    email: a.email === '' ? null : a.email,
    ...(createdByViewer && o
      ? { external_accounts: { object: 'list', data: bankAccount(a.id, o), has_more: false, total_count: o.external_account ? 1 : 0, url: `/v1/accounts/${a.id}/external_accounts` } }
      : {}),
    future_requirements: emptyRequirements(),
    metadata: parseMetadata(a.metadata),
    payouts_enabled: state.enabled,
    requirements,
    settings: { dashboard: { display_name: a.business_name, timezone: 'Etc/UTC' } },
    tos_acceptance: { date: o?.tos_acceptance?.date ?? null, ip: o?.tos_acceptance?.ip ?? null, user_agent: o?.tos_acceptance?.user_agent ?? null },
    type: 'standard',
  };
}
