#!/usr/bin/env node
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
