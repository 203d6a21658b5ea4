import { describe, expect, it } from 'vitest';
import { findScreen, mergeMentions, netTone, normalizeShares, plannedScreen, rankName, sumTotal, toScreenView, topN, volumeTotal } from './model';
import { bucket, svgDataUrl } from './svg';
import type { StoredMention } from './types';

const m = (id: number, created_at: number): StoredMention => ({
  id,
  created_at,
  source: 's',
  source_id: String(id),
  channel: 'x',
  text: `t${id}`,
  sentiment: 0,
  label: 'neutral',
  influence: 0,
});

describe('view model', () => {
  it('sums a series', () => {
    expect(sumTotal([{ t: 0, total: 2, negative: 0, neutral: 2, positive: 0 }, { t: 1, total: 3, negative: 1, neutral: 1, positive: 1 }])).toBe(5);
    expect(sumTotal(undefined)).toBe(0);
  });

  it('ranks the top entries', () => {
    const list = [{ c: 'a', total: 1 }, { c: 'b', total: 5 }, { c: 'c', total: 3 }];
    expect(topN(list, 2).map((x) => x.c)).toEqual(['b', 'c']);
    expect(list[0]!.c).toBe('a'); // not mutated
  });

  it('normalizes shares whatever their scale', () => {
    expect(normalizeShares({ negative: 0.25, neutral: 0.25, positive: 0.5 })).toEqual({ negative: 0.25, neutral: 0.25, positive: 0.5 });
    expect(normalizeShares({ negative: 25, neutral: 25, positive: 50 })).toEqual({ negative: 0.25, neutral: 0.25, positive: 0.5 });
    expect(normalizeShares({ negative: 0, neutral: 0, positive: 0 })).toEqual({ negative: 0, neutral: 0, positive: 0 });
  });

  it('merges mentions newest first, without duplicates, up to a limit', () => {
    const merged = mergeMentions([m(1, 100), m(2, 200)], [m(3, 150), m(2, 200), m(4, 300)], 3);
    expect(merged.map((x) => x.id)).toEqual([4, 2, 3]);
  });

  it('reads wall profile views as strings or objects', () => {
    expect(toScreenView('volume')).toEqual({ kind: 'volume' });
    expect(toScreenView({ view: 'stream', topic: 'outage' })).toEqual({ kind: 'stream', topic: 'outage' });
    expect(toScreenView({ name: 'sentiment', channel: 'x' })).toEqual({ kind: 'sentiment', channel: 'x' });
    expect(toScreenView('sparkles')).toEqual({ kind: 'unknown', name: 'sparkles' });
    expect(toScreenView(7)).toEqual({ kind: 'unknown', name: '7' });
  });

  it('finds a screen by index, then by position', () => {
    const p = { name: 'p', screens: [{ index: 5, title: 'a', views: [], rotate_seconds: 0 }, { index: 9, title: 'b', views: [], rotate_seconds: 0 }] };
    expect(findScreen(p, 9)?.title).toBe('b');
    expect(findScreen(p, 1)?.title).toBe('b');
    expect(findScreen(p, 4)).toBeNull();
    expect(findScreen(null, 0)).toBeNull();
  });

  it('tones net sentiment', () => {
    expect(netTone(-30)).toBe('negative');
    expect(netTone(3)).toBe('neutral');
    expect(netTone(40)).toBe('positive');
  });
});

describe('svg', () => {
  it('encodes chart SVG as a data URL that cannot break out of the attribute', () => {
    const url = svgDataUrl('<svg xmlns="http://www.w3.org/2000/svg"><text>"quoted" & <b></text></svg>');
    expect(url.startsWith('data:image/svg+xml;charset=utf-8,')).toBe(true);
    expect(url).not.toMatch(/[<>"' ]/);
    expect(decodeURIComponent(url.split(',')[1]!)).toContain('"quoted" & <b>');
    expect(svgDataUrl('')).toBe('');
    expect(svgDataUrl(undefined)).toBe('');
  });

  it('buckets chart sizes', () => {
    expect(bucket(1234)).toBe(1240);
    expect(bucket(0)).toBe(200);
    expect(bucket(99999)).toBe(4000);
  });
});

describe('plannedScreen', () => {
  const info = { label: 'wall-1', screen: 1, title: 'Sentiment + Live stream', views: ['sentiment', 'stream'], rotate_seconds: 20, profile_screens: [1, 2] };

  it('uses the shell plan for its own screen', () => {
    expect(plannedScreen(info, 1)).toEqual({ index: 1, title: 'Sentiment + Live stream', views: ['sentiment', 'stream'], rotate_seconds: 20 });
  });

  it('ignores a plan for another screen, or none, or garbage', () => {
    expect(plannedScreen(info, 0)).toBeNull();
    expect(plannedScreen(undefined, 1)).toBeNull();
    expect(plannedScreen({ screen: 1, views: 'volume' }, 1)).toBeNull();
    expect(plannedScreen({ screen: 1, views: [] }, 1)).toEqual({ index: 1, title: '', views: [], rotate_seconds: 0 });
  });
});

describe('contract shapes', () => {
  const series = [{ t: 0, total: 2, negative: 0, neutral: 2, positive: 0 }];
  it('takes the server total when sent, else sums the series', () => {
    expect(volumeTotal({ from: 0, to: 1, series, by_channel: [], by_topic: [] })).toBe(2);
    expect(volumeTotal({ from: 0, to: 1, total: { total: 9 }, series, by_channel: [], by_topic: [] })).toBe(9);
    expect(volumeTotal({ from: 0, to: 1, total: 7, series, by_channel: [], by_topic: [] })).toBe(7);
    expect(volumeTotal(null)).toBeNull();
  });

  it('names ranked rows by channel, topic or name', () => {
    expect(rankName({ channel: 'x', total: 1 })).toBe('x');
    expect(rankName({ topic: 'outage', total: 1 })).toBe('outage');
    expect(rankName({ name: 'reddit', total: 1, negative: 1 })).toBe('reddit');
  });
});
