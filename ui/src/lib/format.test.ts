import { describe, expect, it } from 'vitest';
import {
  authorLabel,
  displayText,
  formatAge,
  formatCompact,
  formatInt,
  formatNet,
  formatPercent,
  heroScale,
} from './format';

describe('numbers', () => {
  it('formats integers with separators and a dash for nothing', () => {
    expect(formatInt(0)).toBe('0');
    expect(formatInt(1234567)).toBe('1,234,567');
    expect(formatInt(12.6)).toBe('13');
    expect(formatInt(null)).toBe('—');
    expect(formatInt(Number.NaN)).toBe('—');
  });

  it('compacts large counts', () => {
    expect(formatCompact(950)).toBe('950');
    expect(formatCompact(9999)).toBe('9,999');
    expect(formatCompact(12_345)).toBe('12.3k');
    expect(formatCompact(20_000)).toBe('20k');
    expect(formatCompact(456_789)).toBe('457k');
    expect(formatCompact(4_500_000)).toBe('4.5M');
  });

  it('signs net sentiment and clamps it to -100..100', () => {
    expect(formatNet(12.4)).toBe('+12');
    expect(formatNet(-7)).toBe('\u22127');
    expect(formatNet(0.2)).toBe('0');
    expect(formatNet(250)).toBe('+100');
    expect(formatNet(undefined)).toBe('—');
  });

  it('formats shares as percentages', () => {
    expect(formatPercent(0.237)).toBe('24%');
    expect(formatPercent(1)).toBe('100%');
  });

  it('shrinks long hero numbers and grows short ones', () => {
    expect(heroScale('7')).toBeGreaterThan(1);
    expect(heroScale('12,34')).toBe(1);
    expect(heroScale('123,456')).toBeLessThan(heroScale('12,345'));
    expect(heroScale('1,234,567,890')).toBeGreaterThanOrEqual(0.55);
  });
});

describe('formatAge', () => {
  it('reads like a wall clock', () => {
    expect(formatAge(0, 3_000)).toBe('now');
    expect(formatAge(0, 45_000)).toBe('45s');
    expect(formatAge(0, 12 * 60_000)).toBe('12m');
    expect(formatAge(0, 3 * 3600_000)).toBe('3h');
    expect(formatAge(0, 50 * 3600_000)).toBe('2d');
    expect(formatAge(10_000, 0)).toBe('now'); // future (clock skew)
  });
});

describe('displayText (layout hygiene for hostile text)', () => {
  it('keeps markup as literal characters', () => {
    const evil = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
    expect(displayText(evil)).toBe(evil);
  });

  it('strips bidi overrides, zero-width and control characters, and collapses whitespace', () => {
    expect(displayText('a\u202Eevil\u202C b\u200B\u0007c\n\n\td')).toBe('aevil bc d');
    expect(displayText('\uFEFF  x  ')).toBe('x');
  });

  it('cuts long text by code points without splitting emoji', () => {
    const s = '🌞'.repeat(10);
    const out = displayText(s, 4);
    expect(out).toBe('🌞🌞🌞🌞…');
    expect(displayText('short', 10)).toBe('short');
  });

  it('handles 64 KiB of text quickly and returns something bounded', () => {
    const big = 'x'.repeat(64 * 1024);
    expect(displayText(big, 400).length).toBe(401);
  });

  it('tolerates non-strings', () => {
    expect(displayText(undefined)).toBe('');
    expect(displayText(42)).toBe('');
  });
});

describe('authorLabel', () => {
  it('prefers the handle with one @, then the name', () => {
    expect(authorLabel({ handle: 'mara' })).toBe('@mara');
    expect(authorLabel({ handle: '@mara' })).toBe('@mara');
    expect(authorLabel({ name: 'Mara K' })).toBe('Mara K');
    expect(authorLabel(undefined)).toBe('unknown');
    expect(authorLabel({ handle: '\u202E' })).toBe('unknown');
  });
});
