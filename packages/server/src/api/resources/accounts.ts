// Accounts: the caller's own (GET /v1/account), one connected account (GET /v1/accounts/:id),
// and a platform's connected accounts in the key's mode (GET /v1/accounts).
import { patterns } from '../../domain/ids.ts';
import { findAccount } from '../../store/accounts.ts';
import { connectionCovers, listConnectionsOfPlatform } from '../../store/connections.ts';
import { accountObject } from '../account.ts';
import { listObject, pageInMemory } from '../list.ts';
import { expandOnly, listOnly, parseParams } from '../params.ts';
import type { ApiRoute } from '../route-table.ts';
import { noSuch } from '../../domain/errors.ts';

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
    method: 'GET',
    path: '/v1/accounts/:id',
    access: 'read',
    impliesAccount: (path) => (path.id && patterns.account.test(path.id) ? path.id : undefined),
    handler: async (ctx, req) => {
      parseParams(expandOnly, req.params);
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
        if (a) accounts.push(accountObject(a));
      }
      return listObject('/v1/accounts', accounts, hasMore);
    },
  },
];
