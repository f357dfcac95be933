// Accounts: the caller's own (GET /v1/account); Standard accounts a platform creates and onboards
// through the API (POST /v1/accounts, POST and DELETE /v1/accounts/:id; docs/contract.md Part A
// "Accounts API and Account Links", Part B §8.2); one connected account (GET /v1/accounts/:id); a
// platform's connected accounts in the key's mode, created or connected through OAuth (GET /v1/accounts).
import { z } from 'zod';
import { parseMetadata } from '../../domain/account-object.ts';
import { ApiError, noSuch } from '../../domain/errors.ts';
import { isHttpUrl } from '../../domain/http-url.ts';
import { newAccountId, newConnectionId, patterns } from '../../domain/ids.ts';
import { freshOnboarding, parseOnboarding, TEST_BANK_ACCOUNT, type Onboarding } from '../../domain/onboarding.ts';
import type { Context } from '../../context.ts';
import { revokeConnection } from '../../oauth/revoke-connection.ts';
import { createAccount, findAccount, lockAccount, markAccountDeleted, updateAccount, type AccountChanges } from '../../store/accounts.ts';
import { deleteSessionsOfAccount } from '../../store/sessions.ts';
import { connectionCovers, insertConnectionIfNone, listConnectionsOfAccount, listConnectionsOfPlatform } from '../../store/connections.ts';
import { recordResponse } from '../../store/idempotency.ts';
import { revokeOwnKeys } from '../../store/keys.ts';
import { findPlatform } from '../../store/platforms.ts';
import type { AccountsTable } from '../../store/schema.ts';
import { emitAccountUpdated } from '../../webhooks/events.ts';
import { accountObject } from '../../domain/account-object.ts';
import type { ApiCaller } from '../authenticate.ts';
import { listObject, pageInMemory } from '../list.ts';
import { expand, expandOnly, listOnly, mergeMetadata, metadata, paramSchema, parseParams, text } from '../params.ts';
import type { ApiRequest, ApiRoute } from '../route-table.ts';

const httpUrl = z.string().refine((v) => isHttpUrl(v, 500), 'Not a valid URL');

const businessProfile = z
  .object({
    mcc: z.union([z.literal(''), z.string().regex(/^\d{4}$/, 'must be four digits')]).optional(),
    name: text(200).optional(),
    product_description: text(500).optional(),
    support_email: z.union([z.literal(''), z.email().max(512)]).optional(),
    support_phone: text(30).optional(),
    support_url: z.union([z.literal(''), httpUrl]).optional(),
    url: z.union([z.literal(''), httpUrl]).optional(),
  })
  .strict();

const controller = z
  .object({
    fees: z.object({ payer: z.enum(['account', 'application']) }).strict().optional(),
    losses: z.object({ payments: z.enum(['application', 'stripe']) }).strict().optional(),
    requirement_collection: z.enum(['application', 'stripe']).optional(),
    stripe_dashboard: z.object({ type: z.enum(['express', 'full', 'none']) }).strict().optional(),
  })
  .strict();

const businessType = z.enum(['individual', 'company', 'non_profit', 'government_entity']);
const capabilities = z.record(z.string().max(60), z.object({ requested: z.enum(['true', 'false']) }).strict());
// A test bank account token (Stripe's btok_… test tokens): connectd stores Stripe's test bank account.
const externalAccount = z.string().regex(/^btok_[A-Za-z0-9_]{1,64}$/, 'must be a bank account token (btok_…)');
// Refused with its own message (the account holder accepts the terms), so accepted by the schema.
const tosAcceptance = z.record(z.string().max(40), z.unknown());

const common = {
  email: z.email().max(512).optional(),
  default_currency: z.string().regex(/^[a-zA-Z]{3}$/, 'must be a three-letter currency code').optional(),
  business_type: businessType.optional(),
  business_profile: businessProfile.optional(),
  capabilities: capabilities.optional(),
  external_account: externalAccount.optional(),
  metadata: metadata.optional(),
  tos_acceptance: tosAcceptance.optional(),
  expand,
};
const createParams = paramSchema({
  ...common,
  type: z.enum(['standard', 'express', 'custom']).optional(),
  controller: controller.optional(),
  country: z.string().regex(/^[A-Za-z]{2}$/, 'must be a two-letter country code').optional(),
});
const updateParams = paramSchema(common);

