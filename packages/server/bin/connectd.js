#!/usr/bin/env -S node --max-semi-space-size=8
// The flag caps V8's young generation at 2 × 8 MB: about 15 MB less resident under load, no
// measurable cost (docs/configuration.md "Memory"). V8 reads it only when the process starts.
// Runs the built server (packages/server/dist, made by scripts/build.mjs during `npm install`).
// A checkout whose build is missing or older than the sources (installed with --ignore-scripts,
// or edited since) is built first, so `connectd` never runs stale code; that costs a second once.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const build = new URL('../../../scripts/build.mjs', import.meta.url);
// Outside the workspace (a packed copy without scripts/) there is nothing to rebuild from.
if (existsSync(build)) {
  const { isStale, buildServer } = await import(build.href);
  if (isStale()) {
    process.stderr.write('connectd: building packages/server/dist (sources changed or not built yet)\n');
    await buildServer();
  }
}
await import('../dist/main.js');
