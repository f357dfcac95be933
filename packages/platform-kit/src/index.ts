// platform-kit: the platform's side of Stripe Connect OAuth for Standard accounts.
export * from './errors.ts';
export { createConnect, type AuthorizeUrlOptions, type CallbackResult, type Connect, type ConnectOptions, type Scope, type Tokens } from './connect.ts';
export { cookieState, memoryStateStore, newState, type CookieState, type StateStore, type StateStoreOptions } from './state.ts';
export { eventDeduper, verifyWebhook, type VerifyOptions, type WebhookEvent } from './webhook.ts';
