import { describe, expect, it, vi } from 'vitest';
import { Backoff } from './backoff';
import { ApiError, AuthError, HttpTransport, isTauri, TauriTransport, toEvent, type ConnectionStatus } from './transport';
import type { SunwardEvent } from './types';

const flush = () => new Promise<void>((r) => setTimeout(r, 0));

/** A server-sent stream the test writes to. */
function sseBody() {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
  const enc = new TextEncoder();
  return {
    body,
    send: (s: string) => ctl.enqueue(enc.encode(s)),
    end: () => ctl.close(),
  };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

describe('HttpTransport.call', () => {
  it('POSTs JSON args to /api/v1/rpc/{command} with the bearer token', async () => {
    const fetch = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) => json(200, { ok: true }));
    const t = new HttpTransport('http://h:1/', 'tok', { fetch: fetch as unknown as typeof globalThis.fetch });
    await expect(t.call('volume', { minutes: 60 })).resolves.toEqual({ ok: true });
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('http://h:1/api/v1/rpc/volume');
    expect(init?.method).toBe('POST');
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect(init?.body).toBe('{"minutes":60}');
  });

  it('sends {} without args and no Authorization header without a token', async () => {
    const fetch = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) => json(200, {}));
    const t = new HttpTransport('http://h', null, { fetch: fetch as unknown as typeof globalThis.fetch });
    await t.call('health');
    const init = fetch.mock.calls[0]![1]!;
    expect(init.body).toBe('{}');
    expect('Authorization' in (init.headers as Record<string, string>)).toBe(false);
  });

  it('turns 401 into AuthError (token rejected vs required)', async () => {
    const fetch = (async () => json(401, { error: 'no' })) as unknown as typeof globalThis.fetch;
    const withToken = new HttpTransport('http://h', 'bad', { fetch });
    const statuses: ConnectionStatus[] = [];
    withToken.onStatus((s) => statuses.push(s));
    const e = await withToken.call('health').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthError);
    expect((e as AuthError).hadToken).toBe(true);
    expect((e as AuthError).message).toBe('token rejected');
    expect(statuses).toContain('unauthorized');
    const without = await new HttpTransport('http://h', null, { fetch }).call('health').catch((x: unknown) => x);
    expect((without as AuthError).message).toBe('token required');
  });

  it('reports the server error message', async () => {
    const fetch = (async () => json(400, { error: 'bad arguments: minutes' })) as unknown as typeof globalThis.fetch;
    const e = await new HttpTransport('http://h', 't', { fetch }).call('volume').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(400);
    expect((e as ApiError).message).toBe('bad arguments: minutes');
  });

  it('reports network errors as status 0', async () => {
    const fetch = (async () => {
      throw new TypeError('connection refused');
    }) as unknown as typeof globalThis.fetch;
    const e = await new HttpTransport('http://h', 't', { fetch }).call('health').catch((x: unknown) => x);
    expect((e as ApiError).status).toBe(0);
  });
});

