// Formatting for the wall: numbers, times, and hostile post text made safe to *lay out*
// (it is always rendered as a text node; this only trims what would wreck the layout).

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 -> "1,234,567"; non-finite -> "—". */
export function formatInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return intFmt.format(Math.round(n));
}

/** Compact count for small slots: 950, 12.3k, 4.5M. */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a < 10_000) return formatInt(n);
  if (a < 1_000_000) return `${trimZero((n / 1000).toFixed(a < 100_000 ? 1 : 0))}k`;
  return `${trimZero((n / 1_000_000).toFixed(1))}M`;
}

function trimZero(s: string): string {
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}

/** Net sentiment -100..100 with an explicit sign: "+12", "−7", "0". */
export function formatNet(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const r = Math.round(Math.max(-100, Math.min(100, n)));
  if (r > 0) return `+${r}`;
  if (r < 0) return `\u2212${-r}`; // a real minus sign, wider than a hyphen
  return '0';
}

/** A share 0..1 as a whole percentage: 0.237 -> "24%". */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return '—';
  return `${Math.round(share * 100)}%`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Wall clock, local time: "14:05:09". */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** UTC clock: "12:05Z". */
export function formatUtcClock(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}Z`;
}

/** Age of a post relative to now: "now", "45s", "12m", "3h", "2d". */
export function formatAge(thenMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (s < 5) return 'now';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

// C0/C1 controls (except \t \n), bidi overrides and isolates, zero-width and BOM characters.
// Bidi controls in hostile text can flip the visual order of the whole row, and long runs of
// invisible characters can hide text; neither is needed to read a post on a wall.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;

/**
 * Prepare post text for display as a TEXT NODE: strip controls and bidi overrides, collapse
 * whitespace, and cut to `maxChars` code points (never in the middle of a surrogate pair).
 * This is layout hygiene, not the XSS defence: the defence is that we never parse it as markup.
 */
export function displayText(text: unknown, maxChars = 400): string {
  if (typeof text !== 'string') return '';
  const cleaned = text.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  const chars = Array.from(cleaned);
  if (chars.length <= maxChars) return cleaned;
  return `${chars.slice(0, maxChars).join('').trimEnd()}…`;
}

/** "@handle", else the display name, else "unknown". */
export function authorLabel(author: { handle?: string; name?: string } | undefined): string {
  const handle = displayText(author?.handle ?? '', 40);
  if (handle) return handle.startsWith('@') ? handle : `@${handle}`;
  const name = displayText(author?.name ?? '', 40);
  return name || 'unknown';
}

/**
 * Scale for a hero number so long values still fit their panel: short numbers get bigger,
 * long ones shrink (the panel is sized for about five characters at scale 1).
 */
export function heroScale(text: string): number {
  const n = Array.from(text).length;
  if (n <= 3) return 1.2;
  if (n <= 5) return 1;
  return Math.max(0.55, 5.4 / (n + 0.4));
}
