// Fastify's per-request logger (req.log), made only when something is logged through it. Our own
// hooks log through ctx.log; Fastify logs per request only in rare cases (a reply sent twice, an
// error handler that throws). Making a pino child for every request ran the redaction pass over its
// bindings each time, about 1.5% of a /healthz request (issue 8 profile).
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LogFn } from 'pino';

type Method = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }
}

function forward(method: Method): LogFn {
  return function (this: LazyRequestLogger, ...args: unknown[]) {
    (this.real()[method] as (...a: unknown[]) => void)(...args);
  } as LogFn;
}

// On the prototype, once: a request's logger is one small object.
for (const method of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) {
  Object.defineProperty(LazyRequestLogger.prototype, method, { value: forward(method), writable: false });
}

/** Fastify's childLoggerFactory: the child with `bindings` (the request id), made on first use. */
export function lazyRequestLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}
