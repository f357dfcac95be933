// Builds the server into plain JavaScript (README "Running"), so `npm start` and the `connectd`
// bin do not transpile TypeScript through tsx at every start (issue 8):
//   packages/server/dist/connectd.mjs  one ESM bundle of src/main.ts and its dependencies
//   packages/server/dist/main.js       the entry (scripts/dist-main.js): stack traces mapped to
//                                      src through the bundle's source map, then the bundle
// Run by the root `prepare` script (npm install / npm ci), and by the bin when dist is missing or
// older than the sources. `node scripts/build.mjs --if-stale` builds only when needed.
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = join(ROOT, 'packages/server');
const DIST = join(SERVER, 'dist');
export const ENTRY = join(DIST, 'main.js');

// The entry (dist/main.js) is scripts/dist-main.js, copied: a tiny file that maps stack traces
// to src lazily and imports the bundle.
const ENTRY_SOURCE = fileURLToPath(new URL('./dist-main.js', import.meta.url));

function newest(dir) {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    time = Math.max(time, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return time;
}

/** True when the build is missing or older than a source file, this script or the lockfile. */
export function isStale() {
  const built = Math.min(...['main.js', 'connectd.mjs'].map((f) => statSync(join(DIST, f), { throwIfNoEntry: false })?.mtimeMs ?? 0));
  if (built === 0) return true;
  const inputs = [join(SERVER, 'package.json'), join(ROOT, 'package-lock.json'), fileURLToPath(import.meta.url), ENTRY_SOURCE];
  const latest = Math.max(newest(join(SERVER, 'src')), ...inputs.map((f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0));
  return latest > built;
}

// pg decides at load time whether it runs on Cloudflare Workers; on Node 20 (no `navigator`) it
// does so by constructing a `Response`, which loads Node's whole fetch implementation (undici):
// about a fifth of the start-up. The bundle targets Node only, so the answer is fixed at build.
const pgOnNode = {
  name: 'pg-on-node',
  setup(build) {
    build.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const patched = source.replace(/function isCloudflareRuntime\(\) \{/, 'function isCloudflareRuntime() {\n  return false;');
      if (patched === source) throw new Error(`${args.path}: isCloudflareRuntime() not found; update scripts/build.mjs for this pg version`);
      return { contents: patched, loader: 'js' };
    });
  },
};

// zod bundles error messages in some 50 languages (a tenth of the bundle); connectd speaks only
// English (zod's default, set by zod itself from locales/en.js), so z.locales keeps only `en`.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js";\n', loader: 'js' }));
  },
};

// Left external, these CommonJS packages are loaded by require() (the banner's): imported as ES
// modules instead, Node would first scan their source for named exports (cjs-module-lexer).
const EXTERNAL = ['better-sqlite3', 'pg-native'];
const requireExternals = {
  name: 'require-externals',
  setup(build) {
    const filter = new RegExp(`^(${EXTERNAL.join('|')})$`);
    build.onResolve({ filter }, (args) => (args.namespace === 'external-require' ? { path: args.path, external: true } : { path: args.path, namespace: 'external-require' }));
    build.onLoad({ filter: /.*/, namespace: 'external-require' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

export async function buildServer() {
  // Imported here, not at the top: the bin imports isStale() on every start.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(SERVER, 'src/main.ts')],
    outfile: join(DIST, 'connectd.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Native addons and optional native drivers are loaded by Node from node_modules at run time;
    // the rest (fastify, kysely, zod, pino, pg's JavaScript, …) is bundled: one file to read.
    external: EXTERNAL,
    plugins: [requireExternals, pgOnNode, zodEnglishOnly],
    // Bundled CommonJS dependencies call require() for Node built-ins; an ES module has none.
    banner: { js: "import { createRequire as __connectdRequire } from 'node:module';\nconst require = __connectdRequire(import.meta.url);" },
    // Less to read and compile at start; source maps map frames back to src. No keepNames: it wraps
    // every function and arrow created at run time in a defineProperty call (esbuild's __name),
    // per request too: a quarter of /healthz's JavaScript time (docs/performance.md).
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: false,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  // V8 keeps a module's source in the heap for its whole life (lazy compilation). One character
  // beyond Latin-1 makes the whole 2 MB source a two-byte string: 4 MB instead of 2 MB resident
  // (docs/performance.md "Memory"). esbuild escapes such characters in strings, but not in the
  // literal parts of tagged templates (html`…` pages): those use HTML entities (&mdash;, &hellip;).
  for (const file of result.outputFiles) {
    if (!file.path.endsWith('.mjs')) continue;
    const wide = /[^\u0000-\u00ff]/.exec(file.text);
    if (wide) {
      const at = file.text.slice(Math.max(0, wide.index - 60), wide.index + 20);
      throw new Error(`${file.path}: ${JSON.stringify(wide[0])} (U+${wide[0].codePointAt(0).toString(16).toUpperCase()}) keeps the bundle out of V8's one-byte strings; write it as an HTML entity or an escape: …${at}…`);
    }
  }
  // Each file is written under a temporary name and renamed into place, so a server starting while
  // another process builds reads either the old file or the new one, never half of one.
  mkdirSync(DIST, { recursive: true });
  const put = (path, contents) => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, contents);
    renameSync(tmp, path);
  };
  for (const file of result.outputFiles) put(file.path, file.contents);
  put(ENTRY, readFileSync(ENTRY_SOURCE));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || isStale()) await buildServer();
}
