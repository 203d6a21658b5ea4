// Crisis drills (issue 6): a lead starts a shipped drill from the operator's Alerts panel; the
// drill runs through the real ingest, detectors and alerts of the running server; its alert takes
// over a remote wall (a second browser, wall token) marked DRILL, showing the crisis view; the
// lead acknowledges it in the panel and the wall resumes its rotation; the drill's report opens.
import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { screenshot, server } from './helpers';

function issueToken(name: string, role: string): string {
  const bin = process.env.SUNWARD_E2E_BIN;
  const db = process.env.SUNWARD_E2E_DB;
  if (!bin || !db) throw new Error('global-setup did not export SUNWARD_E2E_BIN/SUNWARD_E2E_DB (mock server?)');
  const out = execFileSync(bin, ['token', 'add', name, '--role', role, '--db', db, '--json'], { encoding: 'utf8' });
  return (JSON.parse(out) as { token: string }).token;
}

test('a drill alert takes over a remote wall and is acknowledged from the operator panel', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const { base, token } = server();
  const admin = { Authorization: `Bearer ${token}` };

  // The remote wall: its own browser context (another PC), a read-only wall token.
  const wallCtx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const wall = await wallCtx.newPage();
  const wallToken = issueToken('e2e-drill-wall', 'wall');
  await wall.goto(`${base}/wall/default/0?token=${encodeURIComponent(wallToken)}`);
  await expect(wall.getByTestId('wall-root')).toBeVisible();
  await expect(wall.locator('[data-connection]').first()).toHaveAttribute('data-connection', 'open');
  await expect(wall.getByTestId('wall-root')).toHaveAttribute('data-mode', 'playlist');

  // The operator starts the drill from the Alerts panel.
  await page.goto(`${base}/#/operator?token=${encodeURIComponent(token)}`);
  const panel = page.getByTestId('alerts-panel');
  await expect(panel).toBeVisible();
  await panel.getByTestId('drill-scenario').selectOption('executive-arrested');
  await panel.getByTestId('drill-speed').selectOption('120');
  await panel.getByRole('button', { name: 'Start drill' }).click();
  await expect(panel.getByTestId('alerts-note')).toContainText('started at 120x');
  const running = panel.getByTestId('drill-running');
  await expect(running).toHaveCount(1);
  const run = await running.getAttribute('data-run');
  expect(run).toBeTruthy();

  // The drill's crisis takes the wall over: the crisis view, marked DRILL.
  await expect(wall.getByTestId('wall-root')).toHaveAttribute('data-mode', 'takeover', { timeout: 45_000 });
  const crisis = wall.getByTestId('view-crisis');
  await expect(crisis).toBeVisible();
  await expect(crisis).toHaveAttribute('data-drill', 'true');
  await expect(wall.getByTestId('crisis-drill')).toHaveText(/DRILL/);
  await expect(wall.getByTestId('crisis-owner')).toHaveText('nobody yet');
  const alertId = await crisis.getAttribute('data-alert');
  expect(Number(alertId)).toBeGreaterThan(0);
  // Legible at 5 m: nothing scrolls.
  const scrolls = await wall.evaluate(() =>
    [...document.querySelectorAll('[data-testid="view-crisis"] *')].some((e) => e.scrollHeight > e.clientHeight + 2 && getComputedStyle(e).overflowY === 'auto'),
  );
  expect(scrolls).toBe(false);
  await screenshot(wall, 'drill-takeover-remote-wall');

  // The alerts board (a wall view) lists it with its severity and the DRILL mark.
  const board = await wallCtx.newPage();
  await board.goto(`${base}/#/view/alerts?token=${encodeURIComponent(wallToken)}`);
  const row = board.locator(`[data-testid="alert-row"][data-alert="${alertId}"]`);
  await expect(row).toHaveAttribute('data-drill', 'true');
  await expect(row).toContainText('DRILL');
  await expect(row).toContainText('CRISIS');
  await screenshot(board, 'drill-alerts-board');
  await board.close();

  // The lead acknowledges it in the panel: who and when are recorded, the wall resumes rotation.
  const item = panel.locator(`[data-testid="alert-item"][data-alert="${alertId}"]`);
  await expect(item).toHaveAttribute('data-drill', 'true');
  await expect(item.getByText('DRILL')).toBeVisible();
  await item.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(item).toHaveAttribute('data-state', 'acknowledged');
  await expect(wall.getByTestId('wall-root')).toHaveAttribute('data-mode', 'playlist');
  await expect(wall.getByTestId('view-crisis')).toHaveCount(0);
  const shown = await request.post(`${base}/api/v1/rpc/alerts.show`, { headers: admin, data: { id: Number(alertId) } });
  const body = (await shown.json()) as { alert: { acked_by: string; acked_at: number; drill: boolean }; log: { action: string }[] };
  expect(body.alert.drill).toBe(true);
  expect(body.alert.acked_at).toBeGreaterThan(0);
  expect(body.log.map((l) => l.action)).toContain('acknowledged');
  await screenshot(page, 'drill-operator-panel');

  // Stop the drill; its report opens in the panel.
  await running.getByRole('button', { name: 'Stop' }).click();
  const past = panel.locator(`[data-testid="drill-run"][data-run="${run}"]`);
  await expect(past.getByRole('button', { name: 'Report' })).toBeVisible({ timeout: 30_000 });
  await past.getByRole('button', { name: 'Report' }).click();
  const report = panel.getByTestId('drill-report');
  await expect(report).toContainText('acknowledgement');
  await expect(report).toContainText('DRILL');
  await screenshot(page, 'drill-report');

  // Leave no open drill alert behind for the other tests' walls.
  const list = await request.post(`${base}/api/v1/rpc/alerts.list`, { headers: admin, data: { drill: true } });
  for (const a of ((await list.json()) as { alerts: { id: number; state: string }[] }).alerts) {
    if (a.state !== 'resolved') await request.post(`${base}/api/v1/rpc/alerts.resolve`, { headers: admin, data: { id: a.id, note: 'e2e cleanup' } });
  }
  await wallCtx.close();
});
