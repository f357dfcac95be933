// Seed files (docs/seed.md): declare accounts, keys, platforms and webhook endpoints with fixed
// values so a test suite is deterministic. Applying the same seed twice changes nothing.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { newClientId, newWebhookSecret } from './domain/ids.ts';
import { findEndpointByUrl, insertEndpoint } from './store/webhook-endpoints.ts';
import { checkRegisteredRedirectUri } from './domain/redirect-uri.ts';
import { hashPassword, isPendingPasswordHash, newPendingPasswordHash, registerPendingPasswordHash } from './domain/secrets.ts';
import type { Context } from './context.ts';
import { createAccount, findAccount, findLoginAccount, replacePasswordPlaceholder } from './store/accounts.ts';
import type { AccountsTable } from './store/schema.ts';
import { findPlatform, findPlatformByClientId, insertPlatform, updatePlatform } from './store/platforms.ts';

const prefixed = (prefix: string) => z.string().regex(new RegExp(`^${prefix}[A-Za-z0-9]+$`), `must start with ${prefix} followed by letters and digits`);
const redirectUri = z.string().superRefine((v, c) => {
  const problem = checkRegisteredRedirectUri(v);
  if (problem) c.addIssue({ code: 'custom', message: problem });
});

const seedSchema = z.object({
  accounts: z.array(
    z.object({
      id: prefixed('acct_').optional(),
      email: z.email(),
      password: z.string().min(8, 'must be at least 8 characters'),
      business_name: z.string().min(1).max(200).optional(),
      country: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter country code').optional(),
      keys: z
        .object({
          test_secret: prefixed('sk_test_').optional(),
          test_publishable: prefixed('pk_test_').optional(),
          // A live key must be unguessable: at least 24 random characters, as Stripe's own are
          // (docs/seed.md). `sk_live_1` would open a live account to anyone who tries.
          live_secret: prefixed('sk_live_').refine((v) => v.length >= 'sk_live_'.length + 24, 'must have at least 24 letters and digits after sk_live_').optional(),
          live_publishable: prefixed('pk_live_').optional(),
        })
        .strict()
        .optional(),
      platform: z
        .object({
          name: z.string().min(1).max(100),
          client_id_test: prefixed('ca_').optional(),
          client_id_live: prefixed('ca_').optional(),
          icon_url: z.url({ protocol: /^https$/ }).optional(),
          brand_color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must look like #635bff').optional(),
          redirect_uris: z.array(redirectUri).max(50).optional(),
          require_pkce: z.boolean().optional(),
          webhook_endpoints: z
            .array(z.object({ url: z.url({ protocol: /^https?$/ }), secret: prefixed('whsec_').optional(), livemode: z.boolean().optional() }))
            .optional(),
        })
        .optional(),
    }),
  ),
});

export type Seed = z.infer<typeof seedSchema>;

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

