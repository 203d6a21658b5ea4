import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';
import { rotationAt } from './rotation';
import { staleness } from './staleness';
import { FakeTimers } from './fake-timers';
import { throttle } from './throttle';

describe('throttle', () => {
  it('runs at once, then at most once per interval with one trailing call', () => {
    const timers = new FakeTimers();
    let calls = 0;
    const f = throttle(() => calls++, 1000, timers);
    f();
    expect(calls).toBe(1);
    f();
    f();
    f();
    expect(calls).toBe(1);
    timers.advance(999);
    expect(calls).toBe(1);
    timers.advance(1);
    expect(calls).toBe(2); // the burst collapsed into one trailing call
    timers.advance(5000);
    expect(calls).toBe(2);
    f();
    expect(calls).toBe(3); // long after: immediate again
  });

  it('never calls more than once per interval under a steady stream of triggers', () => {
    const timers = new FakeTimers();
    const at: number[] = [];
    const f = throttle(() => at.push(timers.t), 1000, timers);
    for (let i = 0; i < 100; i++) {
      f();
      timers.advance(100);
    }
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1000);
    expect(at.length).toBeGreaterThanOrEqual(10);
  });

  it('cancel drops the trailing call', () => {
    const timers = new FakeTimers();
    let calls = 0;
    const f = throttle(() => calls++, 1000, timers);
    f();
    f();
    f.cancel();
    timers.advance(2000);
    expect(calls).toBe(1);
  });
});

describe('Backoff', () => {
  it('grows exponentially with jitter up to the cap, and resets', () => {
    const b = new Backoff({ baseMs: 500, maxMs: 8000, random: () => 1 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    b.reset();
    expect(b.next()).toBe(500);
  });

  it('jitter stays between half and the full delay', () => {
    const low = new Backoff({ baseMs: 1000, random: () => 0 });
    expect(low.next()).toBe(500);
    const mid = new Backoff({ baseMs: 1000, random: () => 0.5 });
    expect(mid.next()).toBe(750);
  });
});

describe('rotationAt', () => {
  it('does not rotate one view or a zero period', () => {
    expect(rotationAt(1, 20, 123_456)).toEqual({ index: 0, nextInMs: null });
    expect(rotationAt(3, 0, 123_456)).toEqual({ index: 0, nextInMs: null });
    expect(rotationAt(0, 20, 123_456)).toEqual({ index: 0, nextInMs: null });
  });

  it('switches every period, aligned to the epoch, cycling through the views', () => {
    expect(rotationAt(3, 20, 0)).toEqual({ index: 0, nextInMs: 20_000 });
    expect(rotationAt(3, 20, 19_999)).toEqual({ index: 0, nextInMs: 1 });
    expect(rotationAt(3, 20, 20_000)).toEqual({ index: 1, nextInMs: 20_000 });
    expect(rotationAt(3, 20, 45_000)).toEqual({ index: 2, nextInMs: 15_000 });
    expect(rotationAt(3, 20, 60_000).index).toBe(0);
  });

  it('two screens with the same period switch together', () => {
    for (const t of [1_700_000_000_000, 1_700_000_013_000, 1_700_000_029_999]) {
      expect(rotationAt(2, 15, t).nextInMs).toBe(rotationAt(4, 15, t).nextInMs);
    }
  });

  it('enforces a minimum period', () => {
    expect(rotationAt(2, 1, 4_000).index).toBe(0);
    expect(rotationAt(2, 1, 5_000).index).toBe(1);
  });
});

describe('staleness', () => {
  it('is fresh up to 15 s, amber after 15 s, red after 60 s', () => {
    expect(staleness(0, 0)).toMatchObject({ seconds: 0, level: 'fresh', text: '0 s' });
    expect(staleness(0, 15_999).level).toBe('fresh');
    expect(staleness(0, 16_000)).toMatchObject({ seconds: 16, level: 'warn' });
    expect(staleness(0, 60_999).level).toBe('warn');
    expect(staleness(0, 61_000)).toMatchObject({ level: 'stale', text: '1 min 01 s' });
    expect(staleness(0, 2 * 3600_000 + 5 * 60_000).text).toBe('2 h 05 min');
  });

  it('never goes negative when the clock jumps back', () => {
    expect(staleness(10_000, 5_000)).toMatchObject({ seconds: 0, level: 'fresh' });
  });
});
