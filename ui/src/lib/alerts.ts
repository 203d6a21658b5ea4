// Alerts, the crisis view and drills (issue 6): the shapes `alerts.*`, `view.alerts`,
// `view.crisis` and `drills.*` return (src/alerts/api.rs, src/drills/api.rs), and pure helpers
// for the board, the crisis view and the operator panel.

import type { Transport } from './transport';

export type Severity = 'watch' | 'warning' | 'crisis';
export type AlertState = 'open' | 'acknowledged' | 'escalated' | 'resolved';

export interface StoryEvidence {
  id: number;
  first_seen: number;
  posts: number;
  reach: number;
  text: string;
}

/** An alert as stored (src/store/alerts.rs `AlertRow`). */
export interface AlertRow {
  id: number;
  kind: string;
  kinds: string[];
  topic: string | null;
  channel: string | null;
  severity: Severity | string;
  state: AlertState | string;
  title: string;
  fired_at: number;
  last_at: number;
  signals: number;
  evidence: Record<string, unknown>;
  stories: StoryEvidence[] | null;
  drill: boolean;
  drill_run: string | null;
  site: string;
  created_at: number;
  acked_by: string | null;
  acked_at: number | null;
  escalated_at: number | null;
  escalation_step: number;
  resolved_by: string | null;
  resolved_at: number | null;
  /** Fired while backfilling history: listed, never a takeover. */
  backfill?: boolean;
}

export interface AlertBoard {
  active: AlertRow[];
  recent: AlertRow[];
  counts: Partial<Record<'open' | 'acknowledged' | 'escalated' | 'crisis' | 'backfill' | 'drill', number>>;
  now: number;
}

export interface CurvePoint {
  t: number;
  total: number;
  negative: number;
  neutral: number;
  positive: number;
}

export interface CrisisPost {
  text: string;
  author: string | null;
  followers: number | null;
  channel: string;
  created_at: number;
  label: string;
  drill: boolean;
}

export interface EvidencePost {
  author?: string;
  followers?: number;
  text?: string;
  at?: number;
}

export interface CrisisData {
  alert: AlertRow | null;
  owner?: string | null;
  curve?: CurvePoint[];
  shares?: { total: number; negative: number; neutral: number; positive: number };
  stories?: StoryEvidence[] | null;
  posts?: CrisisPost[];
  evidence_posts?: EvidencePost[];
  now?: number;
}

export interface AlertLogRow {
  at: number;
  who: string;
  action: string;
  detail: string;
}

export interface Scenario {
  name: string;
  title: string;
  minutes: number;
  summary: string;
}

export interface DrillRun {
  id: number;
  run_key: string;
  name: string;
  file: string;
  state: string;
  started_at: number;
  finished_at: number | null;
  report_path: string | null;
  control: 'running' | 'paused' | 'stopped' | null;
  has_report: boolean;
}

export interface DrillTimelineEvent {
  what: string;
  at: number | null;
  minutes: number | null;
  target_minutes: number | null;
  verdict: string;
  note: string;
}

export interface DrillReport {
  run: DrillRun;
  report: {
    name: string;
    start: string;
    end: string;
    speed: number;
    stopped_early: boolean;
    posts_injected: number;
    posts_background: number;
    timeline: DrillTimelineEvent[];
    missed: string[];
    alerts: { id: number; severity: string; title: string; state: string; fired_at: string }[];
  };
  svg: string | null;
  html_path: string;
}

const SEVERITY_RANK: Record<string, number> = { watch: 1, warning: 2, crisis: 3 };

export function severityRank(s: string): number {
  return SEVERITY_RANK[s] ?? 0;
}

/** A CSS class for a severity ("sev-crisis"); unknown severities look like `watch`. */
export function severityClass(s: string): string {
  return `sev-${severityRank(s) ? s : 'watch'}`;
}

/** "volume_spike" -> "Volume spike". */
export function kindLabel(kind: string): string {
  const k = kind.replace(/_/g, ' ').trim();
  return k.charAt(0).toUpperCase() + k.slice(1);
}

/** What the alert is about: "topic delays · x", "channel x", "all". */
export function scopeLabel(a: Pick<AlertRow, 'topic' | 'channel'>): string {
  if (a.topic && a.channel) return `${a.topic} · ${a.channel}`;
  if (a.topic) return `topic ${a.topic}`;
  if (a.channel) return `channel ${a.channel}`;
  return 'all mentions';
}

/** May this alert be acknowledged / escalated / resolved from its state? (src/alerts/mod.rs) */
export function canAck(state: string): boolean {
  return state === 'open' || state === 'escalated';
}
export function canEscalate(state: string): boolean {
  return state === 'open' || state === 'acknowledged';
}
export function canResolve(state: string): boolean {
  return state !== 'resolved';
}

/** Who did what last: "acknowledged by dana 14:05" etc., from the row's own fields. */
export function ownerLine(a: AlertRow, clock: (ms: number) => string): string {
  if (a.resolved_by && a.resolved_at) return `resolved by ${a.resolved_by} ${clock(a.resolved_at)}`;
  if (a.acked_by && a.acked_at) return `owned by ${a.acked_by} since ${clock(a.acked_at)}`;
  if (a.state === 'escalated') return `escalated, step ${a.escalation_step}, nobody owns it`;
  return 'nobody owns it yet';
}

/** Sort for a board: live before history, then most severe, then newest. */
export function boardOrder(a: AlertRow, b: AlertRow): number {
  return (
    Number(!!a.backfill) - Number(!!b.backfill) ||
    severityRank(b.severity) - severityRank(a.severity) ||
    b.fired_at - a.fired_at
  );
}

/**
 * The growth curve as SVG path data in a `w` x `h` box: total volume as an area and the negative
 * part as a line, both scaled to the busiest minute. Pure: no DOM.
 */
export function curvePaths(curve: readonly CurvePoint[], w: number, h: number): { area: string; neg: string; max: number; x: (t: number) => number } {
  const pts = curve.filter((p) => Number.isFinite(p.t));
  const max = Math.max(1, ...pts.map((p) => p.total || 0));
  const first = pts[0];
  const last = pts[pts.length - 1];
  if (!first || !last || pts.length < 2) return { area: '', neg: '', max, x: () => 0 };
  const t0 = first.t;
  const t1 = last.t;
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => ((t - t0) / span) * w;
  const y = (v: number) => h - (Math.max(0, v) / max) * h;
  const f = (n: number) => n.toFixed(1);
  let area = `M${f(x(t0))},${f(h)}`;
  let neg = '';
  pts.forEach((p, i) => {
    area += ` L${f(x(p.t))},${f(y(p.total))}`;
    neg += `${i ? ' L' : 'M'}${f(x(p.t))},${f(y(p.negative))}`;
  });
  area += ` L${f(x(t1))},${f(h)} Z`;
  return { area, neg, max, x };
}

/** Alert-related events: live (`alert`), history (`alert_backfill`), `resync`. */
export function isAlertEvent(ev: { type: string }): boolean {
  return ev.type === 'alert' || ev.type === 'alert_backfill' || ev.type === 'resync';
}

/** Calls `f` on every alert event (the bus carries others too). */
export function onAlertEvents(transport: Transport, f: () => void): () => void {
  return transport.subscribe((ev) => {
    if (isAlertEvent(ev as { type: string })) f();
  });
}
