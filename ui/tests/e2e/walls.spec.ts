// Remote walls (issue 3): a browser wall PC opens /wall/<profile>/<screen> with a read-only wall
// token. It renders; admin and agent endpoints answer 403 to that token; a showcase screen shows
// no handle, e-mail address or phone number from a corpus full of them.
import { execFileSync } from 'node:child_process';
import { expect, test, type Page } from '@playwright/test';
import { mention, openWithToken, postMentions, screenshot, server } from './helpers';

/** Issues a token with `sunward token add NAME --role ROLE` on the server's database. */
function issueToken(name: string, role: string): string {
  const bin = process.env.SUNWARD_E2E_BIN;
  const db = process.env.SUNWARD_E2E_DB;
  if (!bin || !db) throw new Error('global-setup did not export SUNWARD_E2E_BIN/SUNWARD_E2E_DB (mock server?)');
  const out = execFileSync(bin, ['token', 'add', name, '--role', role, '--db', db, '--json'], { encoding: 'utf8' });
  return (JSON.parse(out) as { token: string }).token;
}

async function openWall(page: Page, path: string, token: string): Promise<void> {
  const { base } = server();
  await page.goto(`${base}${path}?token=${encodeURIComponent(token)}`);
  await expect(page.getByTestId('wall-root')).toBeVisible();
  await expect(page.locator('[data-connection]').first()).toHaveAttribute('data-connection', 'open');
}

// Handles, e-mail addresses and phone numbers a lobby must never show.
const SECRETS = {
  handles: ['jane_doe_77', 'bob.smith', 'carol_k'],
  emails: ['jane.doe77@example.com', 'bob.smith@mail.example.org', 'carol+lost@example.net'],
  phones: ['+1 (555) 867-5309', '0176 1234567', '555.201.4477'],
};

/** The corpus's own topic: other tests post too, the showcase stream is filtered to it. */
const TOPIC = 'showcase-e2e';

function corpus(minutesAgo: number) {
  const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  return SECRETS.handles.map((h, i) =>
    mention(
      `@airline my bag is lost, mail ${SECRETS.emails[i]} or call ${SECRETS.phones[i]}, cc @${SECRETS.handles[(i + 1) % 3]} order #A-99812${i}`,
      { created_at: at, channel: 'x', topics: [TOPIC], author: { handle: h, name: `Secret Name ${i}`, followers: 12_000 + i } },
    ),
  );
}

test('a remote wall renders with a wall token, and the token is refused elsewhere', async ({ page, request }) => {
  const { base } = server();
  const wallToken = issueToken('e2e-wall', 'wall');
  await openWall(page, '/wall/default/0', wallToken);
  await expect(page.getByTestId('wall-root')).toHaveAttribute('data-profile', 'default');
  await expect(page.getByTestId('view-volume')).toBeVisible();
  await expect(page.getByTestId('stale-guard')).toBeVisible();
  // The token left the address bar.
  expect(page.url()).not.toContain(wallToken);
  await screenshot(page, 'remote-wall-default-0');

  const auth = { Authorization: `Bearer ${wallToken}` };
  // Admin and agent endpoints: 403 for a wall token.
  for (const command of ['rejects', 'sources', 'wall.push', 'wall.save', 'showcase.queue', 'cases.list']) {
    const res = await request.post(`${base}/api/v1/rpc/${command}`, { headers: auth, data: {} });
    expect(res.status(), `${command} with a wall token`).toBe(403);
  }
  const ingest = await request.post(`${base}/api/v1/mentions`, { headers: auth, data: '{}' });
  expect(ingest.status()).toBe(403);
  // Wall views: allowed.
  const ok = await request.post(`${base}/api/v1/rpc/view.screen`, { headers: auth, data: { profile: 'default', screen: 1 } });
  expect(ok.status()).toBe(200);
  expect((await ok.json()).items[0].view).toBe('sentiment');
});

test('showcase screens show no handle, e-mail address or phone number', async ({ page, request }) => {
  const { base, token } = server();
  const admin = { Authorization: `Bearer ${token}` };
  // Old enough to pass the 5-minute delay buffer, and fresh ones that must still be held back.
  await postMentions([...corpus(10), ...corpus(0)]);
  // Lobby screen 1 rotates stream (30 s) and sentiment (20 s): pin the stream for the test
  // (a pushed view still runs on the showcase screen, masked).
  await request.post(`${base}/api/v1/rpc/wall.push`, { headers: admin, data: { profile: 'lobby', screen: 1, view: 'stream', topic: TOPIC } });
  // A lobby token ("lobby" is listed in the lobby profile's [showcase] tokens) gets masked
  // data whatever screen it claims to be; an ordinary wall token on a showcase screen too.
  for (const [name, path] of [
    ['lobby', '/wall/lobby/1'],
    ['e2e-wall-2', '/wall/lobby/1'],
  ]) {
    const wallToken = issueToken(name!, 'wall');
    await openWall(page, path!, wallToken);
    await expect(page.getByTestId('wall-root')).toHaveAttribute('data-showcase', 'true');
    await expect(page.getByTestId('view-stream')).toBeVisible();
    await expect(page.getByTestId('mention').first()).toBeVisible();
    await expect(page.getByText('order #[number]').first()).toBeVisible();
    const text = (await page.locator('body').innerText()).toLowerCase();
    for (const s of [...SECRETS.handles, ...SECRETS.emails, ...SECRETS.phones, 'secret name', '99812']) {
      expect(text, `showcase wall shows "${s}"`).not.toContain(s.toLowerCase());
    }
    await screenshot(page, `remote-wall-lobby-${name}`);

    // What the server sends to that token, not only what the page shows.
    const auth = { Authorization: `Bearer ${wallToken}` };
    const claims = name === 'lobby' ? { profile: 'default', screen: 2 } : { profile: 'lobby', screen: 1 };
    for (const command of ['stream', 'view.top_posts']) {
      const res = await request.post(`${base}/api/v1/rpc/${command}`, { headers: auth, data: { limit: 50, topic: TOPIC, ...claims } });
      expect(res.status()).toBe(200);
      const body = (await res.text()).toLowerCase();
      expect(body, `${command} returned the corpus`).toContain('[e-mail]');
      for (const s of [...SECRETS.handles, ...SECRETS.emails, ...SECRETS.phones, 'secret name']) {
        expect(body, `${command} for ${name} leaks "${s}"`).not.toContain(s.toLowerCase());
      }
    }
  }

  await request.post(`${base}/api/v1/rpc/wall.release`, { headers: admin, data: { profile: 'lobby', screen: 1 } });
  // The operator (admin token) still sees the full posts on the ordinary stream.
  const full = await request.post(`${base}/api/v1/rpc/stream`, { headers: admin, data: { limit: 50, topic: TOPIC } });
  expect(await full.text()).toContain('jane.doe77@example.com');
});

