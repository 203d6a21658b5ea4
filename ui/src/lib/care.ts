// Types and helpers of the care workflow (src/care): cases, agents, the agent-load view.

import type { Transport } from './transport';

export interface CaseBrief {
  id: number;
  status: string;
  sla: string;
  track: string;
  customer: string;
  opened_at: number;
  first_due?: number;
  queue_reason?: string | null;
  drill?: boolean;
}

export interface CaseRow extends CaseBrief {
  owner: string | null;
  channel: string;
  brand: string | null;
  topic: string | null;
  tags: string[];
  flags: string[];
  first_response_at: number | null;
  resolution_due: number;
}

export interface AgentLoad {
  name: string;
  role: string;
  site: string;
  presence: string;
  skills: string[];
  capacity: number;
  open: number;
  at_risk: number;
  cases: CaseBrief[];
}

export interface LoadView {
  now: number;
  agents: AgentLoad[];
  sites: { name: string; open: number; capacity: number; at_risk: number; online: number }[];
  queue: {
    depth: number;
    oldest_at: number | null;
    age_ms: number | null;
    at_risk: number;
    reasons: { reason: string; count: number }[];
    cases: CaseBrief[];
  };
  open: number;
  at_risk: number;
  oldest_waiting: {
    case_id: number;
    text: string;
    channel: string;
    author: string | null;
    at: number;
    waiting_ms: number;
    owner: string | null;
  } | null;
}

export interface Reply {
  id: number;
  case_id: number;
  author: string;
  text: string;
  via: string;
  grant: number;
  status: string;
  needed: number;
  approvals: { name: string; role: string; at: number; edited: boolean }[];
  flags: string[];
  reason: string | null;
  external: boolean;
  created_at: number;
  sent_at: number | null;
}

/** "4 min", "2 h 05", "3 d": how long something has waited. */
export function formatWait(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${String(min % 60).padStart(2, '0')}`;
  return `${Math.floor(h / 24)} d`;
}

/** Load share 0..1 (over capacity stays 1 for bars; the number says the truth). */
export function loadShare(open: number, capacity: number): number {
  if (capacity <= 0) return open > 0 ? 1 : 0;
  return Math.max(0, Math.min(1, open / capacity));
}

/** Re-run `refresh` whenever cases change (the core's `cases` event). */
export function onCasesEvent(transport: Transport, refresh: () => void): () => void {
  return transport.subscribe((ev) => {
    const type = (ev as { type: string }).type;
    if (type === 'cases') refresh();
  });
}
