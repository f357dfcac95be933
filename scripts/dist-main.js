// packages/server/dist/main.js, copied there by scripts/build.mjs: the entry of the built server.
// It stays tiny because Node's CommonJS loader reads a `.js` entry before the ESM loader does;
// the bundle (connectd.mjs) is read once, by the ESM loader only.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const bundle = new URL('./connectd.mjs', import.meta.url).href;

// Stack traces name src/*.ts lines. Node's --enable-source-maps would parse the whole map (about
// 2 MB) at every start; here it is parsed on the first stack trace that passes through the bundle.
if (!process.sourceMapsEnabled) {
  let map;
  const original = (site) => {
    const file = site.getFileName();
    const line = site.getLineNumber();
    const column = site.getColumnNumber();
    if (file !== bundle || line === null || column === null) return undefined;
    map ??= (() => {
      try {
        return new SourceMap(JSON.parse(readFileSync(fileURLToPath(`${bundle}.map`), 'utf8')));
      } catch {
        return null;
      }
    })();
    const entry = map?.findEntry(line - 1, column - 1);
    if (!entry?.originalSource) return undefined;
    // Sources are named relative to the map (../src/main.ts): shown as absolute paths, as Node does.
    const source = fileURLToPath(new URL(entry.originalSource, `${bundle}.map`));
    return { from: `${file}:${line}:${column}`, to: `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}` };
  };
  Error.prepareStackTrace = (error, sites) => {
    let head;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = 'Error';
    }
    const frames = sites.map((site) => {
      const text = String(site);
      const mapped = original(site);
      return `    at ${mapped ? text.replace(mapped.from, mapped.to) : text}`;
    });
    return [head, ...frames].join('\n');
  };
}

await import(bundle);
