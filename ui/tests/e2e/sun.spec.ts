import { expect, test } from '@playwright/test';
import { openWithToken, screenshot, server } from './helpers';

// The operator panel's follow-the-sun timeline shows every site with its local time.
test('follow-the-sun timeline lists the sites with local times', async ({ page }) => {
  const { base, token } = server();
  const shift = (start: string, end: string) => [
    { name: 'all', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start, end },
  ];
  const res = await fetch(`${base}/api/v1/rpc/sites.put`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      sites: [
        { name: 'e2e-austin', tz: 'America/Chicago', shift: shift('08:00', '17:00') },
        { name: 'e2e-bengaluru', tz: 'Asia/Kolkata', shift: shift('13:00', '22:00') },
        { name: 'e2e-singapore', tz: 'Asia/Singapore', shift: shift('22:00', '06:00') },
      ],
    }),
  });
  expect(res.status, await res.text()).toBe(200);
  await openWithToken(page, '#/operator');
  const panel = page.getByTestId('sun-panel');
  await expect(panel.getByTestId('sun-site')).toHaveCount(3);
  await expect(panel).toContainText('(+05:30)');
  await panel.scrollIntoViewIfNeeded();
  await screenshot(page, 'operator-sun');
});
