// platform-kit: the platform's side of Stripe Connect OAuth for Standard accounts. The framework
// adapters are separate entry points: platform-kit/express, platform-kit/fastify.
export * from './errors.ts';
export { createConnect, type AuthorizeUrlOptions, type CallbackResult, type Connect, type ConnectOptions, type Scope, type StateCheck, type Tokens } from './connect.ts';
export { createConnectRoutes, type AuthorizeExtras, type CallbackFailure, type ConnectRoutes, type ConnectRoutesOptions, type KitReply, type KitRequest, type Outcome, type WebhookOptions } from './routes.ts';
export { cookieState, memoryStateStore, newState, safeEqual, type CookieState, type StateStore, type StateStoreOptions } from './state.ts';
export { eventDeduper, verifyWebhook, type VerifyOptions, type WebhookEvent } from './webhook.ts';
