import { describe, expect, it } from 'vitest';
import { ackProgress, actions, bySoonestDue, dueLabel, formatWatch, parseWatch, type BriefCase } from './handoff';

const c = (id: number, due: number): BriefCase => ({
  id,
  track: 't',
  status: 'assigned',
  owner: null,
  customer: 'x',
  channel: 'x',
  topic: null,
  sla: 'ok',
  due,
  drill: false,
  kept: false,
});

describe('handoff brief logic', () => {
  it('labels deadlines relative to now', () => {
    expect(dueLabel(42 * 60_000, 0)).toBe('in 42 min');
    expect(dueLabel(0, 125 * 60_000)).toBe('2 h 5 min ago');
  });

  it('sorts cases breaching soonest first, then by id', () => {
    expect(bySoonestDue([c(3, 50), c(1, 90), c(2, 50)]).map((x) => x.id)).toEqual([2, 3, 1]);
  });

  it('counts acknowledged items', () => {
    const item = (n: number, by: string | null) => ({ n, kind: 'case', ref: '', label: '', acked_by: by, acked_at: null });
    expect(ackProgress({ items: [item(1, 'wei'), item(2, null)] })).toEqual({ done: 1, total: 2, complete: false });
    expect(ackProgress({ items: [item(1, 'wei')] }).complete).toBe(true);
    expect(ackProgress({ items: [] }).complete).toBe(false);
  });

  it('offers edit and sign on drafts, acknowledge on signed or escalated briefs', () => {
    expect(actions({ status: 'draft' })).toEqual({ edit: true, sign: true, ack: false });
    expect(actions({ status: 'escalated' })).toEqual({ edit: false, sign: false, ack: true });
    expect(actions({ status: 'acknowledged' })).toEqual({ edit: false, sign: false, ack: false });
  });

  it('reads watch items one per line and reports the lines it cannot read', () => {
    const { items, bad } = parseWatch('topic: outage\nAuthor: bob_1 — threatens to sue\n\nhashtag: x');
    expect(items).toEqual([
      { kind: 'topic', value: 'outage', note: '' },
      { kind: 'author', value: 'bob_1', note: 'threatens to sue' },
    ]);
    expect(bad).toEqual(['hashtag: x']);
    expect(parseWatch(formatWatch(items)).items).toEqual(items);
  });
});