const STANDARD = { 'fees.payer': 'account', 'losses.payments': 'stripe', requirement_collection: 'stripe', 'stripe_dashboard.type': 'full' } as const;

/** `type` and `controller` (docs/contract.md Part B §8.2): Standard only, and not both. */
function checkStandard(p: z.infer<typeof createParams>): void {
  if (p.type !== undefined && p.controller !== undefined) {
    throw new ApiError(400, 'You cannot specify both `type` and `controller`: `controller` replaces the deprecated `type`; send one of them.', { param: 'type' });
  }
  if (p.type !== undefined && p.type !== 'standard') {
    throw new ApiError(400, `connectd creates Standard accounts only, not ${p.type} accounts: use type=standard, or controller properties with Standard values.`, { param: 'type' });
  }
  const c = p.controller;
  if (!c) return;
  const given: Record<keyof typeof STANDARD, string | undefined> = {
    'fees.payer': c.fees?.payer,
    'losses.payments': c.losses?.payments,
    requirement_collection: c.requirement_collection,
    'stripe_dashboard.type': c.stripe_dashboard?.type,
  };
  for (const [name, standard] of Object.entries(STANDARD) as [keyof typeof STANDARD, string][]) {
    const value = given[name];
    if (value !== undefined && value !== standard) {
      const param = `controller[${name.replace('.', '][')}]`;
      throw new ApiError(400, `connectd creates Standard accounts only: ${param} must be ${standard} (or left out), not ${value}.`, { param });
    }
  }
}

function refuseTos(p: { tos_acceptance?: unknown }): void {
  if (p.tos_acceptance !== undefined) {
    throw new ApiError(400, 'You cannot accept the terms of service on behalf of an account with access to a Stripe-hosted Dashboard (Standard accounts): the account holder accepts them during onboarding.', { param: 'tos_acceptance' });
  }
}

const orNull = (v: string | undefined, current: string | null) => (v === undefined ? current : v === '' ? null : v);

/** The profile and onboarding changes a create or update asks for, applied to the current state. */
function applyProfile(p: z.infer<typeof updateParams>, account: Pick<AccountsTable, 'email' | 'business_name' | 'url' | 'default_currency' | 'metadata'>, o: Onboarding) {
  const bp = p.business_profile ?? {};
  const onboarding: Onboarding = {
    ...o,
    business_type: p.business_type ?? o.business_type,
    mcc: orNull(bp.mcc, o.mcc),
    product_description: orNull(bp.product_description, o.product_description),
    support_email: orNull(bp.support_email, o.support_email),
    support_phone: orNull(bp.support_phone, o.support_phone),
    support_url: orNull(bp.support_url, o.support_url),
    external_account: p.external_account !== undefined ? TEST_BANK_ACCOUNT : o.external_account,
  };
  const metadata = mergeMetadata(parseMetadata(account.metadata), p.metadata);
  const changes: AccountChanges = {
    ...(p.email !== undefined ? { email: p.email.toLowerCase() } : {}),
    ...(bp.name !== undefined ? { business_name: bp.name === '' ? null : bp.name } : {}),
    ...(bp.url !== undefined ? { url: bp.url === '' ? null : bp.url } : {}),
    ...(p.default_currency !== undefined ? { default_currency: p.default_currency.toLowerCase() } : {}),
    ...(p.metadata !== undefined ? { metadata: Object.keys(metadata).length ? JSON.stringify(metadata) : null } : {}),
    onboarding: JSON.stringify(onboarding),
  };
  return { changes, next: { ...account, ...changes } };
}

