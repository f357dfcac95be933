// Table types for Kysely. Booleans are 0/1 integers and times are Unix seconds, so SQLite and
// PostgreSQL share one set of types and one query layer.
import type { Kysely } from 'kysely';

export interface AccountsTable {
  id: string;
  email: string;
  password_hash: string | null;
  business_name: string | null;
  country: string;
  default_currency: string;
  url: string | null;
  /** Created by "Skip this form", the test helper or a test-mode POST /v1/accounts: test data only. */
  test_only: number;
  created: number;
  /** The platform that created it with POST /v1/accounts (its controller); null otherwise. */
  created_by: string | null;
  /** JSON of domain/onboarding.ts Onboarding; null for accounts complete from the start. */
  onboarding: string | null;
  deleted_at: number | null;
  /** JSON object of the account's metadata (what its platform set through the API); null when empty. */
  metadata: string | null;
}

export interface AccountLinksTable {
  hash: string;
  account_id: string;
  platform_id: string;
  livemode: number;
  type: 'account_onboarding' | 'account_update';
  collect: 'currently_due' | 'eventually_due';
  refresh_url: string;
  return_url: string;
  created: number;
  expires_at: number;
  used_at: number | null;
}

export interface OnboardingSessionsTable {
  /** Random, in the onboarding pages' URLs; usable only with the browser session that opened the link. */
  id: string;
  session_hash: string;
  account_id: string;
  platform_id: string;
  livemode: number;
  refresh_url: string;
  return_url: string;
  created: number;
  expires_at: number;
  finished_at: number | null;
}

export type KeyKind = 'secret' | 'publishable' | 'access_token';

export interface ApiKeysTable {
  hash: string;
  account_id: string;
  mode: 'test' | 'live';
  kind: KeyKind;
  /** Set for access tokens: the connection that minted them. */
  connection_id: string | null;
  scope: string | null;
  last4: string;
  /** Plaintext kept only where it may be shown again: test secret keys and publishable keys. */
  revealable: string | null;
  created: number;
  revoked_at: number | null;
}

export interface PlatformsTable {
  account_id: string;
  name: string;
  icon_url: string | null;
  brand_color: string | null;
  client_id_test: string;
  client_id_live: string;
  /** JSON array of registered redirect URIs; the first is the default. */
  redirect_uris: string;
  require_pkce: number;
  created: number;
}

export interface ConnectionsTable {
  id: string;
  platform_id: string;
  account_id: string;
  /** 1 when connected through the live client_id (grants live and test access). */
  livemode: number;
  scope: string;
  created: number;
  revoked_at: number | null;
  revoked_reason: string | null;
}

export interface AuthorizationCodesTable {
  hash: string;
  platform_id: string;
  client_id: string;
  livemode: number;
  scope: string;
  redirect_uri: string;
  account_id: string;
  code_challenge: string | null;
  created: number;
  expires_at: number;
  consumed_at: number | null;
  connection_id: string | null;
}

export interface RefreshTokensTable {
  hash: string;
  connection_id: string;
  platform_id: string;
  account_id: string;
  scope: string;
  livemode: number;
  created: number;
  revoked_at: number | null;
}

export interface SessionsTable {
  hash: string;
  account_id: string | null;
  csrf: string;
  created: number;
  expires_at: number;
}

export interface AuthorizeRequestsTable {
  id: string;
  session_hash: string;
  params: string;
  created: number;
  expires_at: number;
  completed_at: number | null;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  fingerprint: string;
  state: 'in_flight' | 'done';
  status: number | null;
  body: string | null;
  created: number;
}

export interface EventsTable {
  id: string;
  platform_id: string;
  account_id: string;
  type: string;
  livemode: number;
  api_version: string;
  data: string;
  request_id: string | null;
  idempotency_key: string | null;
  pending_webhooks: number;
  created: number;
  seq: number;
  /** The event JSON as first rendered: every delivery attempt sends these exact bytes. */
  body: string | null;
}

export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  url: string;
  secret_sealed: string;
  livemode: number;
  connect: number;
  enabled_events: string;
  status: string;
  created: number;
  description: string | null;
  /** A rolled secret still signing until it expires (one v1 per active secret). */
  previous_secret_sealed: string | null;
  previous_secret_expires_at: number | null;
  seq: number;
  /**
   * A worker process waiting for its turn on this endpoint while another holds its deliveries
   * (docs/webhooks.md "Delivery"): the holder stops taking more until the turn has passed or this
   * expires (Unix milliseconds).
   */
  claim_wanted_by: string | null;
  claim_wanted_until: number | null;
}

export interface DeliveriesTable {
  id: string;
  event_id: string;
  endpoint_id: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: number;
  /** Unix milliseconds; a claim expires so a crashed worker's deliveries are retried. */
  lease_until: number | null;
  lease_owner: string | null;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  created: number;
}

export interface DeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  attempted_at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  owner: string;
}

export interface ResourcesTable {
  id: string;
  account_id: string;
  livemode: number;
  type: 'customer' | 'charge' | 'refund';
  seq: number;
  created: number;
  email: string | null;
  customer: string | null;
  charge: string | null;
  deleted: number;
  data: string;
}

export interface SettingsTable {
  name: string;
  value: string;
}

export interface ThrottlesTable {
  key: string;
  window_start: number;
  hits: number;
  locked_until: number;
}

export interface Database {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  platforms: PlatformsTable;
  connections: ConnectionsTable;
  authorization_codes: AuthorizationCodesTable;
  refresh_tokens: RefreshTokensTable;
  sessions: SessionsTable;
  authorize_requests: AuthorizeRequestsTable;
  idempotency_keys: IdempotencyKeysTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  settings: SettingsTable;
  resources: ResourcesTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  throttles: ThrottlesTable;
  account_links: AccountLinksTable;
  onboarding_sessions: OnboardingSessionsTable;
}

export type Db = Kysely<Database>;
