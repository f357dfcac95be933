// Accounts: the caller's own (GET /v1/account), one connected account (GET /v1/accounts/:id),
// and a platform's connected accounts in the key's mode (GET /v1/accounts).
import { ApiError } from '../../domain/errors.ts';
import { patterns } from '../../domain/ids.ts';
import { findAccount } from '../../store/accounts.ts';
import { connectionCovers, listConnectionsOfPlatform } from '../../store/connections.ts';
import { accountObject } from '../account.ts';
import { listObject } from '../list.ts';
import { expand, listParams, parseParams } from '../params.ts';
import type { ApiRoute } from '../route-table.ts';
import { noSuch } from './customers.ts';

export const accountRoutes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/v1/account',
    access: 'read',
    handler: async (ctx, req) => {
      parseParams({ expand }, req.params);
      const account = await findAccount(ctx.store.db, req.caller.accountId);
      if (!account) throw noSuch('account', req.caller.accountId);
      return accountObject(account);
    },
  },
  {
    method: 'GET',
    path: '/v1/accounts/:id',
    access: 'read',
    impliesAccount: (path) => (path.id && patterns.account.test(path.id) ? path.id : undefined),
    handler: async (ctx, req) => {
      parseParams({ expand }, req.params);
      const id = req.path.id ?? '';
      if (!patterns.account.test(id)) throw noSuch('account', id);
      const account = await findAccount(ctx.store.db, req.caller.accountId);
      if (!account) throw noSuch('account', id);
      return accountObject(account);
    },
  },
  {
    method: 'GET',
    path: '/v1/accounts',
    access: 'read',
    ownKeyOnly: true,
    handler: async (ctx, req) => {
      const p = parseParams(listParams, req.params);
      if (p.starting_after !== undefined && p.ending_before !== undefined) {
        throw new ApiError(400, 'invalid_request_error', 'You may only specify one of these parameters: ending_before, starting_after.');
      }
      // Newest connection first; a platform's connected accounts are few enough to page in memory.
      // `created` has one-second resolution: ties are broken by id so that pages stay consistent.
      const connections = (await listConnectionsOfPlatform(ctx.store.db, req.caller.accountId))
        .filter((c) => connectionCovers(c, req.caller.mode))
        .sort((x, y) => y.created - x.created || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0));
      let ids = connections.map((c) => c.account_id);
      const cursor = p.starting_after ?? p.ending_before;
      if (cursor !== undefined) {
        const at = ids.indexOf(cursor);
        if (at < 0) throw noSuch('account', cursor, p.starting_after !== undefined ? 'starting_after' : 'ending_before');
        ids = p.starting_after !== undefined ? ids.slice(at + 1) : ids.slice(0, at);
      }
      const limit = p.limit ?? 10;
      const page = p.ending_before !== undefined ? ids.slice(Math.max(0, ids.length - limit)) : ids.slice(0, limit);
      const accounts = [];
      for (const id of page) {
        const a = await findAccount(ctx.store.db, id);
        if (a) accounts.push(accountObject(a));
      }
      return listObject('/v1/accounts', accounts, ids.length > page.length);
    },
  },
];
