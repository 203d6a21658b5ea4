import { describe, expect, it } from 'vitest';
import { boardOrder, canAck, canEscalate, canResolve, curvePaths, isAlertEvent, kindLabel, ownerLine, scopeLabel, severityClass, type AlertRow } from './alerts';

function row(p: Partial<AlertRow>): AlertRow {
  return {
    id: 1, kind: 'volume_spike', kinds: ['volume_spike'], topic: 'delays', channel: null, severity: 'warning', state: 'open',
    title: 't', fired_at: 0, last_at: 0, signals: 1, evidence: {}, stories: [], drill: false, drill_run: null, site: 'default',
    created_at: 0, acked_by: null, acked_at: null, escalated_at: null, escalation_step: 0, resolved_by: null, resolved_at: null,
    backfill: false, ...p,
  };
}

describe('alerts helpers', () => {
  it('orders a board: live before history, most severe, newest', () => {
    const list = [
      row({ id: 1, severity: 'crisis', backfill: true, fired_at: 9 }),
      row({ id: 2, severity: 'watch', fired_at: 5 }),
      row({ id: 3, severity: 'crisis', fired_at: 1 }),
      row({ id: 4, severity: 'watch', fired_at: 7 }),
    ];
    expect(list.sort(boardOrder).map((a) => a.id)).toEqual([3, 4, 2, 1]);
  });

  it('knows which actions each state allows (as the server does)', () => {
    expect([canAck('open'), canAck('escalated'), canAck('acknowledged'), canAck('resolved')]).toEqual([true, true, false, false]);
    expect([canEscalate('open'), canEscalate('acknowledged'), canEscalate('escalated')]).toEqual([true, true, false]);
    expect([canResolve('open'), canResolve('resolved')]).toEqual([true, false]);
  });

  it('labels kinds, scopes, severities and owners', () => {
    expect(kindLabel('negative_shift')).toBe('Negative shift');
    expect(scopeLabel({ topic: null, channel: 'x' })).toBe('channel x');
    expect(severityClass('bogus')).toBe('sev-watch');
    const clock = (ms: number) => `@${ms}`;
    expect(ownerLine(row({ acked_by: 'dana', acked_at: 5, state: 'acknowledged' }), clock)).toBe('owned by dana since @5');
    expect(ownerLine(row({ state: 'escalated', escalation_step: 2 }), clock)).toContain('nobody owns it');
  });

  it('draws a growth curve scaled to the busiest minute', () => {
    const c = [0, 1, 2].map((i) => ({ t: i * 60_000, total: [2, 10, 5][i] ?? 0, negative: 1, neutral: 0, positive: 0 }));
    const p = curvePaths(c, 100, 50);
    expect(p.max).toBe(10);
    expect(p.area.startsWith('M0.0,50.0')).toBe(true);
    expect(p.area).toContain('L50.0,0.0');
    expect(p.x(120_000)).toBe(100);
    expect(curvePaths([], 100, 50).area).toBe('');
  });

  it('treats alert, alert_backfill and resync as alert events', () => {
    expect(['alert', 'alert_backfill', 'resync', 'mentions'].map((type) => isAlertEvent({ type }))).toEqual([true, true, true, false]);
  });
});
