// CLI: `connectd serve | migrate | --help`. A bad flag or value prints one line and exits 2.
import { ConfigError, HELP, loadConfig, type Config } from './config/config.ts';
import { createContext } from './context.ts';
import { DEMO_MERCHANT, DEMO_PLATFORM, SeedError } from './seed.ts';
import { createLogger, SHUTDOWN_DEADLINE_MS, startServer } from './server.ts';
import { ServerSecretError } from './server-secret.ts';
import { listOwnKeys } from './store/keys.ts';
import { trigger, TriggerError } from './trigger.ts';

function fail(message: string, code = 2): never {
  process.stderr.write(`connectd: ${message}\n`);
  process.exit(code);
}

async function banner(running: Awaited<ReturnType<typeof startServer>>, config: Config): Promise<void> {
  const platform = running.seeded.find((s) => s.platform);
  const lines = [`connectd listening on ${running.url} (${running.ctx.store.dialect})`];
  if (platform?.platform) {
    const keys = await listOwnKeys(running.ctx.store.db, platform.id);
    const testSecret = keys.find((k) => k.kind === 'secret' && k.mode === 'test')?.revealable ?? '(rolled: see the dashboard)';
    const testPk = keys.find((k) => k.kind === 'publishable' && k.mode === 'test')?.revealable ?? '';
    const redirect = platform.platform.redirectUris[0];
    const authorize = new URL(`${config.publicUrl}/oauth/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: platform.platform.clientIdTest,
      scope: 'read_write',
      ...(redirect ? { redirect_uri: redirect } : {}),
      state: 'demo',
    }).toString();
    lines.push(
      '',
      `Platform ${platform.email}${config.seed ? '' : ` (password: ${DEMO_PLATFORM.password})`}`,
      `  development client_id  ${platform.platform.clientIdTest}`,
      `  live client_id         ${platform.platform.clientIdLive}`,
      `  test secret key        ${testSecret}`,
      `  test publishable key   ${testPk}`,
      `  authorize URL          ${authorize.toString()}`,
    );
  }
  if (!config.seed) lines.push('', `Demo merchant ${DEMO_MERCHANT.email} (password: ${DEMO_MERCHANT.password})`);
  const secret = running.ctx.secretSource;
  if (secret.source === 'file') {
    lines.push('', `Server secret in ${secret.path}${secret.created ? ' (created now, mode 0600)' : ''}; back it up apart from the database`);
  }
  lines.push('', `Dashboard ${config.publicUrl}/dashboard`, '');
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const { command, help, config } = parsed;
  if (help || command === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (command === 'migrate') {
    const ctx = await createContext(config, createLogger(config));
    await ctx.store.close();
    process.stdout.write(`connectd: migrations applied (${ctx.store.dialect})\n`);
    return;
  }
  if (command === 'trigger') {
    const ctx = await createContext(config, createLogger({ ...config, logLevel: 'warn' }));
    try {
      const [type] = parsed.positionals;
      if (!type || !parsed.flags.platform || !parsed.flags.account) fail('usage: connectd trigger TYPE --platform ca_… --account acct_…');
      process.stdout.write(`connectd: ${await trigger(ctx, type, parsed.flags.platform, parsed.flags.account)}\n`);
    } catch (err) {
      if (err instanceof TriggerError) fail(err.message, 1);
      throw err;
    } finally {
      await ctx.store.close();
    }
    return;
  }
  if (command !== 'serve' && command !== undefined) fail(`unknown command '${command}' (try --help)`);
  let running;
  try {
    running = await startServer(config);
  } catch (err) {
    if (err instanceof SeedError || err instanceof ServerSecretError) fail(err.message, 1);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') fail(`port ${config.port} on ${config.host} is already in use (choose another with --port)`, 1);
    fail(`could not start: ${e.message ?? String(err)}`, 1);
  }
  await banner(running, config);

  // Graceful shutdown: stop accepting, let in-flight requests finish, close the database; bounded,
  // so a stuck connection, send or query cannot keep a stopped server alive (docs/configuration.md).
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.ctx.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      running.ctx.log.error({ event: 'shutdown.deadline', deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time; exiting');
      process.stderr.write(`connectd: shutdown did not finish within ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err), 1));
