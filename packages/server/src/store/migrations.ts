// Versioned migrations: one code path for SQLite and PostgreSQL (Kysely's schema builder).
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const BIG = 'bigint' as const;

const m0001: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('business_name', 'text')
      .addColumn('country', 'text', (c) => c.notNull())
      .addColumn('default_currency', 'text', (c) => c.notNull())
      .addColumn('url', 'text')
      .addColumn('test_only', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created', BIG, (c) => c.notNull())
      .execute();
    // Only accounts that can log in need a unique email; "Skip this form" accounts may share one.
    await db.schema
      .createIndex('accounts_login_email')
      .on('accounts')
      .column('email')
      .unique()
      .where(sql.ref('password_hash'), 'is not', null)
      .execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('connection_id', 'text')
      .addColumn('scope', 'text')
      .addColumn('last4', 'text', (c) => c.notNull())
      .addColumn('revealable', 'text')
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('revoked_at', BIG)
      .execute();
    await db.schema.createIndex('api_keys_account').on('api_keys').columns(['account_id', 'kind', 'mode']).execute();
    await db.schema.createIndex('api_keys_connection').on('api_keys').column('connection_id').execute();

    await db.schema
      .createTable('platforms')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('icon_url', 'text')
      .addColumn('brand_color', 'text')
      .addColumn('client_id_test', 'text', (c) => c.notNull().unique())
      .addColumn('client_id_live', 'text', (c) => c.notNull().unique())
      .addColumn('redirect_uris', 'text', (c) => c.notNull())
      .addColumn('require_pkce', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created', BIG, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('connections')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('platform_id', 'text', (c) => c.notNull().references('platforms.account_id'))
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('revoked_at', BIG)
      .addColumn('revoked_reason', 'text')
      .execute();
    // At most one live connection per (platform, account); history rows keep revoked_at.
    await db.schema
      .createIndex('connections_active')
      .on('connections')
      .columns(['platform_id', 'account_id'])
      .unique()
      .where(sql.ref('revoked_at'), 'is', null)
      .execute();
    await db.schema.createIndex('connections_account').on('connections').column('account_id').execute();

    await db.schema
      .createTable('authorization_codes')
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('platform_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('code_challenge', 'text')
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('expires_at', BIG, (c) => c.notNull())
      .addColumn('consumed_at', BIG)
      .addColumn('connection_id', 'text')
      .execute();

    await db.schema
      .createTable('refresh_tokens')
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('connection_id', 'text', (c) => c.notNull())
      .addColumn('platform_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('revoked_at', BIG)
      .execute();
    await db.schema.createIndex('refresh_tokens_connection').on('refresh_tokens').column('connection_id').execute();

    await db.schema
      .createTable('sessions')
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text')
      .addColumn('csrf', 'text', (c) => c.notNull())
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('expires_at', BIG, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('authorize_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('session_hash', 'text', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('expires_at', BIG, (c) => c.notNull())
      .addColumn('completed_at', BIG)
      .execute();

    await db.schema
      .createTable('idempotency_keys')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('status', 'integer')
      .addColumn('body', 'text')
      .addColumn('created', BIG, (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
      .execute();

    await db.schema
      .createTable('events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('platform_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('api_version', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('request_id', 'text')
      .addColumn('idempotency_key', 'text')
      .addColumn('pending_webhooks', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('seq', BIG, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_platform').on('events').columns(['platform_id', 'seq']).execute();

    await db.schema
      .createTable('webhook_endpoints')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('connect', 'integer', (c) => c.notNull())
      .addColumn('enabled_events', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created', BIG, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('settings')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};

// /v1 resources (customers, charges, refunds) of an account in one mode. The object itself is
// JSON in `data`; the columns are what lists filter and page on.
const m0002: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('resources')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('seq', BIG, (c) => c.notNull())
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('email', 'text')
      .addColumn('customer', 'text')
      .addColumn('charge', 'text')
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('resources_list').on('resources').columns(['account_id', 'livemode', 'type', 'seq']).execute();
  },
};

// Webhook delivery: the outbox queue (one row per event × endpoint), its attempt log, the event's
// body as first rendered (every attempt sends the same bytes), and rolled endpoint secrets.
const m0003: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('events').addColumn('body', 'text').execute();
    await db.schema.alterTable('webhook_endpoints').addColumn('description', 'text').execute();
    await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret_sealed', 'text').execute();
    await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret_expires_at', BIG).execute();
    await db.schema.alterTable('webhook_endpoints').addColumn('seq', BIG, (c) => c.notNull().defaultTo(0)).execute();
    await db.schema
      .createTable('deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('event_id', 'text', (c) => c.notNull().references('events.id'))
      .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoints.id'))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', BIG, (c) => c.notNull())
      .addColumn('lease_until', BIG)
      .addColumn('lease_owner', 'text')
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('last_duration_ms', 'integer')
      .addColumn('created', BIG, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('deliveries_due').on('deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('deliveries_endpoint').on('deliveries').columns(['endpoint_id', 'created']).execute();
    await db.schema.createIndex('deliveries_event').on('deliveries').column('event_id').execute();
    await db.schema
      .createTable('delivery_attempts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('delivery_id', 'text', (c) => c.notNull().references('deliveries.id'))
      .addColumn('attempted_at', BIG, (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('error', 'text')
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('delivery_attempts_delivery').on('delivery_attempts').column('delivery_id').execute();
  },
};

// Throttling counters shared by every process (docs/security.md "Throttling").
const m0004: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('throttles')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('window_start', BIG, (c) => c.notNull())
      .addColumn('hits', 'integer', (c) => c.notNull())
      .addColumn('locked_until', BIG, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('throttles_locked').on('throttles').column('locked_until').execute();
  },
};

// Batched webhook delivery (issue 8, docs/webhooks.md "Delivery"): a worker leases a batch of one
// endpoint's due deliveries only while no other process holds a live lease on that endpoint, so
// the claim looks up due rows and live leases by endpoint; and a waiting process marks the
// endpoint so the holder lets it have the next turn.
const m0005: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('webhook_endpoints').addColumn('claim_wanted_by', 'text').execute();
    await db.schema.alterTable('webhook_endpoints').addColumn('claim_wanted_until', BIG).execute();
    await db.schema.createIndex('deliveries_endpoint_due').on('deliveries').columns(['endpoint_id', 'status', 'next_attempt_at']).execute();
    await db.schema.createIndex('deliveries_endpoint_lease').on('deliveries').columns(['endpoint_id', 'status', 'lease_until']).execute();
  },
};

// A connection's live access tokens, looked up by every refresh (which revokes the previous token
// of its scope and mode) and every revocation. The plain index on connection_id also held every
// token revoked before, so a connection refreshed n times had each refresh scan n rows: refreshes
// slowed down as they accumulated (docs/performance.md "Latest figures"). The live ones only.
const m0006: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('api_keys_connection_live').on('api_keys').column('connection_id').where(sql.ref('revoked_at'), 'is', null).execute();
    await db.schema.dropIndex('api_keys_connection').execute();
  },
};

// Accounts created through the API and onboarded through Account Links (issue 11,
// docs/contract.md Part A "Accounts API and Account Links"): who created the account, its
// onboarding state (null for accounts that signed up on connectd's pages, which are complete),
// deletion; the links themselves (single use, hashed); and the onboarding sessions a link opens.
const m0007: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('accounts').addColumn('created_by', 'text').execute();
    await db.schema.alterTable('accounts').addColumn('onboarding', 'text').execute();
    await db.schema.alterTable('accounts').addColumn('deleted_at', BIG).execute();
    await db.schema.alterTable('accounts').addColumn('metadata', 'text').execute();
    await db.schema.createIndex('accounts_created_by').on('accounts').column('created_by').where(sql.ref('created_by'), 'is not', null).execute();
    await db.schema
      .createTable('account_links')
      .addColumn('hash', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('platform_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('collect', 'text', (c) => c.notNull())
      .addColumn('refresh_url', 'text', (c) => c.notNull())
      .addColumn('return_url', 'text', (c) => c.notNull())
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('expires_at', BIG, (c) => c.notNull())
      .addColumn('used_at', BIG)
      .execute();
    await db.schema
      .createTable('onboarding_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('session_hash', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('platform_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('refresh_url', 'text', (c) => c.notNull())
      .addColumn('return_url', 'text', (c) => c.notNull())
      .addColumn('created', BIG, (c) => c.notNull())
      .addColumn('expires_at', BIG, (c) => c.notNull())
      .addColumn('finished_at', BIG)
      .execute();
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({
    '0001_initial': m0001,
    '0002_resources': m0002,
    '0003_webhook_delivery': m0003,
    '0004_throttles': m0004,
    '0005_delivery_batches': m0005,
    '0006_live_access_tokens': m0006,
    '0007_account_onboarding': m0007,
  }),
};