/** Creating accounts is the platform's own business: its own secret key, no Stripe-Account. */
async function requirePlatform(ctx: Context, caller: ApiCaller) {
  if (caller.viaAccessToken || caller.accountId !== caller.keyAccountId) {
    throw new ApiError(403, 'Connect platforms cannot create new accounts on behalf of their connected accounts.');
  }
  const platform = await findPlatform(ctx.store.db, caller.keyAccountId);
  if (!platform) throw new ApiError(400, "You can only create new accounts if you've signed up for Connect, which you can learn how to do at https://stripe.com/docs/connect.");
  return platform;
}

/** The account a platform created, acting on it with its own key (Stripe-Account implied by the URL). */
function requireController(req: ApiRequest, account: AccountsTable | undefined, action: 'update' | 'delete'): AccountsTable {
  const id = req.path.id ?? '';
  if (!patterns.account.test(id) || !account || account.deleted_at !== null) throw noSuch('account', id);
  if (req.caller.viaAccessToken || account.created_by !== req.caller.keyAccountId || req.caller.accountId === req.caller.keyAccountId) {
    if (action === 'delete') throw new ApiError(400, 'This application is not authorized to delete this account.', { param: 'account' });
    throw new ApiError(403, 'This application cannot update this account: only the platform that created a Standard account through the API may update it (an account connected through OAuth manages its own details).');
  }
  return account;
}

const impliesAccount = (path: Record<string, string>) => (path.id && patterns.account.test(path.id) ? path.id : undefined);

