// "A frozen picture never looks live": the status line shows how long ago the last event (any
// event, heartbeats included: the server sends one every 5 s) arrived.

export type StaleLevel = 'fresh' | 'warn' | 'stale';

export const WARN_AFTER_S = 15;
export const STALE_AFTER_S = 60;

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

function ageText(s: number): string {
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, '0')} min`;
}
