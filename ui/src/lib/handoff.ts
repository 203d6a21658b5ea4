// Follow-the-sun handoff briefs (src/handoff): the shapes `handoff.*` returns and the small
// pure logic the operator panel needs (due-time labels, acknowledgement progress, watch-item
// text). Kept here so it is unit-tested without a browser.

export type BriefCase = {
  id: number;
  track: string;
  status: string;
  owner: string | null;
  customer: string;
  channel: string;
  topic: string | null;
  sla: string;
  due: number;
  drill: boolean;
  kept: boolean;
};
export type BriefAlert = { id: number; kind: string; severity: string; state: string; title: string; acked_by: string | null };
export type Watch = { kind: 'topic' | 'author' | string; value: string; note: string };
export type Item = { n: number; kind: string; ref: string; label: string; acked_by: string | null; acked_at: number | null };
export type Moved = { case_id: number; from: string | null; to: string; act_by: number };
export type Brief = {
  id: number;
  from_site: string;
  to_site: string;
  from_shift: string | null;
  to_shift: string | null;
  status: 'draft' | 'signed' | 'escalated' | 'acknowledged' | string;
  content: {
    generated_at: number;
    window_from: number;
    window_to: number;
    cases: BriefCase[];
    alerts: BriefAlert[];
    total: number;
    negative: number;
    positive: number;
    net: number;
    moved: Moved[];
  };
  notes: string;
  watch: Watch[];
  bulk_agent: string | null;
  contacts: { role: string; who: string }[];
  escalation_step: number;
  created_by: string;
  created_at: number;
  signed_by: string | null;
  signed_at: number | null;
  acked_by: string | null;
  acked_at: number | null;
  items: Item[];
};

/** `in 42 min`, `1 h 5 min ago`: how far a deadline is from now. */
export function dueLabel(due: number, now: number): string {
  const m = Math.trunc((due - now) / 60_000);
  const a = Math.abs(m);
  const s = a >= 60 ? `${Math.floor(a / 60)} h ${a % 60} min` : `${a} min`;
  return m >= 0 ? `in ${s}` : `${s} ago`;
}

/** Cases breaching soonest first (the server sorts too; a re-sort keeps the UI honest). */
export function bySoonestDue(cases: BriefCase[]): BriefCase[] {
  return [...cases].sort((a, b) => a.due - b.due || a.id - b.id);
}

/** `3/8` items acknowledged, and whether anything is left. */
export function ackProgress(b: Pick<Brief, 'items'>): { done: number; total: number; complete: boolean } {
  const done = b.items.filter((i) => i.acked_by !== null).length;
  return { done, total: b.items.length, complete: b.items.length > 0 && done === b.items.length };
}

/** What the panel may offer on a brief. Only drafts are edited and signed; only signed
 * (or escalated) briefs are acknowledged. */
export function actions(b: Pick<Brief, 'status'>): { edit: boolean; sign: boolean; ack: boolean } {
  const draft = b.status === 'draft';
  const open = b.status === 'signed' || b.status === 'escalated';
  return { edit: draft, sign: draft, ack: open };
}

/** Watch items typed one per line as `topic: outage` or `author: handle — note`. Returns the
 * items, and the lines that could not be read (shown to the lead, never silently dropped). */
export function parseWatch(text: string): { items: Watch[]; bad: string[] } {
  const items: Watch[] = [];
  const bad: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(topic|author)\s*:\s*([^—]+?)\s*(?:—\s*(.*))?$/i.exec(line);
    if (!m) {
      bad.push(line);
      continue;
    }
    items.push({ kind: (m[1] ?? '').toLowerCase(), value: (m[2] ?? '').trim(), note: (m[3] ?? '').trim() });
  }
  return { items, bad };
}

/** The inverse of `parseWatch`, for the edit box. */
export function formatWatch(items: Watch[]): string {
  return items.map((w) => `${w.kind}: ${w.value}${w.note ? ` — ${w.note}` : ''}`).join('\n');
}

/** The new owner of a case after signing, if it moved. */
export function movedTo(b: Pick<Brief, 'content'>, caseId: number): Moved | undefined {
  return b.content.moved.find((m) => m.case_id === caseId);
}
