import { describe, expect, it } from 'vitest';
import { parseRoute, parseWallPath, remoteWallHref } from './route';
import { playlistAt, rotationAt } from './rotation';
import { dataStaleness, type Freshness } from './staleness';
import type { AlertNotice, WallControl } from './types';
import { controlApplies, readPlan, shown, takesOver } from './wall';

const alert = (over: Partial<AlertNotice> = {}): AlertNotice => ({
  id: 1,
  kind: 'volume_spike',
  severity: 'crisis',
  state: 'open',
  title: 'Spike',
  fired_at: 0,
  drill: false,
  ...over,
});

describe('playlistAt', () => {
  it('honours per-item dwell over an epoch-aligned cycle', () => {
    const d = [30, 10, 20];
    expect(playlistAt(d, 0)).toEqual({ index: 0, nextInMs: 30_000 });
    expect(playlistAt(d, 30_000)).toEqual({ index: 1, nextInMs: 10_000 });
    expect(playlistAt(d, 45_000)).toEqual({ index: 2, nextInMs: 15_000 });
    expect(playlistAt(d, 60_000).index).toBe(0);
    const on = [0, 0, 0];
    for (let s = 0; s < 60; s++) on[playlistAt(d, s * 1000).index]!++;
    expect(on).toEqual([30, 10, 20]);
  });
  it('does not rotate one item and raises tiny dwells', () => {
    expect(playlistAt([30], 1234)).toEqual({ index: 0, nextInMs: null });
    expect(playlistAt([1, 1], 4999).index).toBe(0);
    expect(playlistAt([1, 1], 5000).index).toBe(1);
  });
  it('rotationAt is a playlist of equal dwells', () => {
    expect(rotationAt(3, 20, 41_000)).toEqual({ index: 2, nextInMs: 19_000 });
    expect(rotationAt(3, 0, 41_000)).toEqual({ index: 0, nextInMs: null });
  });
});

describe('remote wall routes', () => {
  it('reads /wall/{profile}/{screen}', () => {
    expect(parseWallPath('/wall/lobby/1')).toEqual({ name: 'wall', screen: 1, profile: 'lobby' });
    expect(parseWallPath('/wall/lobby')).toEqual({ name: 'wall', screen: 0, profile: 'lobby' });
    expect(parseWallPath('/')).toBeNull();
    expect(parseWallPath('/wall/lo%2Fbby/0')?.name).toBe('unknown');
    expect(parseWallPath('/wall/lobby/x')?.name).toBe('unknown');
    expect(parseRoute('#/operator', '/wall/six-screen/5')).toEqual({ name: 'wall', screen: 5, profile: 'six-screen' });
    expect(parseRoute('#/wall/2', '/')).toEqual({ name: 'wall', screen: 2 });
    expect(remoteWallHref('lobby', 1)).toBe('/wall/lobby/1');
  });
});

