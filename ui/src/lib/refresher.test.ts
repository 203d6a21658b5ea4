import { describe, expect, it } from 'vitest';
import { FakeTimers } from './fake-timers';
import { startRefresher } from './refresher';
import type { SunwardEvent } from './types';

const flush = () => new Promise<void>((r) => setTimeout(r, 0));

function setup(loadMs = 0) {
  const timers = new FakeTimers();
  let handler: ((ev: SunwardEvent) => void) | null = null;
  let loads = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const pending: (() => void)[] = [];
  const load = () => {
    loads++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise<void>((resolve) => {
      const done = () => {
        inFlight--;
        resolve();
      };
      if (loadMs === 0) done();
      else pending.push(done);
    });
  };
  const subscribe = (h: (ev: SunwardEvent) => void) => {
    handler = h;
    return () => {
      handler = null;
    };
  };
  const seen: number[] = [];
  const r = startRefresher(load, subscribe, { timers, onMentions: (ev) => seen.push(ev.count) });
  return {
    timers,
    r,
    seen,
    emit: (ev: SunwardEvent) => handler?.(ev),
    get subscribed() {
      return handler !== null;
    },
    get loads() {
      return loads;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    finishOne: () => pending.shift()?.(),
  };
}

const mentions = (count: number): SunwardEvent => ({ type: 'mentions', count, latest: [] });

describe('startRefresher', () => {
  it('loads at start, then at most once a second on bursts of mentions', async () => {
    const s = setup();
    await flush();
    expect(s.loads).toBe(1);
    s.emit(mentions(1)); // first event after the start: runs at once (leading edge)
    await flush();
    expect(s.loads).toBe(2);
    for (let i = 0; i < 20; i++) s.emit(mentions(1));
    await flush();
    expect(s.loads).toBe(2);
    s.timers.advance(1000);
    await flush();
    expect(s.loads).toBe(3); // one trailing load for the whole burst
    expect(s.seen.length).toBe(21); // every event still seen by onMentions
    s.r.stop();
  });

  it('reloads at once on resync and ignores heartbeats', async () => {
    const s = setup();
    await flush();
    s.emit({ type: 'heartbeat', now: 1 });
    await flush();
    expect(s.loads).toBe(1);
    s.emit({ type: 'resync' });
    await flush();
    expect(s.loads).toBe(2);
    s.r.stop();
  });

  it('reloads every 15 s without events', async () => {
    const s = setup();
    await flush();
    s.timers.advance(14_999);
    await flush();
    expect(s.loads).toBe(1);
    s.timers.advance(1);
    await flush();
    expect(s.loads).toBe(2);
    s.timers.advance(15_000);
    await flush();
    expect(s.loads).toBe(3);
    s.r.stop();
  });

  it('never overlaps loads: triggers during a load queue one more', async () => {
    const s = setup(1);
    await flush();
    expect(s.loads).toBe(1);
    s.emit({ type: 'resync' });
    s.emit({ type: 'resync' });
    s.r.refresh();
    await flush();
    expect(s.loads).toBe(1);
    s.finishOne();
    await flush();
    expect(s.loads).toBe(2);
    s.finishOne();
    await flush();
    expect(s.loads).toBe(2);
    expect(s.maxInFlight).toBe(1);
    s.r.stop();
  });

  it('stops: unsubscribes and cancels timers', async () => {
    const s = setup();
    await flush();
    s.r.stop();
    expect(s.subscribed).toBe(false);
    s.timers.advance(60_000);
    await flush();
    expect(s.loads).toBe(1);
    expect(s.timers.pending).toBe(0);
  });
});