export const accountRoutes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/v1/account',
    access: 'read',
    handler: async (ctx, req) => {
      parseParams(expandOnly, req.params);
      const account = await findAccount(ctx.store.db, req.caller.accountId);
      if (!account) throw noSuch('account', req.caller.accountId);
      return accountObject(account);
    },
  },
  {
    method: 'POST',
    path: '/v1/accounts',
    access: 'write',
    handler: async (ctx, req) => {
      const p = parseParams(createParams, req.params);
      const platform = await requirePlatform(ctx, req.caller);
      checkStandard(p);
      refuseTos(p);
      const now = ctx.clock.now();
      const country = (p.country ?? (await findAccount(ctx.store.db, platform.account_id))?.country ?? 'US').toUpperCase();
      const base = { email: '', business_name: null, url: null, default_currency: p.default_currency?.toLowerCase() ?? '', metadata: null };
      const { next } = applyProfile(p, base, freshOnboarding());
      return ctx.store.transaction(async (trx) => {
        const { account } = await createAccount(trx, ctx.hash, now, {
          id: newAccountId(),
          email: next.email,
          passwordHash: null,
          businessName: next.business_name,
          country,
          url: next.url,
          testOnly: req.caller.mode === 'test',
          createdBy: platform.account_id,
          onboarding: next.onboarding ?? JSON.stringify(freshOnboarding()),
          ...(next.metadata ? { metadata: next.metadata } : {}),
          ...(next.default_currency ? { defaultCurrency: next.default_currency } : {}),
        });
        // Connected to its creator at once, in the key's mode, with full access (no OAuth).
        await insertConnectionIfNone(trx, {
          id: newConnectionId(),
          platform_id: platform.account_id,
          account_id: account.id,
          livemode: req.caller.mode === 'live' ? 1 : 0,
          scope: 'read_write',
          created: now,
          revoked_at: null,
          revoked_reason: null,
        });
        const body = accountObject(account, { controller: true });
        await recordResponse(trx, { body });
        return body;
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/accounts/:id',
    access: 'read',
    impliesAccount,
    handler: async (ctx, req) => {
      parseParams(expandOnly, req.params);
      const id = req.path.id ?? '';
      if (!patterns.account.test(id)) throw noSuch('account', id);
      const account = await findAccount(ctx.store.db, req.caller.accountId);
      if (!account || account.deleted_at !== null) throw noSuch('account', id);
      return accountObject(account, { controller: account.created_by === req.caller.keyAccountId && !req.caller.viaAccessToken });
    },
  },
  {
    method: 'POST',
    path: '/v1/accounts/:id',
    access: 'write',
    impliesAccount,
    handler: async (ctx, req) => {
      const p = parseParams(updateParams, req.params);
      refuseTos(p);
      return ctx.store.transaction(async (trx) => {
        const before = requireController(req, await lockAccount(trx, req.caller.accountId), 'update');
        const o = parseOnboarding(before.onboarding) ?? freshOnboarding();
        // Once onboarding has started, Stripe collects these from the account holder (docs/contract.md Part B §8.2).
        if (o.link_created) {
          for (const frozen of ['business_type', 'external_account'] as const) {
            if (p[frozen] !== undefined) {
              throw new ApiError(400, `This account has started onboarding through an Account Link: \`${frozen}\` can no longer be changed by the platform; the account holder provides it.`, { param: frozen });
            }
          }
        }
        // The holder signs in with the account's email once they chose a password: from then on it is
        // theirs to change, in their own dashboard (connectd's decision, docs/contract.md Part B §8.2).
        if (p.email !== undefined && before.password_hash !== null && p.email.toLowerCase() !== before.email) {
          throw new ApiError(400, "This account's holder signs in with its email; only they can change it, from their dashboard.", { param: 'email' });
        }
        const { changes } = applyProfile(p, before, o);
        await updateAccount(trx, before.id, changes);
        const after: AccountsTable = { ...before, ...changes };
        await emitAccountUpdated(trx, ctx, { before, after, origin: { requestId: req.requestId, idempotencyKey: req.idempotencyKey } });
        const body = accountObject(after, { controller: true });
        await recordResponse(trx, { body });
        return body;
      });
    },
  },
  {
    method: 'DELETE',
    path: '/v1/accounts/:id',
    access: 'write',
    impliesAccount,
    handler: async (ctx, req) => {
      parseParams(expandOnly, req.params);
      const origin = { requestId: req.requestId, idempotencyKey: req.idempotencyKey };
      return ctx.store.transaction(async (trx) => {
        const account = requireController(req, await lockAccount(trx, req.caller.accountId), 'delete');
        // Live Standard accounts cannot be deleted by their platform (Stripe API reference "Delete an
        // account"): by the account's mode, not the key's, since a live connection lets the test key in.
        if (account.test_only === 0) throw new ApiError(400, 'This application is not authorized to delete this account.', { param: 'account' });
        const now = ctx.clock.now();
        await markAccountDeleted(trx, account.id, now);
        await revokeOwnKeys(trx, account.id, now);
        await deleteSessionsOfAccount(trx, account.id);
        // Every platform connected to it loses it, each told in its connection's mode (docs/contract.md Part B §8.2).
        for (const connection of await listConnectionsOfAccount(trx, account.id)) {
          const platform = await findPlatform(trx, connection.platform_id);
          if (platform) await revokeConnection(trx, ctx, { connection, platform, reason: 'account_deleted', livemode: connection.livemode === 1, origin });
        }
        const body = { id: account.id, object: 'account', deleted: true };
        await recordResponse(trx, { body });
        return body;
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/accounts',
    access: 'read',
    ownKeyOnly: true,
    handler: async (ctx, req) => {
      const p = parseParams(listOnly, req.params);
      // Newest connection first; a platform's connected accounts are few enough to page in memory.
      // `created` has one-second resolution: ties are broken by id so that pages stay consistent.
      const connections = (await listConnectionsOfPlatform(ctx.store.db, req.caller.accountId))
        .filter((c) => connectionCovers(c, req.caller.mode))
        .sort((x, y) => y.created - x.created || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0));
      const { page, hasMore } = pageInMemory(connections.map((c) => c.account_id), (id) => id, p, 'account');
      const accounts = [];
      for (const id of page) {
        const a = await findAccount(ctx.store.db, id);
        if (a) accounts.push(accountObject(a, { controller: a.created_by === req.caller.accountId }));
      }
      return listObject('/v1/accounts', accounts, hasMore);
    },
  },
];
