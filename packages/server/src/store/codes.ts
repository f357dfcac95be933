// Authorization codes: stored by hash, consumed by one atomic statement (docs/architecture.md "Habits").
import { precompile } from './prepared.ts';
import type { AuthorizationCodesTable, Db } from './schema.ts';

export function insertCode(db: Db, row: AuthorizationCodesTable): Promise<unknown> {
  return db.insertInto('authorization_codes').values(row).execute();
}

const codeByHash = precompile((db: Db, p: { hash: string }) => db.selectFrom('authorization_codes').selectAll().where('hash', '=', p.hash));

export function findCode(db: Db, hash: string): Promise<AuthorizationCodesTable | undefined> {
  return codeByHash.first(db, { hash });
}

/**
 * Consumes a code if it is unused and unexpired, in one UPDATE … RETURNING: of any number of
 * concurrent callers exactly one gets the row (docs/security-model.md CD-02, DS-01).
 */
const codeConsume = precompile((db: Db, p: { hash: string; now: number }) =>
  db
    .updateTable('authorization_codes')
    .set({ consumed_at: p.now })
    .where('hash', '=', p.hash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', p.now)
    .returningAll(),
);

export function consumeCode(db: Db, hash: string, now: number): Promise<AuthorizationCodesTable | undefined> {
  return codeConsume.first(db, { hash, now });
}

const codeConnectionSet = precompile((db: Db, p: { hash: string; connectionId: string }) =>
  db.updateTable('authorization_codes').set({ connection_id: p.connectionId }).where('hash', '=', p.hash),
);

export function setCodeConnection(db: Db, hash: string, connectionId: string): Promise<unknown> {
  return codeConnectionSet.run(db, { hash, connectionId });
}
