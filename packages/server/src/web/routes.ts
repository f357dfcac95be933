// The page route table: every server-rendered page and form, with its handler in web/handlers/.
import { consentRoutes } from './handlers/consent.ts';
import { dashboardRoutes } from './handlers/dashboard.ts';
import { onboardingRoutes } from './handlers/onboarding.ts';
import { signInRoutes } from './handlers/sign-in.ts';
import { webhookRoutes } from './handlers/webhooks.ts';
import type { PageRoute } from './page-route.ts';

export const PAGE_ROUTES: readonly PageRoute[] = [...signInRoutes, ...consentRoutes, ...dashboardRoutes, ...webhookRoutes, ...onboardingRoutes];
