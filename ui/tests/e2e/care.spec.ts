// Care workflow (issue 4): a shift lead drags a case from one agent to another in the operator
// panel, and the agent-load wall view (open in another window) follows.
import { expect, test } from '@playwright/test';
import { mention, openWithToken, postMentions, server, uniqueId } from './helpers';

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

test('moving a case between agents in the operator panel updates the agent-load wall', async ({ browser }) => {
  const from = uniqueId('aa').replace(/-/g, '_');
  const to = uniqueId('zz').replace(/-/g, '_');
  // `from` sorts first and both are empty: routing (most free capacity, then name) picks it.
  await rpc('agents.add', { name: from, capacity: 50, presence: 'online' });
  await rpc('agents.add', { name: to, capacity: 50, presence: 'online' });
  const customer = uniqueId('cust');
  await postMentions([mention('Where is my bag? Please help', { author: { handle: customer } })]);

  let caseId = 0;
  await expect
    .poll(async () => {
      const r = await rpc<{ cases: { id: number; customer: string; owner: string | null }[] }>('cases.list', { limit: 500 });
      const c = r.cases.find((x) => x.customer === customer);
      caseId = c?.id ?? 0;
      return c?.owner ?? null;
    })
    .toBe(from);

  const wall = await browser.newPage();
  await openWithToken(wall, '#/view/agent_load');
  const wallTo = wall.locator(`[data-testid=load-agent][data-name="${to}"]`);
  await expect(wallTo).toHaveAttribute('data-open', '0');

  const op = await browser.newPage();
  await openWithToken(op, '#/operator');
  const card = op.locator(`[data-testid=agent-load-panel] [data-testid=load-case][data-case="${caseId}"]`);
  const target = op.locator(`[data-testid=load-column][data-agent="${to}"]`);
  await card.scrollIntoViewIfNeeded();
  await card.dragTo(target);

  await expect(op.getByTestId('load-notice')).toContainText(`to ${to}`);
  await expect(target.getByTestId('column-open')).toHaveText('1/50');
  // The wall follows through the `cases` event (no reload).
  await expect(wallTo).toHaveAttribute('data-open', '1');
  await expect(wall.locator(`[data-testid=load-agent][data-name="${from}"]`)).toHaveAttribute('data-open', '0');

  // The move is in the audit log, with who moved it.
  const log = await rpc<{ entries: { action: string; actor: string; detail: { to: string } }[] }>('audit.list', { case: caseId });
  expect(log.entries.some((e) => e.action === 'reassign' && e.detail.to === to && e.actor === 'admin')).toBe(true);
  await wall.close();
  await op.close();
});
