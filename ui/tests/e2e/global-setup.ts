// Starts `sunward serve` on a free loopback port with a fresh database and a random token,
// waits for /api/v1/health, and hands the address and token to the tests through env vars.
//
//   SUNWARD_BIN       the binary (default ../target/debug/sunward, relative to ui/)
//   SUNWARD_E2E_MOCK  =1: run tests/mock-server.mjs instead (UI development without the Rust build)
//   SUNWARD_E2E_URL   use an already running server (with SUNWARD_E2E_TOKEN); nothing is started

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const uiRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

async function waitHealthy(base: string, token: string, child: ChildProcess | null, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`sunward serve exited with ${child.exitCode} before it was healthy.\n${log()}`);
    }
    try {
      const res = await fetch(`${base}/api/v1/health`, { headers: { Authorization: `Bearer ${token}` } });
      if (res.status === 200) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`sunward serve not healthy at ${base} after 60 s (last: ${last}).\n${log()}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (process.env.SUNWARD_E2E_URL) {
    const token = process.env.SUNWARD_E2E_TOKEN ?? '';
    await waitHealthy(process.env.SUNWARD_E2E_URL, token, null, () => '');
    process.env.SUNWARD_TOKEN = token;
    return async () => {};
  }

  const uiDist = join(uiRoot, 'dist');
  if (!existsSync(join(uiDist, 'index.html'))) {
    throw new Error(`${uiDist}/index.html is missing: run \`npm run build\` before \`npm run e2e\`.`);
  }
  const mock = process.env.SUNWARD_E2E_MOCK === '1';
  const bin = resolve(uiRoot, process.env.SUNWARD_BIN ?? '../target/debug/sunward');
  if (!mock && !existsSync(bin)) {
    throw new Error(`${bin} not found: build it (\`cargo build\`) or set SUNWARD_BIN.`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sunward-e2e-'));
  const port = await freePort();
  const token = randomBytes(18).toString('base64url');
  const base = `http://127.0.0.1:${port}`;
  const serveArgs = ['serve', '--db', join(dir, 'e2e.db'), '--listen', `127.0.0.1:${port}`];
  const [cmd, argv] = mock ? [process.execPath, [join(uiRoot, 'tests', 'mock-server.mjs'), ...serveArgs]] : [bin, serveArgs];

  let output = '';
  const child = spawn(cmd, argv, {
    env: { ...process.env, SUNWARD_TOKEN: token, SUNWARD_UI_DIR: uiDist, RUST_LOG: process.env.RUST_LOG ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitHealthy(base, token, child, () => output);
  } catch (e) {
    await stop();
    throw e;
  }
  process.env.SUNWARD_E2E_URL = base;
  process.env.SUNWARD_TOKEN = token;
  // Tests that issue more tokens (wall tokens: walls.spec.ts) run the CLI on the same database.
  process.env.SUNWARD_E2E_DB = join(dir, 'e2e.db');
  process.env.SUNWARD_E2E_BIN = mock ? '' : bin;
  console.log(`e2e: ${mock ? 'MOCK server' : bin} at ${base}`);
  return stop;
}
