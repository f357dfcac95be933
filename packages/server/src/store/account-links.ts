// Account Links (docs/contract.md Part B §8.3) and the onboarding sessions they open. Link tokens
// are stored only as keyed hashes (docs/contract.md Part A "Secrets at rest").
import type { AccountLinksTable, Db, OnboardingSessionsTable } from './schema.ts';

export async function insertAccountLink(db: Db, row: AccountLinksTable): Promise<void> {
  await db.insertInto('account_links').values(row).execute();
}

export function findAccountLink(db: Db, hash: string): Promise<AccountLinksTable | undefined> {
  return db.selectFrom('account_links').selectAll().where('hash', '=', hash).executeTakeFirst();
}

/** Marks a link used; false when it was already used (single use, even under concurrent visits). */
export async function useAccountLink(db: Db, hash: string, now: number): Promise<boolean> {
  const rows = await db.updateTable('account_links').set({ used_at: now }).where('hash', '=', hash).where('used_at', 'is', null).returning('hash').execute();
  return rows.length === 1;
}

export async function insertOnboardingSession(db: Db, row: OnboardingSessionsTable): Promise<void> {
  await db.insertInto('onboarding_sessions').values(row).execute();
}

export function findOnboardingSession(db: Db, id: string): Promise<OnboardingSessionsTable | undefined> {
  return db.selectFrom('onboarding_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function finishOnboardingSession(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable('onboarding_sessions').set({ finished_at: now }).where('id', '=', id).execute();
}
