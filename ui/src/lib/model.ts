// Pure helpers that turn API results into what the views show.

import { isViewKind } from './route';
import type { Label, Ranked, Sentiment, StoredMention, ViewKind, Volume, VolumePoint, WallProfile, WallScreen } from './types';

export function sumTotal(series: readonly VolumePoint[] | undefined): number {
  let n = 0;
  for (const p of series ?? []) n += Number.isFinite(p.total) ? p.total : 0;
  return n;
}

/** The window's total: the server's own count when it sends one, else the sum of the series. */
export function volumeTotal(v: Volume | null | undefined): number | null {
  if (!v) return null;
  const t = v.total;
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  if (t && typeof t === 'object' && Number.isFinite(t.total)) return t.total;
  return sumTotal(v.series);
}

/** The label of a ranked row, whichever key the server used. */
export function rankName(r: Ranked): string {
  return r.channel ?? r.topic ?? r.name ?? '';
}

/** The busiest `n` entries, largest first (stable for ties). */
export function topN<T extends { total: number }>(list: readonly T[] | undefined, n: number): T[] {
  return [...(list ?? [])].sort((a, b) => b.total - a.total).slice(0, n);
}

/** Shares as fractions that add up to 1, whatever scale the server used (fractions, %, counts). */
export function normalizeShares(s: Sentiment['shares'] | undefined): Record<Label, number> {
  const neg = Math.max(0, s?.negative ?? 0);
  const neu = Math.max(0, s?.neutral ?? 0);
  const pos = Math.max(0, s?.positive ?? 0);
  const sum = neg + neu + pos;
  if (!(sum > 0)) return { negative: 0, neutral: 0, positive: 0 };
  return { negative: neg / sum, neutral: neu / sum, positive: pos / sum };
}

/** Newest first by event time, then by id; de-duplicated by id; at most `limit`. */
export function mergeMentions(
  current: readonly StoredMention[],
  incoming: readonly StoredMention[],
  limit: number,
): StoredMention[] {
  const byId = new Map<number, StoredMention>();
  for (const m of [...current, ...incoming]) {
    if (m && typeof m.id === 'number') byId.set(m.id, m);
  }
  return [...byId.values()]
    .sort((a, b) => b.created_at - a.created_at || b.id - a.id)
    .slice(0, limit);
}

export interface ViewSpec {
  kind: ViewKind;
  topic?: string;
  channel?: string;
  /** The wall screen showing the view (remote walls, showcase screens). */
  ctx?: ScreenCtx;
}

/** Which wall screen asks: sent with view calls, so the server masks data for showcase screens. */
export interface ScreenCtx {
  profile?: string;
  screen?: number;
  showcase?: boolean;
}

/** The screen args of a view call (only what is set). */
export function screenArgs(spec: { ctx?: ScreenCtx }): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const c = spec.ctx;
  if (!c) return out;
  if (c.profile) out.profile = c.profile;
  if (typeof c.screen === 'number') out.screen = c.screen;
  if (c.showcase) out.showcase = true;
  return out;
}

export type ScreenView = ViewSpec | { kind: 'unknown'; name: string };

/** A profile's view entry: "volume", or `{view|name|kind: "volume", topic?, channel?}`. */
export function toScreenView(v: unknown): ScreenView {
  if (typeof v === 'string') return isViewKind(v) ? { kind: v } : { kind: 'unknown', name: v };
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const name = o.view ?? o.name ?? o.kind ?? o.type;
    if (isViewKind(name)) {
      const spec: ViewSpec = { kind: name };
      if (typeof o.topic === 'string' && o.topic) spec.topic = o.topic;
      if (typeof o.channel === 'string' && o.channel) spec.channel = o.channel;
      return spec;
    }
    return { kind: 'unknown', name: typeof name === 'string' ? name : JSON.stringify(v).slice(0, 60) };
  }
  return { kind: 'unknown', name: String(v) };
}

/** The screen whose `index` matches, else the one at that position. */
export function findScreen(profile: WallProfile | null | undefined, index: number): WallScreen | null {
  const screens = profile?.screens ?? [];
  return screens.find((s) => s.index === index) ?? screens[index] ?? null;
}

export const LABELS: readonly Label[] = ['negative', 'neutral', 'positive'];

export function labelOf(v: unknown): Label {
  return v === 'negative' || v === 'positive' ? v : 'neutral';
}

/** -100..100 -> a tone for coloring the net sentiment. */
export function netTone(net: number): Label {
  if (net <= -10) return 'negative';
  if (net >= 10) return 'positive';
  return 'neutral';
}

/**
 * The desktop shell tells a wall window what it shows before the UI loads
 * (`window.__SUNWARD_WALL__` = `{screen, title, views, rotate_seconds, …}`, from the wall plan).
 * It wins over `wall_profile`: after a monitor is unplugged the plan merges views, and a surplus
 * monitor has no profile screen at all.
 */
export function plannedScreen(info: unknown, screen: number): WallScreen | null {
  if (!info || typeof info !== 'object') return null;
  const o = info as Record<string, unknown>;
  if (o.screen !== screen || !Array.isArray(o.views)) return null;
  const rotate = typeof o.rotate_seconds === 'number' && Number.isFinite(o.rotate_seconds) ? o.rotate_seconds : 0;
  return {
    index: screen,
    title: typeof o.title === 'string' ? o.title : '',
    views: o.views,
    rotate_seconds: rotate,
  };
}
