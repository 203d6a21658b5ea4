// Follow-the-sun handoff (issue 5): two sites on duty now, a case owned by the outgoing site's
// agent; in the operator panel the outgoing lead creates, edits and signs the brief, then the
// incoming lead acknowledges one item and then the whole brief. The case ends with the incoming
// site's agent, its SLA deadline unchanged.
import { expect, test } from '@playwright/test';
import { mention, openWithToken, postMentions, screenshot, server, uniqueId } from './helpers';

async function rpc<T>(command: string, args: object): Promise<T> {
  const { base, token } = server();
  const res = await fetch(`${base}/api/v1/rpc/${command}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(args),
  });
  const text = await res.text();
  expect(res.status, `${command}: ${text}`).toBeLessThan(300);
  return JSON.parse(text) as T;
}

type Case = { id: number; customer: string; owner: string | null; first_due: number; resolution_due: number };

test('the operator panel walks a handoff brief through sign and acknowledge', async ({ page }) => {
  const tag = uniqueId('h').replace(/-/g, '_').toLowerCase().slice(0, 20);
  const [out, inc] = [`${tag}_out`, `${tag}_in`];
  // Both sites on duty around the clock (two touching shifts), so the test runs at any hour.
  const allDay = [
    { name: 'am', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '12:00' },
    { name: 'pm', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '12:00', end: '00:00', lead: 'wei' },
  ];
  await rpc('sites.put', {
    sites: [
      { name: out, tz: 'America/Chicago', shift: allDay },
      { name: inc, tz: 'Asia/Singapore', shift: allDay },
    ],
  });
  // The outgoing agent has by far the most free capacity, so routing gives it the case.
  const outAgent = `${tag}_al`;
  const inAgent = `${tag}_sia`;
  await rpc('agents.add', { name: outAgent, capacity: 1000, presence: 'online', site: out });
  const customer = uniqueId('cust');
  await postMentions([mention('My suitcase is lost, please help', { author: { handle: customer } })]);
  let before: Case | undefined;
  await expect
    .poll(async () => {
      const r = await rpc<{ cases: Case[] }>('cases.list', { limit: 500 });
      before = r.cases.find((c) => c.customer === customer);
      return before?.owner ?? null;
    })
    .toBe(outAgent);
  await rpc('agents.add', { name: inAgent, capacity: 1000, presence: 'online', site: inc });

  await openWithToken(page, '#/operator');
  const panel = page.getByTestId('handoff-panel');
  await panel.scrollIntoViewIfNeeded();
  await expect(panel.getByTestId('handoff-from').locator(`option[value="${out}"]`)).toHaveCount(1);
  await panel.getByTestId('handoff-from').selectOption(out);
  await panel.getByTestId('handoff-to').selectOption(inc);
  await panel.getByTestId('handoff-create').click();

  const brief = panel.getByTestId('handoff-brief');
  await expect(brief.getByTestId('handoff-status')).toHaveText('draft');
  await expect(brief.locator(`[data-testid=handoff-case][data-case="${before!.id}"]`)).toContainText(outAgent);

  // The outgoing lead edits the draft; hostile-looking text stays text.
  await brief.getByTestId('handoff-watch').fill('topic: lost-bags\nauthor: loudcustomer — may go to press');
  await brief.getByTestId('handoff-notes').fill('Airport strike <b>rumour</b>; check #lost-bags first.');
  await brief.getByTestId('handoff-save').click();
  await expect(panel.getByTestId('handoff-notice')).toContainText('saved');

  await brief.getByTestId('handoff-sign').click();
  await expect(brief.getByTestId('handoff-status')).toHaveText('signed');
  await expect(panel.getByTestId('handoff-notice')).toContainText('moved to');
  await expect(brief.getByTestId('handoff-notes-text')).toHaveText('Airport strike <b>rumour</b>; check #lost-bags first.');
  await expect(brief.locator('b')).toHaveCount(0);
  const items = brief.getByTestId('handoff-item');
  const n = await items.count();
  expect(n).toBeGreaterThanOrEqual(4); // >= 1 case, 2 watch items, the notes

  // The incoming lead acknowledges the first item, then the rest at once.
  await items.first().getByTestId('handoff-ack-item').click();
  await expect(items.first()).toHaveAttribute('data-acked', 'true');
  await expect(brief.getByTestId('handoff-progress')).toHaveText(`1/${n} items acknowledged`);
  await expect(brief.getByTestId('handoff-status')).toHaveText('signed');
  await screenshot(page, 'operator-handoff-signed');
  await brief.getByTestId('handoff-ack-all').click();
  await expect(brief.getByTestId('handoff-status')).toHaveText('acknowledged');
  await expect(brief.locator('[data-testid=handoff-item][data-acked=false]')).toHaveCount(0);

  // The case moved to the incoming site's agent with its SLA clock unchanged.
  const after = (await rpc<{ cases: Case[] }>('cases.list', { limit: 500 })).cases.find((c) => c.id === before!.id);
  expect(after?.owner).toBe(inAgent);
  expect(after?.first_due).toBe(before!.first_due);
  expect(after?.resolution_due).toBe(before!.resolution_due);

  // Leave no sites behind for the follow-the-sun tests that count them.
  await rpc('sites.remove', { name: out });
  await rpc('sites.remove', { name: inc });
});
