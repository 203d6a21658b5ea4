import { expect, test } from '@playwright/test';
import { openWithToken, screenshot, server, uniqueId } from './helpers';

// The operator panel's "Live sources": add a webhook source through the form, see its health,
// pause and resume it, remove it. The signing secret typed in never comes back to the page.
test('operator adds, pauses, resumes and removes a live source', async ({ page }) => {
  const name = uniqueId('hook').toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 40);
  const secret = `typed-secret-${Date.now()}`;
  await openWithToken(page, '#/operator');
  const panel = page.getByTestId('sources-panel');
  const form = page.getByTestId('source-add');
  await form.getByLabel('Kind').selectOption('webhook');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Signing secret').fill(secret);
  await form.getByRole('button', { name: 'Add source' }).click();

  const row = panel.locator(`[data-testid=source-row][data-name="${name}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId('source-state')).toHaveText('idle');
  await expect(page.locator('body')).not.toContainText(secret);

  // The API shows flags only, never the value.
  const { base, token } = server();
  const res = await fetch(`${base}/api/v1/rpc/sources.list`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  expect(res.status).toBe(200);
  expect(text).toContain(`"has_secret":true`);
  expect(text).not.toContain(secret);

  await row.getByRole('button', { name: 'Pause' }).click();
  await expect(row.getByTestId('source-state')).toHaveText('disabled');
  await row.getByRole('button', { name: 'Resume' }).click();
  await expect(row.getByTestId('source-state')).toHaveText('idle');
  await screenshot(page, 'operator-sources');

  // Bad input: the core's message is shown, nothing is added.
  await form.getByLabel('Kind').selectOption('rss');
  await form.getByLabel('Name').fill('Bad Name');
  await form.getByLabel('URL').fill('https://example.com/feed');
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(page.getByTestId('sources-error')).toContainText('bad source name');

  page.once('dialog', (d) => void d.accept());
  await row.getByRole('button', { name: 'Remove' }).click();
  await expect(row).toHaveCount(0);
});
