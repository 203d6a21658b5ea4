// Guard: hostile text must never be parsed as markup. No source file may use {@html},
// innerHTML & co. (charts go through lib/svg.ts -> <img src="data:...">).
import { describe, expect, it } from 'vitest';

const sources = import.meta.glob(['./**/*.svelte', './**/*.ts', '!./**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

const FORBIDDEN = [/\{@html/, /\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /DOMParser/, /createContextualFragment/];

describe('no markup from strings', () => {
  it('finds the sources', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(15);
  });

  for (const [file, raw] of Object.entries(sources)) {
    it(`${file} inserts no markup`, () => {
      // Comments may name the forbidden things (to forbid them); code may not.
      const code = raw
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/<!--[\s\S]*?-->/g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1');
      for (const re of FORBIDDEN) expect(code, `${file} matches ${re}`).not.toMatch(re);
    });
  }
});
