import { expect, test } from '@playwright/test';
import { mention, openWithToken, parseCount, postMentions, screenshot, server } from './helpers';

test('the volume total rises by the number of mentions posted', async ({ page }) => {
  await openWithToken(page, '#/view/volume');
  const { token } = server();
  // The token moved to sessionStorage and is gone from the address bar.
  expect(page.url()).not.toContain(token);

  const total = page.getByTestId('total-60m');
  await expect(total).toHaveText(/\d/);
  const before = parseCount(await total.textContent());

  const n = 7;
  await postMentions(Array.from({ length: n }, (_, i) => mention(`e2e volume probe ${i}: the app is great today`)));

  await expect
    .poll(async () => parseCount(await total.textContent()), { timeout: 5_000, intervals: [100, 200, 250] })
    .toBe(before + n);
});

test('hostile post text is shown literally and never runs', async ({ page }) => {
  const evil = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
  // A channel of its own: a drill run by another spec may have filled the stream with posts
  // whose (compressed) event times are ahead of this one.
  await openWithToken(page, '#/view/stream?channel=forum');
  await expect(page.getByTestId('view-stream')).toBeVisible();

  await postMentions([mention(evil, { channel: 'forum', author: { handle: '<script>alert(1)</script>' } })]);

  const row = page.getByTestId('mention-text').filter({ hasText: evil });
  await expect(row).toHaveCount(1);
  await expect(row).toHaveText(evil);
  // Nothing in the stream was parsed as markup, and no handler ran.
  await expect(page.locator('[data-testid=view-stream] b')).toHaveCount(0);
  await expect(page.locator('[data-testid=view-stream] img')).toHaveCount(0);
  await expect(page.locator('[data-testid=view-stream] script')).toHaveCount(0);
  await page.waitForTimeout(300);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
});

test('a wrong token shows "token rejected", and the right one gets in', async ({ page }) => {
  const { base, token } = server();
  await page.goto(`${base}/#/view/volume?token=not-the-token`);
  await expect(page.getByTestId('auth-message')).toHaveText(/token rejected/i);
  await expect(page.getByTestId('view-volume')).toHaveCount(0);

  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Connect' }).click();
  await expect(page.getByTestId('total-60m')).toHaveText(/\d/);
});

test('no token asks for one', async ({ page }) => {
  const { base } = server();
  await page.goto(`${base}/#/operator`);
  await expect(page.getByTestId('auth-message')).toHaveText(/token required/i);
});

test('wall screenshots (volume, sentiment, stream, operator)', async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));

  // Some realistic traffic over the last hour, so the screenshots show a working wall.
  const texts = [
    ['x', 'billing', 'Why does the billing page log me out every time I try to pay?'],
    ['x', 'outage', 'Is there an outage? Getting error 502 on every page since 9am, checkout is broken'],
    ['mastodon', 'support', 'Thanks for fixing my order so fast, your support team is great'],
    ['reddit', 'delivery', 'My package says delivered but it is not here. Third time this month. Worst experience.'],
    ['bluesky', 'app', 'Love the new delivery tracking in the app, super helpful'],
    ['x', 'outage', 'App down again?? I have a flight in two hours and cannot see my booking'],
    ['rss', 'support', 'Review: support answered within ten minutes and solved the problem. Happy customer.'],
  ] as const;
  const handles = ['mara_k', 'devon.t', 'quietfox', 'linh_ops', 'bigcitybrad', 'oksana', 'priya'];
  const now = Date.now();
  const batch = Array.from({ length: 120 }, (_, i) => {
    const [channel, topic, text] = texts[i % texts.length]!;
    const at = new Date(now - Math.floor(Math.random() * 55 * 60_000) - 30_000).toISOString();
    return mention(text, { channel, topics: [topic], created_at: at, author: { handle: handles[i % handles.length] } });
  });
  await postMentions(batch);
  await postMentions(texts.map(([channel, topic, text], i) => mention(text, { channel, topics: [topic], author: { handle: handles[i] } })));

  await openWithToken(page, '#/view/volume');
  await expect(page.getByTestId('total-60m')).toHaveText(/\d/);
  await page.waitForTimeout(1500); // charts are requested after layout
  await screenshot(page, 'wall-volume');

  await openWithToken(page, '#/view/sentiment');
  await expect(page.getByTestId('net-sentiment')).toHaveText(/\d/);
  await page.waitForTimeout(1500);
  await screenshot(page, 'wall-sentiment');

  await openWithToken(page, '#/view/stream');
  await expect(page.getByTestId('mention').first()).toBeVisible();
  await page.waitForTimeout(500);
  await screenshot(page, 'wall-stream');

  await openWithToken(page, '#/wall/0');
  await expect(page.getByTestId('wall-screen')).toBeVisible();
  await page.waitForTimeout(1500);
  await screenshot(page, 'wall-screen-0');

  await page.setViewportSize({ width: 1400, height: 900 });
  await openWithToken(page, '#/operator');
  await expect(page.getByTestId('operator-mentions')).toHaveText(/\d/);
  await screenshot(page, 'operator');
  expect(problems, 'console errors on the wall pages').toEqual([]);
});