describe('HttpTransport events', () => {
  it('streams SSE with the header, reconnects after the stream ends, then emits resync', async () => {
    const streams = [sseBody(), sseBody()];
    const requests: RequestInit[] = [];
    let n = 0;
    const fetch = (async (_u: string, init: RequestInit) => {
      requests.push(init);
      const s = streams[n++];
      if (!s) return new Promise<Response>(() => {});
      return new Response(s.body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
    }) as unknown as typeof globalThis.fetch;
    const sleeps: number[] = [];
    const t = new HttpTransport('http://h', 'tok', {
      fetch,
      backoff: new Backoff({ random: () => 1 }),
      sleep: async (ms) => void sleeps.push(ms),
    });
    const statuses: ConnectionStatus[] = [];
    t.onStatus((s) => statuses.push(s));
    const got: SunwardEvent[] = [];
    const off = t.subscribe((ev) => got.push(ev));
    await flush();
    expect((requests[0]!.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect(statuses.at(-1)).toBe('open');

    streams[0]!.send('event: heartbeat\ndata: {"type":"heartbeat","now":5}\n\n');
    streams[0]!.send('event: mentions\ndata: {"type":"mentions","count":2,');
    streams[0]!.send('"latest":[]}\n\n');
    await flush();
    expect(got).toEqual([
      { type: 'heartbeat', now: 5 },
      { type: 'mentions', count: 2, latest: [] },
    ]);

    streams[0]!.end();
    await flush();
    await flush();
    expect(statuses).toContain('reconnecting');
    expect(sleeps).toEqual([500]);
    expect(got.at(-1)).toEqual({ type: 'resync' });
    expect(statuses.at(-1)).toBe('open');

    off();
    expect(statuses.at(-1)).toBe('closed');
  });

  it('stops on 401 and says so', async () => {
    const fetch = vi.fn(async () => json(401, {}));
    const t = new HttpTransport('http://h', 'bad', { fetch: fetch as unknown as typeof globalThis.fetch, sleep: async () => {} });
    const statuses: ConnectionStatus[] = [];
    t.onStatus((s) => statuses.push(s));
    t.subscribe(() => {});
    await flush();
    await flush();
    expect(statuses.at(-1)).toBe('unauthorized');
    expect(fetch).toHaveBeenCalledTimes(1);
    t.close();
  });

  it('retries with growing delays while the server is down', async () => {
    let calls = 0;
    const fetch = (async () => {
      calls++;
      throw new TypeError('refused');
    }) as unknown as typeof globalThis.fetch;
    const sleeps: number[] = [];
    const t = new HttpTransport('http://h', 't', {
      fetch,
      backoff: new Backoff({ baseMs: 100, maxMs: 400, random: () => 1 }),
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length >= 4) t.close();
      },
    });
    t.subscribe(() => {});
    for (let i = 0; i < 10; i++) await flush();
    expect(sleeps).toEqual([100, 200, 400, 400]);
    expect(calls).toBe(4);
  });

  it('shares one stream between subscribers and closes it with the last', async () => {
    const s = sseBody();
    let aborted = false;
    const fetch = vi.fn(async (_u: string, init: RequestInit) => {
      init.signal?.addEventListener('abort', () => (aborted = true));
      return new Response(s.body, { status: 200 });
    });
    const t = new HttpTransport('http://h', 't', { fetch: fetch as unknown as typeof globalThis.fetch });
    const a: SunwardEvent[] = [];
    const b: SunwardEvent[] = [];
    const offA = t.subscribe((e) => a.push(e));
    const offB = t.subscribe((e) => b.push(e));
    await flush();
    s.send('data: {"type":"resync"}\n\n');
    await flush();
    expect(a).toEqual([{ type: 'resync' }]);
    expect(b).toEqual([{ type: 'resync' }]);
    expect(fetch).toHaveBeenCalledTimes(1);
    offA();
    expect(aborted).toBe(false);
    offB();
    expect(aborted).toBe(true);
  });
});

describe('toEvent', () => {
  it('uses the JSON type, else the SSE event name', () => {
    expect(toEvent({ event: 'heartbeat', data: '{"type":"heartbeat","now":1}', id: '' })).toEqual({ type: 'heartbeat', now: 1 });
    expect(toEvent({ event: 'resync', data: '{}', id: '' })).toEqual({ type: 'resync' });
    expect(toEvent({ event: 'message', data: '{}', id: '' })).toBeNull();
    expect(toEvent({ event: 'x', data: 'not json', id: '' })).toBeNull();
    expect(toEvent({ event: 'x', data: '[1]', id: '' })).toBeNull();
  });
});

describe('TauriTransport', () => {
  it('calls the dispatch command and wraps errors', async () => {
    const invoke = vi.fn(async (_cmd: string, _args?: Record<string, unknown>) => ({ ok: 1 }) as never);
    const t = new TauriTransport({ invoke, listen: async () => () => {} });
    await expect(t.call('health')).resolves.toEqual({ ok: 1 });
    expect(invoke).toHaveBeenCalledWith('dispatch', { command: 'health', args: {} });
    const failing = new TauriTransport({
      invoke: async () => {
        throw 'unknown command `x`';
      },
      listen: async () => () => {},
    });
    await expect(failing.call('x')).rejects.toThrow('unknown command `x`');
  });

  it('listens to sunward://event and unlistens even before listen resolved', async () => {
    let handler: ((e: { payload: unknown }) => void) | null = null;
    const unlisten = vi.fn();
    let resolveListen!: (u: () => void) => void;
    const t = new TauriTransport({
      invoke: async () => undefined as never,
      listen: (name, h) => {
        expect(name).toBe('sunward://event');
        handler = h as (e: { payload: unknown }) => void;
        return new Promise((r) => (resolveListen = r));
      },
    });
    const got: SunwardEvent[] = [];
    const off = t.subscribe((e) => got.push(e));
    handler!({ payload: { type: 'heartbeat', now: 1 } });
    expect(got).toEqual([{ type: 'heartbeat', now: 1 }]);
    off();
    resolveListen(unlisten);
    await flush();
    expect(unlisten).toHaveBeenCalledTimes(1);
  });

  it('is chosen when __TAURI_INTERNALS__ exists', () => {
    expect(isTauri({ __TAURI_INTERNALS__: {} })).toBe(true);
    expect(isTauri({})).toBe(false);
  });
});
