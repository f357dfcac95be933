// OAuth scopes for Standard accounts (docs/contract.md Part B §1.1, §2.3): read_write ⊃ read_only.
export type Scope = 'read_only' | 'read_write';

export function parseScope(value: string): Scope | null {
  return value === 'read_only' || value === 'read_write' ? value : null;
}

/** True when `requested` is equal to or narrower than `granted`. */
export function scopeWithin(requested: Scope, granted: Scope): boolean {
  return requested === granted || (requested === 'read_only' && granted === 'read_write');
}

export const scopeDescriptions: Record<Scope, string[]> = {
  read_only: ['See your account details, customers, charges and payouts'],
  read_write: [
    'See your account details, customers, charges and payouts',
    'Create charges, refunds and customers on your behalf',
    'Update your account and payment data',
  ],
};
