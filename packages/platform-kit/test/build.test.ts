// The publishable build: `npm run build -w platform-kit` emits JavaScript and declarations to dist/,
// and plain Node (no tsx, no source condition) loads every entry point through package.json's
// exports, as an app that installed the package would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: PKG, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '' } });

describe('platform-kit build', () => {
  it('emits JavaScript and declarations that plain Node loads through the exports', () => {
    run(process.execPath, [join(PKG, '../../node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
    for (const f of ['index.js', 'index.d.ts', 'adapters/express.js', 'adapters/express.d.ts', 'adapters/fastify.js', 'adapters/fastify.d.ts']) {
      assert.ok(existsSync(join(PKG, 'dist', f)), `dist/${f}`);
    }
    const script = `
      const kit = await import('platform-kit');
      const express = await import('platform-kit/express');
      const fastify = await import('platform-kit/fastify');
      console.log(JSON.stringify([typeof kit.createConnect, typeof kit.verifyWebhook, typeof kit.cookieState, typeof express.mountConnect, typeof fastify.fastifyConnect]));`;
    const out = run(process.execPath, ['--input-type=module', '-e', script]);
    assert.deepEqual(JSON.parse(out), ['function', 'function', 'function', 'function', 'function']);
    const packed = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'])) as { files: { path: string }[] }[];
    const files = packed[0]?.files.map((f) => f.path) ?? [];
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts') && files.includes('README.md'), files.join(', '));
    assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('src/')), 'only the build and the README are published');
  });
});
