// Runs Roadrunner Rides against a connectd (or Stripe): `npm run demo` starts both, wired through
// connectd-seed.json. Alone: node --conditions=connectd-source --import tsx
//   packages/demo-platform/src/main.ts [--port 4242] [--connectd URL] [--seed FILE] [--db PATH]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildDemoApp } from './app.ts';
import { openDatabase } from './db.ts';

interface SeedPlatform {
  keys?: { test_secret?: string };
  platform?: { client_id_test?: string; webhook_endpoints?: { url: string; secret?: string }[] };
}

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4242' },
    host: { type: 'string', default: '127.0.0.1' },
    connectd: { type: 'string', default: 'http://127.0.0.1:12111' },
    seed: { type: 'string', default: join(here, '../connectd-seed.json') },
    db: { type: 'string', default: './data/demo/platform.sqlite' },
  },
});

function fail(message: string): never {
  process.stderr.write(`demo-platform: ${message}\n`);
  process.exit(2);
}

// The platform's client_id, secret key and webhook secret are the ones the seed gives connectd.
let seed: { accounts?: SeedPlatform[] };
try {
  seed = JSON.parse(readFileSync(values.seed, 'utf8')) as { accounts?: SeedPlatform[] };
} catch (err) {
  fail(`cannot read the seed ${values.seed}: ${err instanceof Error ? err.message : String(err)}`);
}
const platform = seed.accounts?.find((a) => a.platform);
const clientId = platform?.platform?.client_id_test;
const secretKey = platform?.keys?.test_secret;
const webhookSecrets = (platform?.platform?.webhook_endpoints ?? []).flatMap((w) => (w.secret ? [w.secret] : []));
if (!clientId || !secretKey || webhookSecrets.length === 0) fail(`${values.seed} needs a platform with client_id_test, keys.test_secret and a webhook endpoint secret`);

const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port ${values.port} is not a port`);
const publicUrl = `http://${values.host}:${port}`;
const db = openDatabase(values.db);
const app = await buildDemoApp({ db, publicUrl, connectBase: values.connectd, apiBase: values.connectd, clientId, secretKey, webhookSecrets });
try {
  await app.listen({ port, host: values.host });
} catch (err) {
  fail(`cannot listen on ${publicUrl}: ${err instanceof Error ? err.message : String(err)}`);
}
process.stdout.write(`Roadrunner Rides listening on ${publicUrl} (connectd at ${values.connectd})\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().finally(() => {
      db.close();
      process.exit(0);
    });
  });
}
