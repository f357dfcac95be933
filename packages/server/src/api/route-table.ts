// Every /v1 route declares whether it reads or writes (docs/contract.md Part A "Acting on behalf";
// docs/security-model.md AP-01). A read_only connection may only read; an undeclared route is a write.
import type { Context } from '../context.ts';
import type { ApiCaller } from './authenticate.ts';

export type Access = 'read' | 'write';
export type Method = 'GET' | 'POST' | 'DELETE';

export interface ApiRequest {
  caller: ApiCaller;
  params: Record<string, unknown>;
  path: Record<string, string>;
  requestId: string;
  idempotencyKey: string | null;
}

export interface ApiRoute {
  method: Method;
  /** Fastify path, e.g. /v1/customers/:id */
  path: string;
  access: Access;
  /** Account named in the URL: it implies Stripe-Account (docs/contract.md Part B §5.1). */
  impliesAccount?: (path: Record<string, string>) => string | undefined;
  /** Only the authenticating account itself may call it (no Stripe-Account, no access token). */
  ownKeyOnly?: boolean;
  /** With ownKeyOnly: the platform's own key plus Stripe-Account is allowed too (its view of that account). */
  onBehalf?: boolean;
  handler: (ctx: Context, req: ApiRequest) => Promise<unknown>;
}

/** The access a route requires; routes missing from the table count as writes. */
export function accessOf(routes: readonly ApiRoute[], method: string, path: string): Access {
  return routes.find((r) => r.method === method && r.path === path)?.access ?? 'write';
}
