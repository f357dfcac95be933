// Every citation of the repository's own docs resolves (issue 9). Comments, tests, the bench,
// the scripts, README.md and docs/ cite docs/contract.md by a heading of its first part or a
// section number of its second, docs/security-model.md by check id, and any doc by quoted heading
// or numbered section (docs/architecture.md "Habits", docs/oauth-flow.md §1); each must name a
// file that exists and a heading, section or id in it. References to documents kept outside the
// repository fail too. No server: this reads files only. The names this file cites to prove the
// check can fail are assembled at run time, so the check can scan this file as well.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

// ---- What the docs define -------------------------------------------------------------------------

interface DocIndex {
  /** Heading texts, as written and without a leading section number or backticks. */
  headings: Set<string>;
  /** Leading numbers of numbered headings ("1", "2.4"). */
  numbers: Set<string>;
  /** docs/contract.md: the headings of its first part and the section numbers of its second. */
  partA: Set<string>;
  partB: Set<string>;
  /** docs/security-model.md: the ids its tables define, with how often each is defined. */
  ids: Map<string, number>;
}

const NUMBERED = /^(\d+(?:\.\d+)*)\.?\s+(.*)$/;
const ID = /\b[A-Z]{2}-\d{2}\b/g;

function squash(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function indexDoc(text: string): DocIndex {
  const index: DocIndex = { headings: new Set(), numbers: new Set(), partA: new Set(), partB: new Set(), ids: new Map() };
  let fenced = false;
  let part: 'A' | 'B' | null = null;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const row = /^\|\s*([A-Z]{2}-\d{2})\s*\|/.exec(line);
    if (row?.[1]) index.ids.set(row[1], (index.ids.get(row[1]) ?? 0) + 1);
    const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h?.[1] || h[2] === undefined) continue;
    const level = h[1].length;
    const heading = squash(h[2]);
    const numbered = NUMBERED.exec(heading);
    const bare = numbered?.[2] ?? heading;
    for (const t of [heading, bare]) {
      index.headings.add(t);
      index.headings.add(t.replace(/`/g, ''));
    }
    if (numbered?.[1]) index.numbers.add(numbered[1]);
    if (level <= 2) part = /^Part A\b/.test(heading) ? 'A' : /^Part B\b/.test(heading) ? 'B' : level === 2 ? null : part;
    else if (part === 'A' && level === 3) index.partA.add(heading);
    else if (part === 'B' && numbered?.[1]) index.partB.add(numbered[1]);
  }
  return index;
}

// ---- Reading a file as one line of text ----------------------------------------------------------

/**
 * The file as one string, comment leaders removed and lines joined by a space, so a citation
 * wrapped over two comment lines reads as one; `lineOf` maps an offset back to its line.
 */
interface Flat {
  text: string;
  lines: string[];
  starts: number[];
  lineOf(offset: number): number;
}

function flatten(path: string, source: string): Flat {
  const hashComments = /\.(sh|py)$/.test(path);
  const code = /\.(ts|js|mjs|cjs|sh|py)$/.test(path);
  const lines = source.split('\n');
  const starts: number[] = [];
  let text = '';
  for (const line of lines) {
    let l = line;
    if (code) l = l.replace(hashComments ? /^\s*#+\s?/ : /^\s*(?:\/\/+|\/\*+|\*+\/?)?\s?/, '');
    starts.push(text.length);
    text += `${l} `;
  }
  return {
    text,
    lines,
    starts,
    lineOf(offset) {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((starts[mid] ?? 0) <= offset) lo = mid;
        else hi = mid - 1;
      }
      return lo + 1;
    },
  };
}

/** Whether the text at `offset` is prose: markdown, a shell or Python file, or a JS/TS comment. */
function inProse(path: string, flat: Flat, offset: number, what: string): boolean {
  if (!/\.(ts|js|mjs|cjs)$/.test(path)) return true;
  const line = flat.lines[flat.lineOf(offset) - 1] ?? '';
  if (/^\s*(\/\/|\/\*|\*)/.test(line)) return true;
  const comment = line.indexOf('//');
  return comment >= 0 && line.indexOf(what, comment) > comment;
}

// ---- The check ------------------------------------------------------------------------------------

interface Problem {
  file: string;
  line: number;
  message: string;
}

/** Documents that live outside the repository: the repository's own docs replace them. */
const OUTSIDE: Array<[RegExp, string]> = [
  [/security[ -]plan/i, 'a plan kept outside the repository: cite docs/security-model.md and an id'],
  [/\bcontract(?:'s)?\s+Part\b/i, 'the contract without its file: cite docs/contract.md and a heading or section'],
  [/\bPart [AB] of the contract\b/i, 'the contract without its file: cite docs/contract.md and a heading or section'],
  [/\bARCHITECTURE\b/, 'an architecture file outside the repository: cite docs/architecture.md and a heading'],
  [/connect-contrac[t]|style-anchor[s]|\.\.\/shared\/|\/work\/shared\b/, 'a document outside the repository'],
];

const SEP = /^\s*(?:,\s*and\b|,|;|\band\b)\s*/;
const SECTION = /^§\s?(\d+(?:\.\d+)*)(?:\s*[–-]\s*(\d+(?:\.\d+)*))?/;
const QUOTED = /^"([^"]{1,160})"/;

class CitationChecker {
  private readonly docs = new Map<string, DocIndex | null>();

  constructor(private readonly read: (repoPath: string) => string | null) {}

  private doc(repoPath: string): DocIndex | null {
    if (!this.docs.has(repoPath)) {
      const text = this.read(repoPath);
      this.docs.set(repoPath, text === null ? null : indexDoc(text));
    }
    return this.docs.get(repoPath) ?? null;
  }

  /** The repository path a `.md` reference in `from` names, or null when it names none. */
  private resolve(from: string, ref: string): string | null {
    const sibling = join(dirname(from), ref).split(sep).join('/');
    // A path that starts with a dot is relative to the citing file; another with a slash to the root.
    if (ref.startsWith('.')) return sibling;
    if (ref.includes('/')) return ref;
    for (const candidate of [sibling, `docs/${ref}`, ref]) if (this.doc(candidate)) return candidate;
    return null;
  }

  check(file: string, source: string): Problem[] {
    const problems: Problem[] = [];
    const flat = flatten(file, source);
    const text = flat.text;
    const report = (offset: number, message: string) => problems.push({ file, line: flat.lineOf(offset), message });
    const consumed: Array<[number, number]> = [];
    const security = this.doc('docs/security-model.md');
    const contract = this.doc('docs/contract.md');

    for (const [re, why] of OUTSIDE) {
      for (const m of text.matchAll(new RegExp(re.source, `${re.flags}g`))) report(m.index, `"${m[0]}" names ${why}`);
    }

    // Security ids, wherever they appear, must be defined.
    for (const m of text.matchAll(ID)) {
      if (!security?.ids.has(m[0])) report(m.index, `${m[0]} is not an id of docs/security-model.md`);
    }

    /** Items after a reference to `doc` from `start`; returns where the chain ends. */
    const chain = (doc: string, index: DocIndex, start: number): number => {
      let at = start;
      let first = true;
      let part: 'A' | 'B' | null = null;
      for (;;) {
        let rest = text.slice(at);
        const sep = first ? /^\s*/.exec(rest) : SEP.exec(rest);
        if (!sep) return at;
        const skip = sep[0].length;
        rest = rest.slice(skip);
        const itemAt = at + skip;
        let used = 0;
        const p = /^Part ([AB])\b\s*/.exec(rest);
        // Right after a file name only a space leads to an item: `"README.md", "x"` cites nothing.
        if (first && skip === 0 && !p) return at;
        if (doc === 'docs/contract.md' && p?.[1]) {
          part = p[1] as 'A' | 'B';
          used = p[0].length;
          rest = rest.slice(used);
        }
        const q = QUOTED.exec(rest);
        const s = SECTION.exec(rest);
        // After a section of the second part a quoted string is an example, not a heading: the list ends.
        if (q?.[1] !== undefined && doc === 'docs/contract.md' && part === 'B' && !p) return at;
        if (q?.[1] !== undefined) {
          const name = squash(q[1]);
          used += q[0].length;
          if (doc === 'docs/contract.md') {
            if (part !== 'A') report(itemAt, `docs/contract.md: a quoted heading must follow Part A ("${name}")`);
            else if (!index.partA.has(name)) report(itemAt, `docs/contract.md has no Part A heading "${name}"`);
          } else if (!index.headings.has(name)) report(itemAt, `${doc} has no heading "${name}"`);
        } else if (s?.[1] !== undefined) {
          used += s[0].length;
          for (const n of [s[1], s[2]].filter((x): x is string => x !== undefined)) {
            if (doc === 'docs/contract.md') {
              if (part !== 'B') report(itemAt, `docs/contract.md: §${n} must follow Part B`);
              else if (!index.partB.has(n)) report(itemAt, `docs/contract.md has no Part B §${n}`);
            } else if (!index.numbers.has(n)) report(itemAt, `${doc} has no section §${n}`);
          }
        } else if (used === 0) {
          // Not an item: the reference (or the list) ends here. A bare file name is a mention.
          return at;
        }
        at = itemAt + used;
        consumed.push([itemAt, at]);
        first = false;
      }
    };

    // References to a .md file, and what follows them.
    for (const m of text.matchAll(/(?<![\w./-])((?:\.{1,2}\/)*(?:[\w-]+\/)*[\w-]+\.md)\b/g)) {
      const ref = m[1] ?? '';
      if (/(^|\/)shared\//.test(ref)) continue; // reported above
      const end = m.index + m[0].length;
      const target = this.resolve(file, ref);
      const index = target ? this.doc(target) : null;
      if (!target || !index) {
        const next = text.slice(end).trimStart();
        if (ref.includes('/') || next.startsWith('"') || next.startsWith('§') || next.startsWith('Part ')) report(m.index, `${ref} is not a file in the repository`);
        continue;
      }
      chain(target, index, end);
    }

    // Bare part citations (no file in front) must resolve, and in prose must name the file.
    for (const m of text.matchAll(/\bPart ([AB])\b/g)) {
      if (consumed.some(([a, b]) => m.index >= a && m.index < b)) continue;
      if (file !== 'docs/contract.md' && inProse(file, flat, m.index, m[0])) {
        report(m.index, `cite "${m[0]}" as docs/contract.md ${m[0]} …`);
      }
      if (contract) chain('docs/contract.md', contract, m.index);
    }

    // Inside docs/contract.md, a bare § names a section of the second part (RFC sections excepted).
    if (file === 'docs/contract.md' && contract) {
      for (const m of text.matchAll(/§(\d+(?:\.\d+)*)/g)) {
        if (consumed.some(([a, b]) => m.index >= a && m.index < b)) continue;
        if (/RFC\s*\d+\s*$/.test(text.slice(Math.max(0, m.index - 12), m.index))) continue;
        if (!contract.partB.has(m[1] ?? '')) report(m.index, `docs/contract.md has no Part B §${m[1]}`);
      }
    }
    return problems;
  }
}

// ---- The files ------------------------------------------------------------------------------------

const SCANNED = /\.(ts|js|mjs|cjs|sh|py|md)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'data', 'results']);

function walk(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) walk(path, out);
    } else if (SCANNED.test(entry.name)) {
      out.push(path);
    }
  }
  return out;
}

function scannedFiles(): string[] {
  const files = ['README.md'];
  for (const dir of ['docs', 'scripts', 'bench', 'packages']) walk(dir, files);
  return files.sort();
}

function readRepo(repoPath: string): string | null {
  const full = join(ROOT, repoPath);
  return existsSync(full) && repoPath.endsWith('.md') ? readFileSync(full, 'utf8') : null;
}

const show = (ps: Problem[]) => ps.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n');

// ---- The tests ------------------------------------------------------------------------------------

describe('citations of the repository docs', () => {
  it('docs/contract.md has both parts, and docs/security-model.md defines each id once', () => {
    const contract = indexDoc(readFileSync(join(ROOT, 'docs/contract.md'), 'utf8'));
    assert.ok(contract.partA.has('Codes') && contract.partA.size >= 10, 'Part A headings');
    assert.ok(contract.partB.has('2.4') && contract.partB.has('5.3'), 'Part B sections');
    const security = indexDoc(readFileSync(join(ROOT, 'docs/security-model.md'), 'utf8'));
    assert.ok(security.ids.size >= 60, `ids defined: ${security.ids.size}`);
    const twice = [...security.ids].filter(([, n]) => n > 1).map(([id]) => id);
    assert.deepEqual(twice, [], 'ids defined more than once');
  });

  it('every citation in the sources, tests, bench, scripts, README and docs resolves', () => {
    const checker = new CitationChecker(readRepo);
    const files = scannedFiles();
    assert.ok(files.length > 100, `files scanned: ${files.length}`);
    const problems = files.flatMap((f) => checker.check(f, readFileSync(join(ROOT, f), 'utf8')));
    assert.equal(problems.length, 0, `citations that do not resolve:\n${show(problems)}`);
  });

  it('reports broken citations with their file and line', () => {
    // The cited names are assembled at run time, so this file's own text cites nothing broken.
    const contract = 'docs/' + 'contract.md';
    const model = 'docs/' + 'security-model.md';
    const part = (p: string) => 'Part' + ' ' + p;
    const cases: Array<[string, string]> = [
      [`// ok (${contract} ${part('A')} "Codes", ${part('B')} §2.2, §2.6; ${model} CD-02)`, ''],
      [`// (${contract} ${part('A')} "No such decision")`, 'no ' + part('A') + ' heading'],
      [`// (${contract} ${part('B')} §9.9)`, 'no ' + part('B') + ' §9.9'],
      [`// (${contract} ${part('B')} §5.3–5.99)`, 'no ' + part('B') + ' §5.99'],
      [`// (${model} ${'ZZ'}-${'99'})`, 'ZZ' + '-99 is not an id'],
      [`// (docs/${'nothing-here'}.md "Intro")`, 'is not a file in the repository'],
      [`// (docs/${'security'}.md "${'No such heading'}")`, 'docs/security.md has no heading'],
      [`// wrapped (${contract} ${part('A')} "Already\n// connected") and (docs/${'oauth-flow'}.md §7)`, 'docs/oauth-flow.md has no section §7'],
      [`// (${part('B')} §2.4)`, 'as docs/contract.md'],
      [`// see the ${'security'} plan ${'AZ'}-16`, 'outside the repository'],
      [`// (contract ${part('A')} "Codes")`, 'the contract without its file'],
      [`// (${'ARCHI' + 'TECTURE'} "Habits")`, 'architecture file outside'],
    ];
    const checker = new CitationChecker(readRepo);
    for (const [source, expected] of cases) {
      const problems = checker.check('packages/server/src/example.ts', `const x = 1;\n${source}\n`);
      if (expected === '') {
        assert.deepEqual(problems, [], `no problem expected in ${source}:\n${show(problems)}`);
        continue;
      }
      assert.ok(problems.some((p) => p.message.includes(expected)), `expected "${expected}" for ${source}, got:\n${show(problems)}`);
      const last = source.split('\n').length + 1;
      assert.ok(problems.every((p) => p.file === 'packages/server/src/example.ts' && p.line >= 2 && p.line <= last), show(problems));
    }
    // Outside comments (a test's title, say) a bare Part citation is fine as long as it resolves.
    assert.deepEqual(checker.check('packages/server/test/x.test.ts', `it('replays (${part('B')} §5.5)', () => {});\n`), []);
    assert.match(show(checker.check('packages/server/test/x.test.ts', `it('replays (${part('B')} §5.55)', () => {});\n`)), /x\.test\.ts:1: .*§5\.55/);
  });
});