test('an operator push and a takeover drill reach a remote wall; ack resumes rotation', async ({ page, request }) => {
  const { base, token } = server();
  const admin = { Authorization: `Bearer ${token}` };
  await openWall(page, '/wall/default/2', issueToken('e2e-wall-3', 'wall'));
  await expect(page.getByTestId('view-stream')).toBeVisible();

  let res = await request.post(`${base}/api/v1/rpc/wall.push`, { headers: admin, data: { profile: 'default', screen: 2, view: 'kpi' } });
  expect(res.status()).toBe(200);
  await expect(page.getByTestId('view-kpi')).toBeVisible();
  res = await request.post(`${base}/api/v1/rpc/wall.release`, { headers: admin, data: { profile: 'default', screen: 2 } });
  await expect(page.getByTestId('view-stream')).toBeVisible();

  res = await request.post(`${base}/api/v1/rpc/wall.drill`, { headers: admin, data: { severity: 'crisis', title: 'E2E drill' } });
  const drill = (await res.json()) as { id: number };
  await expect(page.getByTestId('wall-root')).toHaveAttribute('data-mode', 'takeover');
  await expect(page.getByText('E2E drill')).toBeVisible();
  await screenshot(page, 'remote-wall-takeover');
  res = await request.post(`${base}/api/v1/rpc/wall.ack`, { headers: admin, data: { id: drill.id } });
  expect(res.status()).toBe(200);
  await expect(page.getByTestId('wall-root')).toHaveAttribute('data-mode', 'playlist');
  await expect(page.getByTestId('view-stream')).toBeVisible();

  await request.post(`${base}/api/v1/rpc/wall.blackout`, { headers: admin, data: {} });
  await expect(page.getByTestId('blackout')).toBeVisible();
  await request.post(`${base}/api/v1/rpc/wall.release`, { headers: admin, data: {} });
  await expect(page.getByTestId('view-stream')).toBeVisible();
});

test('the operator Walls panel runs a drill, acknowledges it and checks a profile', async ({ page }) => {
  const { base, token } = server();
  await page.goto(`${base}/#/operator?token=${encodeURIComponent(token)}`);
  const panel = page.getByTestId('wall-panel');
  await expect(panel).toBeVisible();
  await panel.getByRole('button', { name: 'Start a takeover drill' }).click();
  const row = panel.getByTestId('wall-alert').filter({ hasText: 'Takeover drill from the operator panel' });
  await expect(row).toHaveCount(1);
  await row.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(row).toHaveCount(0);

  await panel.getByRole('button', { name: 'Black out' }).click();
  await expect(panel.getByTestId('wall-control')).toHaveCount(1);
  await panel.getByTestId('wall-control').getByRole('button', { name: 'Release' }).click();
  await expect(panel.getByTestId('wall-control')).toHaveCount(0);

  await panel.getByRole('button', { name: /^lobby/ }).click();
  const editor = panel.getByTestId('profile-editor');
  await expect(editor).toHaveValue(/name = "lobby"/);
  await editor.fill('name = "x"\n[[screens]]\nindex = 0\nviews = ["volume", "nope"]\nrotate_seconds = 5\n');
  await panel.getByRole('button', { name: 'Check' }).click();
  await expect(panel.getByText(/line 4 screens\[0\]\.views\[1\]: unknown view "nope"/)).toBeVisible();
  await screenshot(page, 'operator-wall-panel');
});

test('hostile text in the new views stays inert and cannot break the layout', async ({ page }) => {
  const evil = `\u202Eevil<script>window.__pwned=1</script>\u200B${'😀'.repeat(10_000)}`;
  await postMentions([
    mention(evil, { topics: ['hostile-e2e'], author: { handle: '<img src=x onerror=window.__pwned=2>', followers: 99_000_000 } }),
  ]);
  for (const route of ['#/view/top_posts', '#/view/topics']) {
    await openWithToken(page, route);
    await expect(page.locator('[data-testid^=view-]').first()).toBeVisible();
    await page.waitForTimeout(500);
    const overflow = await page.evaluate(() => ({
      x: document.documentElement.scrollWidth - window.innerWidth,
      y: document.documentElement.scrollHeight - window.innerHeight,
    }));
    expect(overflow.x, `${route} scrolls sideways`).toBeLessThanOrEqual(0);
    expect(overflow.y, `${route} scrolls down`).toBeLessThanOrEqual(0);
    await expect(page.locator('main script, [data-testid^=view-] script, [data-testid^=view-] img')).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
  }
  await screenshot(page, 'hostile-topics');
});
