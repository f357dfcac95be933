// Escaping template tag for the demo's pages: interpolations are escaped unless already Safe.
export class Safe {
  constructor(readonly html: string) {}
}

type Part = Safe | string | number | null | undefined | false | Part[];

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const piece = (p: Part): string => (p === null || p === undefined || p === false ? '' : p instanceof Safe ? p.html : Array.isArray(p) ? p.map(piece).join('') : escape(String(p)));

export const html = (strings: TemplateStringsArray, ...parts: Part[]): Safe => new Safe(strings.reduce((out, s, i) => out + piece(parts[i - 1]) + s));
