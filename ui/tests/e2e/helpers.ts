import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const uiRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const shotsDir = join(uiRoot, 'test-results');

export function server(): { base: string; token: string } {
  const base = process.env.SUNWARD_E2E_URL;
  const token = process.env.SUNWARD_TOKEN;
  if (!base || !token) throw new Error('global-setup did not start the server');
  return { base, token };
}

export interface NdjsonMention {
  source: string;
  id: string;
  created_at: string;
  text: string;
  channel: string;
  [extra: string]: unknown;
}

let seq = 0;
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export function mention(text: string, extra: Partial<NdjsonMention> = {}): NdjsonMention {
  return { source: 'e2e', id: uniqueId('m'), created_at: new Date().toISOString(), text, channel: 'x', ...extra };
}

/** POST mentions as NDJSON to /api/v1/mentions; returns the server's report. */
export async function postMentions(items: NdjsonMention[]): Promise<unknown> {
  const { base, token } = server();
  const res = await fetch(`${base}/api/v1/mentions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-ndjson' },
    body: items.map((m) => JSON.stringify(m)).join('\n') + '\n',
  });
  const text = await res.text();
  expect(res.status, `POST /api/v1/mentions: ${text}`).toBeLessThan(300);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function parseCount(text: string | null): number {
  const digits = (text ?? '').replace(/[^\d]/g, '');
  if (!digits) throw new Error(`not a number on screen: ${JSON.stringify(text)}`);
  return Number(digits);
}

/** Open a page with the token in the URL and wait until the event stream is connected. */
export async function openWithToken(page: Page, route: string): Promise<void> {
  const { base, token } = server();
  await page.goto(`${base}/${route}${route.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`);
  await expect(page.locator('[data-connection]').first()).toHaveAttribute('data-connection', 'open');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(shotsDir, { recursive: true });
  const path = join(shotsDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