describe('what a wall screen shows', () => {
  const items = [
    { view: 'volume', dwell: 10 },
    { view: 'stream', dwell: 20 },
  ];
  const ctl = (action: WallControl['action'], extra: Partial<WallControl> = {}): WallControl => ({
    action,
    by: 'lead',
    at: 12_000,
    ...extra,
  });

  it('rotates, freezes where it was, and shows a pushed view', () => {
    expect(shown({ items, control: null, takeover: null, showcase: false, now: 15_000 })).toMatchObject({ mode: 'playlist', index: 1 });
    const frozen = shown({ items, control: ctl('freeze', { at: 5_000 }), takeover: null, showcase: false, now: 15_000 });
    expect(frozen).toMatchObject({ mode: 'playlist', index: 0, frozen: true, nextInMs: null });
    const pushed = shown({ items, control: ctl('push', { item: { view: 'kpi', dwell: 0 } }), takeover: null, showcase: false, now: 0 });
    expect(pushed).toEqual({ mode: 'push', item: { view: 'kpi', dwell: 0 } });
  });

  it('takeover beats rotation and pushes; blackout beats takeover; visitors never see it', () => {
    const a = alert();
    expect(shown({ items, control: ctl('push', { item: { view: 'kpi', dwell: 0 } }), takeover: a, showcase: false, now: 0 }).mode).toBe('takeover');
    expect(shown({ items, control: ctl('blackout'), takeover: a, showcase: false, now: 0 }).mode).toBe('blackout');
    expect(shown({ items, control: null, takeover: a, showcase: true, now: 0 }).mode).toBe('playlist');
  });

  it('takes over at or above the profile severity while open', () => {
    expect(takesOver(alert({ severity: 'warning' }), 'warning')).toBe(true);
    expect(takesOver(alert({ severity: 'watch' }), 'warning')).toBe(false);
    expect(takesOver(alert({ state: 'acknowledged' }), 'watch')).toBe(false);
    expect(takesOver(alert({ state: 'escalated' }), 'crisis')).toBe(true);
    expect(takesOver(alert(), null)).toBe(false);
  });

  it('controls apply to their profile and screen', () => {
    expect(controlApplies(ctl('freeze', { profile: null, screen: null }), 'x', 3)).toBe(true);
    expect(controlApplies(ctl('freeze', { profile: 'x', screen: 3 }), 'x', 3)).toBe(true);
    expect(controlApplies(ctl('freeze', { profile: 'x', screen: 2 }), 'x', 3)).toBe(false);
    expect(controlApplies(ctl('freeze', { profile: 'y' }), 'x', 3)).toBe(false);
  });

  it('reads the desktop window plan', () => {
    const p = readPlan({ screen: 1, label: 'wall-1', items: [{ view: 'kpi', dwell: 9 }], profile: 'p', zoom: 1.5, showcase: true }, 1);
    expect(p).toMatchObject({ label: 'wall-1', profile: 'p', zoom: 1.5, showcase: true, items: [{ view: 'kpi', dwell: 9 }] });
    expect(readPlan({ screen: 0, views: ['volume', 'stream'], rotate_seconds: 7 }, 0)?.items).toEqual([
      { view: 'volume', dwell: 7 },
      { view: 'stream', dwell: 7 },
    ]);
    expect(readPlan({ screen: 0, items: [] }, 1)).toBeNull();
    expect(readPlan(undefined, 0)).toBeNull();
  });
});

describe('dataStaleness', () => {
  const f = (sources: Freshness['sources'], now = 1_000_000): Freshness => ({
    now,
    stale_after_seconds: 120,
    newest_at: null,
    silent: [],
    sources,
  });
  it('is fresh, then amber past the threshold, then red past twice, naming the silent source', () => {
    const now = 1_000_000;
    const fresh = dataStaleness(f([{ source: 'rss', last_at: now - 30_000, expected: true }]), now, now);
    expect(fresh).toMatchObject({ level: 'fresh', silent: [] });
    const amber = dataStaleness(
      f([
        { source: 'rss', last_at: now - 130_000, expected: true },
        { source: 'demo', last_at: now - 1_000, expected: true },
      ]),
      now,
      now,
    );
    expect(amber).toMatchObject({ level: 'warn', silent: ['rss'] });
    const red = dataStaleness(f([{ source: 'x', last_at: null, expected: true }]), now, now);
    expect(red).toMatchObject({ level: 'stale', silent: ['x'], text: 'never' });
    // Sources not expected to flow (a file import last week) do not make the wall stale.
    const quiet = dataStaleness(
      f([
        { source: 'file', last_at: 0, expected: false },
        { source: 'demo', last_at: now, expected: true },
      ]),
      now,
      now,
    );
    expect(quiet?.level).toBe('fresh');
  });
  it('keeps ageing between fetches', () => {
    const now = 1_000_000;
    const d = dataStaleness(f([{ source: 'rss', last_at: now - 100_000, expected: true }]), now + 30_000, now);
    expect(d?.level).toBe('warn');
  });
});
