// "A frozen picture never looks live".
//  - staleness(): the connection. How long ago the last event (any event, heartbeats included:
//    the server sends one every 5 s) arrived; the status line shows it.
//  - dataStaleness(): the data. How old the newest data from the sources that are expected to
//    flow is; past the profile's threshold (default 2 min) a view turns amber, past twice that
//    red, and it names the silent sources.

export type StaleLevel = 'fresh' | 'warn' | 'stale';

export const WARN_AFTER_S = 15;
export const STALE_AFTER_S = 60;
export const DATA_STALE_AFTER_S = 120;

export interface Staleness {
  seconds: number;
  level: StaleLevel;
  text: string;
}

export function staleness(lastEventMs: number, nowMs: number): Staleness {
  const seconds = Math.max(0, Math.floor((nowMs - lastEventMs) / 1000));
  const level: StaleLevel = seconds > STALE_AFTER_S ? 'stale' : seconds > WARN_AFTER_S ? 'warn' : 'fresh';
  return { seconds, level, text: ageText(seconds) };
}

export function ageText(s: number): string {
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} days`;
}

export interface SourceFreshness {
  source: string;
  last_at: number | null;
  expected: boolean;
}

export interface Freshness {
  now: number;
  stale_after_seconds: number;
  newest_at: number | null;
  silent: string[];
  sources: SourceFreshness[];
}

export interface DataStaleness extends Staleness {
  /** Expected sources with nothing newer than the threshold, oldest first. */
  silent: string[];
}

/**
 * The data age of a wall: the OLDEST of the expected sources' newest data (one silent source is
 * enough to warn), or the newest data overall when no source is expected. `serverNow` corrects
 * for a clock difference between the server and this screen.
 */
export function dataStaleness(f: Freshness | null, nowMs: number, fetchedAtMs: number): DataStaleness | null {
  if (!f) return null;
  const limit = (f.stale_after_seconds > 0 ? f.stale_after_seconds : DATA_STALE_AFTER_S) * 1000;
  const serverNow = f.now + Math.max(0, nowMs - fetchedAtMs);
  const expected = f.sources.filter((s) => s.expected);
  const considered = expected.length ? expected : f.sources;
  if (!considered.length) return { seconds: 0, level: 'fresh', text: 'no sources', silent: [] };
  const ages = considered.map((s) => ({ source: s.source, age: s.last_at === null ? Infinity : serverNow - s.last_at }));
  const worst = Math.max(...ages.map((a) => a.age));
  const silent = ages
    .filter((a) => a.age > limit)
    .sort((a, b) => b.age - a.age)
    .map((a) => a.source);
  const level: StaleLevel = worst > 2 * limit ? 'stale' : worst > limit ? 'warn' : 'fresh';
  const seconds = Number.isFinite(worst) ? Math.max(0, Math.floor(worst / 1000)) : Infinity;
  return { seconds, level, text: Number.isFinite(seconds) ? ageText(seconds) : 'never', silent };
}
