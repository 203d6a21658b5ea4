// What a wall screen shows now, as a pure function of its inputs: the playlist (from the
// desktop's window plan or the server's `view.screen`), the operator's control, an alert
// takeover, and the time. Blackout beats everything (a VIP visit is a deliberate choice), then
// the takeover, then a pushed view, then a frozen or rotating playlist.

import { playlistAt } from './rotation';
import type { AlertNotice, ScreenInfo, WallControl, WallItem } from './types';

export interface PlannedWindow {
  label: string;
  screen: number;
  title: string;
  profile?: string;
  items: WallItem[];
  theme?: string;
  zoom?: number;
  showcase?: boolean;
}

/** `window.__SUNWARD_WALL__` from the desktop shell, when it is for this screen. */
export function readPlan(info: unknown, screen: number): PlannedWindow | null {
  if (!info || typeof info !== 'object') return null;
  const o = info as Record<string, unknown>;
  if (o.screen !== screen) return null;
  let items: WallItem[] = [];
  if (Array.isArray(o.items)) {
    items = o.items.filter((i): i is WallItem => !!i && typeof i === 'object' && typeof (i as WallItem).view === 'string');
  } else if (Array.isArray(o.views)) {
    const dwell = typeof o.rotate_seconds === 'number' && o.rotate_seconds > 0 ? o.rotate_seconds : 20;
    items = o.views.filter((v): v is string => typeof v === 'string').map((view) => ({ view, dwell }));
  }
  if (!items.length) return null;
  return {
    label: typeof o.label === 'string' ? o.label : `wall-${screen}`,
    screen,
    title: typeof o.title === 'string' ? o.title : '',
    profile: typeof o.profile === 'string' && o.profile ? o.profile : undefined,
    items,
    theme: typeof o.theme === 'string' ? o.theme : undefined,
    zoom: typeof o.zoom === 'number' && o.zoom > 0 ? o.zoom : undefined,
    showcase: o.showcase === true,
  };
}

const SEVERITY = ['watch', 'warning', 'crisis'];

export function severityRank(s: string | null | undefined): number {
  return SEVERITY.indexOf((s ?? '').toLowerCase());
}

/** Does this alert take the walls over under a profile's takeover severity? */
export function takesOver(a: AlertNotice, minSeverity: string | null | undefined): boolean {
  if (!minSeverity) return false;
  const min = severityRank(minSeverity);
  return min >= 0 && severityRank(a.severity) >= min && (a.state === 'open' || a.state === 'escalated');
}

/** Does an operator control (event) concern this screen? */
export function controlApplies(c: WallControl, profile: string | undefined, screen: number): boolean {
  const pOk = c.profile === null || c.profile === undefined || c.profile === profile;
  const sOk = c.screen === null || c.screen === undefined || c.screen === screen;
  return pOk && sOk;
}

export type Shown =
  | { mode: 'blackout' }
  | { mode: 'takeover'; alert: AlertNotice }
  | { mode: 'push'; item: WallItem }
  | { mode: 'playlist'; item: WallItem | null; index: number; count: number; frozen: boolean; nextInMs: number | null };

export function shown(input: {
  items: readonly WallItem[];
  control: WallControl | null;
  takeover: AlertNotice | null;
  showcase: boolean;
  now: number;
}): Shown {
  const { items, control, takeover, now } = input;
  if (control?.action === 'blackout') return { mode: 'blackout' };
  if (takeover && !input.showcase) return { mode: 'takeover', alert: takeover };
  if (control?.action === 'push' && control.item) return { mode: 'push', item: control.item };
  const dwells = items.map((i) => i.dwell);
  const frozen = control?.action === 'freeze';
  // Frozen: the item that was on screen when the freeze came (same on a reload).
  const r = playlistAt(dwells, frozen ? control.at : now);
  return {
    mode: 'playlist',
    item: items[r.index] ?? null,
    index: r.index,
    count: items.length,
    frozen,
    nextInMs: frozen ? null : r.nextInMs,
  };
}

export type { ScreenInfo };