export function parseSeed(json: unknown, source: string): Seed {
  const result = seedSchema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = (issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  throw new SeedError(`seed ${source}: ${path || '(root)'}: ${issue?.message ?? 'invalid'}`);
}

export function readSeedFile(path: string): Seed {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SeedError(`seed ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SeedError(`seed ${path}: not valid JSON (${err instanceof Error ? err.message : 'parse error'})`);
  }
  return parseSeed(json, path);
}

export interface SeededAccount {
  id: string;
  email: string;
  platform: { clientIdTest: string; clientIdLive: string; redirectUris: string[] } | null;
}

export interface AppliedSeed {
  accounts: SeededAccount[];
  /**
   * Settles once the seeded accounts' password hashes are stored. They are computed after the
   * rows are written, while the server starts: scrypt (a quarter of a second of CPU each) would
   * otherwise dominate a first start. Until then a sign-in as such an account waits for
   * its hash (domain/secrets.ts registerPendingPasswordHash); no password is accepted without it.
   */
  passwordsStored: Promise<void>;
  /** Stops storing hashes not yet stored (the start failed and the store is closing). */
  abandon(): void;
}

interface PasswordJob {
  accountId: string;
  placeholder: string;
  password: string;
}

export async function applySeed(ctx: Context, seed: Seed): Promise<AppliedSeed> {
  const out: SeededAccount[] = [];
  const jobs: PasswordJob[] = [];
  // An account left with a placeholder (its process died before storing the hash, or another
  // process is hashing it now) gets its hash computed here too; the update below keeps whichever
  // real hash lands first.
  const adopt = (row: AccountsTable, password: string) => {
    if (row.password_hash !== null && isPendingPasswordHash(row.password_hash)) jobs.push({ accountId: row.id, placeholder: row.password_hash, password });
  };
  for (const [i, a] of seed.accounts.entries()) {
    const existing = (a.id ? await findAccount(ctx.store.db, a.id) : undefined) ?? (await findLoginAccount(ctx.store.db, a.email));
    let accountId = existing?.id;
    if (existing) adopt(existing, a.password);
    if (!accountId) {
      const placeholder = newPendingPasswordHash();
      try {
        const created = await ctx.store.transaction((trx) =>
          createAccount(trx, ctx.hash, ctx.clock.now(), {
            ...(a.id ? { id: a.id } : {}),
            email: a.email,
            passwordHash: placeholder,
            businessName: a.business_name ?? null,
            country: a.country ?? 'US',
            ...(a.keys ? { keys: a.keys } : {}),
          }),
        );
        accountId = created.account.id;
        jobs.push({ accountId, placeholder, password: a.password });
      } catch (err) {
        // Another process applying the same seed got there first.
        const raced = (a.id ? await findAccount(ctx.store.db, a.id) : undefined) ?? (await findLoginAccount(ctx.store.db, a.email));
        if (!raced) throw new SeedError(`seed: accounts[${i}]: could not be created (${err instanceof Error ? err.message : 'error'}); is a key or id already used by another account?`);
        accountId = raced.id;
        adopt(raced, a.password);
      }
    }
    let platform = null;
    if (a.platform) {
      const p = a.platform;
      const current = await findPlatform(ctx.store.db, accountId);
      if (!current) {
        // A client_id names one platform, whichever column holds it.
        for (const cid of [p.client_id_test, p.client_id_live]) {
          const holder = cid ? await findPlatformByClientId(ctx.store.db, cid) : undefined;
          if (holder) throw new SeedError(`seed: accounts[${i}].platform: client_id ${cid} is already used by another platform`);
        }
        if (p.client_id_test && p.client_id_test === p.client_id_live) {
          throw new SeedError(`seed: accounts[${i}].platform.client_id_live: must differ from client_id_test`);
        }
        await insertPlatform(ctx.store.db, {
          account_id: accountId,
          name: p.name,
          icon_url: p.icon_url ?? null,
          brand_color: p.brand_color?.toLowerCase() ?? null,
          client_id_test: p.client_id_test ?? newClientId(),
          client_id_live: p.client_id_live ?? newClientId(),
          redirect_uris: p.redirect_uris ?? [],
          require_pkce: p.require_pkce ? 1 : 0,
          created: ctx.clock.now(),
        }).catch((err: unknown) => {
          throw new SeedError(`seed: accounts[${i}].platform: could not be created (${err instanceof Error ? err.message : 'error'}); is a client_id already used?`);
        });
      } else {
        // Existing platforms keep their settings; seeded redirect URIs missing from them are added.
        const missing = (p.redirect_uris ?? []).filter((u) => !current.redirect_uris.includes(u));
        if (missing.length) await updatePlatform(ctx.store.db, accountId, { redirect_uris: [...current.redirect_uris, ...missing] });
      }
      for (const w of p.webhook_endpoints ?? []) {
        const livemode = w.livemode ? 1 : 0;
        const present = await findEndpointByUrl(ctx.store.db, accountId, w.url, livemode);
        if (present) continue;
        await insertEndpoint(ctx.store.db, ctx.sealKey, {
          accountId,
          url: w.url,
          secret: w.secret ?? newWebhookSecret(),
          livemode: livemode === 1,
          connect: true,
          enabledEvents: ['*'],
          now: ctx.clock.now(),
        });
      }
      const saved = await findPlatform(ctx.store.db, accountId);
      if (saved) platform = { clientIdTest: saved.client_id_test, clientIdLive: saved.client_id_live, redirectUris: saved.redirect_uris };
    }
    out.push({ id: accountId, email: a.email, platform });
  }
  return { accounts: out, ...storePasswordHashes(ctx, jobs) };
}

/** Hashes one password at a time (each scrypt holds 32 MiB), registered before the server listens. */
function storePasswordHashes(ctx: Context, jobs: PasswordJob[]): Pick<AppliedSeed, 'passwordsStored' | 'abandon'> {
  let abandoned = false;
  let chain: Promise<void> = Promise.resolve();
  for (const job of jobs) {
    const hash = chain.then(() => (abandoned ? Promise.reject(new Error('server stopped')) : hashPassword(job.password)));
    registerPendingPasswordHash(job.placeholder, hash);
    chain = hash
      .then(async (passwordHash) => {
        if (abandoned) return;
        // Only over the placeholder: a password changed meanwhile, or a hash stored by another
        // process applying the same seed, stays.
        await replacePasswordPlaceholder(ctx.store.db, job.accountId, job.placeholder, passwordHash);
      })
      .catch((err: unknown) => {
        if (!abandoned) ctx.log.warn({ event: 'seed.password_failed', account: job.accountId, message: err instanceof Error ? err.message : String(err) }, 'could not store a seeded password hash; the next start retries');
      });
  }
  return {
    passwordsStored: chain,
    abandon: () => {
      abandoned = true;
    },
  };
}

export const DEMO_PLATFORM = { email: 'platform@example.com', password: 'demo-platform-password' };
export const DEMO_MERCHANT = { email: 'merchant@example.com', password: 'demo-merchant-password' };

/** The seed `npm start` uses without --seed: a development platform and a merchant to connect. */
export function demoSeed(publicUrl: string): Seed {
  return {
    accounts: [
      {
        ...DEMO_PLATFORM,
        business_name: 'Demo Platform',
        country: 'US',
        platform: {
          name: 'Demo Platform',
          brand_color: '#635bff',
          redirect_uris: [`${publicUrl}/connect/default/oauth/test`, 'http://127.0.0.1:4000/callback', 'http://localhost:4000/callback'],
        },
      },
      { ...DEMO_MERCHANT, business_name: 'Demo Merchant', country: 'US' },
    ],
  };
}
