import { describe, expect, it } from 'vitest';
import { formatWait, loadShare } from './care';

describe('care helpers', () => {
  it('formats waiting times', () => {
    expect(formatWait(null)).toBe('—');
    expect(formatWait(5 * 60_000)).toBe('5 min');
    expect(formatWait(125 * 60_000)).toBe('2 h 05');
    expect(formatWait(3 * 86_400_000)).toBe('3 d');
  });
  it('clamps load shares', () => {
    expect(loadShare(3, 4)).toBe(0.75);
    expect(loadShare(9, 4)).toBe(1);
    expect(loadShare(1, 0)).toBe(1);
    expect(loadShare(0, 0)).toBe(0);
  });
});
