// The /v1 route table: every route with its declared access (read or write).
import { accountLinkRoutes } from './resources/account-links.ts';
import { accountRoutes } from './resources/accounts.ts';
import { chargeRoutes } from './resources/charges.ts';
import { customerRoutes } from './resources/customers.ts';
import { eventRoutes } from './resources/events.ts';
import { testHelperRoutes } from './resources/test-helpers.ts';
import { webhookEndpointRoutes } from './resources/webhook-endpoints.ts';
import type { ApiRoute } from './route-table.ts';

export const API_ROUTES: readonly ApiRoute[] = [
  ...accountRoutes,
  ...accountLinkRoutes,
  ...customerRoutes,
  ...chargeRoutes,
  ...eventRoutes,
  ...webhookEndpointRoutes,
  ...testHelperRoutes,
];
