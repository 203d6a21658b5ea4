// The one way the UI talks to the core (docs/architecture.md, "The one API"):
// `call(command, args)` and `subscribe(handler)`, with a Tauri and an HTTP implementation.

import { Backoff } from './backoff';
import { SseParser, type SseMessage } from './sse';
import type { SunwardEvent } from './types';

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed';

export interface Transport {
  call<T>(command: string, args?: object): Promise<T>;
  subscribe(handler: (ev: SunwardEvent) => void): () => void;
  /** Event-stream connection state, for the status line. */
  onStatus(handler: (s: ConnectionStatus) => void): () => void;
  readonly kind: 'tauri' | 'http';
}

/** A command failed. `status` is the HTTP status (0 for network errors and IPC). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly command: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server rejected (or wanted) the access token: HTTP 401. */
export class AuthError extends ApiError {
  constructor(command: string, readonly hadToken: boolean) {
    super(hadToken ? 'token rejected' : 'token required', 401, command);
    this.name = 'AuthError';
  }
}

type Listener<T> = (v: T) => void;

class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  add(fn: Listener<T>): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  emit(v: T): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(v);
      } catch (e) {
        console.error('sunward: event handler failed', e);
      }
    }
  }
  get size(): number {
    return this.listeners.size;
  }
}

/** Turn one SSE message into an event: data is the event's JSON, the SSE name is its type. */
export function toEvent(msg: SseMessage): SunwardEvent | null {
  let data: unknown;
  try {
    data = msg.data === '' ? {} : JSON.parse(msg.data);
  } catch {
    return null;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  const obj = data as Record<string, unknown>;
  const type = typeof obj.type === 'string' ? obj.type : msg.event !== 'message' ? msg.event : '';
  if (!type) return null;
  return { ...obj, type } as SunwardEvent;
}

export interface HttpTransportOptions {
  fetch?: typeof fetch;
  /** Abort a command after this long. */
  callTimeoutMs?: number;
  /** Reconnect when the stream is silent this long (the server sends a heartbeat every 5 s). */
  idleTimeoutMs?: number;
  backoff?: Backoff;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/**
 * HTTP + SSE: `POST {base}/api/v1/rpc/{command}` with a bearer token, events read from
 * `GET {base}/api/v1/events` with fetch() streaming (EventSource cannot send the header).
 * Reconnects with backoff and emits a synthetic `resync` after every reconnect.
 */
export class HttpTransport implements Transport {
  readonly kind = 'http';
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly events = new Emitter<SunwardEvent>();
  private readonly statuses = new Emitter<ConnectionStatus>();
  private status: ConnectionStatus = 'closed';
  private stop: AbortController | null = null;
  private readonly opts: Required<Omit<HttpTransportOptions, 'fetch'>>;

  constructor(
    baseUrl: string,
    private readonly token: string | null,
    opts: HttpTransportOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.opts = {
      callTimeoutMs: opts.callTimeoutMs ?? 15_000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 20_000,
      backoff: opts.backoff ?? new Backoff(),
      sleep: opts.sleep ?? abortableSleep,
    };
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    return h;
  }

  async call<T>(command: string, args: object = {}): Promise<T> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.opts.callTimeoutMs);
    let res: Response;
    try {
      res = await this.fetch(`${this.base}/api/v1/rpc/${encodeURIComponent(command)}`, {
        method: 'POST',
        headers: this.headers({ 'Content-Type': 'application/json', Accept: 'application/json' }),
        body: JSON.stringify(args),
        signal: ctl.signal,
        cache: 'no-store',
      });
    } catch (e) {
      throw new ApiError(ctl.signal.aborted ? 'request timed out' : `network error: ${String(e)}`, 0, command);
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 401) {
      this.setStatus('unauthorized');
      throw new AuthError(command, !!this.token);
    }
    const text = await res.text();
    if (!res.ok) throw new ApiError(errorMessage(text, res.status), res.status, command);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError('the server sent something that is not JSON', res.status, command);
    }
  }

  subscribe(handler: (ev: SunwardEvent) => void): () => void {
    const off = this.events.add(handler);
    if (!this.stop) this.startStream();
    return () => {
      off();
      if (this.events.size === 0) this.stopStream();
    };
  }

  onStatus(handler: (s: ConnectionStatus) => void): () => void {
    handler(this.status);
    return this.statuses.add(handler);
  }

  /** Stop the event stream (all subscriptions). */
  close(): void {
    this.stopStream();
  }

  private setStatus(s: ConnectionStatus): void {
    if (s === this.status) return;
    this.status = s;
    this.statuses.emit(s);
  }

  private stopStream(): void {
    this.stop?.abort();
    this.stop = null;
    this.setStatus('closed');
  }

  private startStream(): void {
    const stop = new AbortController();
    this.stop = stop;
    void this.streamLoop(stop.signal);
  }

  private async streamLoop(stopped: AbortSignal): Promise<void> {
    const backoff = this.opts.backoff;
    let connectedBefore = false;
    this.setStatus('connecting');
    while (!stopped.aborted) {
      const attempt = new AbortController();
      const onStop = () => attempt.abort();
      stopped.addEventListener('abort', onStop);
      try {
        const res = await this.fetch(`${this.base}/api/v1/events`, {
          headers: this.headers({ Accept: 'text/event-stream' }),
          signal: attempt.signal,
          cache: 'no-store',
        });
        if (res.status === 401) {
          this.setStatus('unauthorized');
          return; // a new token means a new transport
        }
        if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
        this.setStatus('open');
        backoff.reset();
        if (connectedBefore) this.events.emit({ type: 'resync' });
        connectedBefore = true;
        await this.readStream(res.body, attempt);
      } catch {
        // network error, abort by the idle watchdog, or stop: decided below
      } finally {
        stopped.removeEventListener('abort', onStop);
      }
      if (stopped.aborted) break;
      this.setStatus('reconnecting');
      await this.opts.sleep(backoff.next(), stopped);
    }
  }

  private async readStream(body: ReadableStream<Uint8Array>, attempt: AbortController): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser((msg) => {
      const ev = toEvent(msg);
      if (ev) this.events.emit(ev);
    });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => attempt.abort(), this.opts.idleTimeoutMs);
    };
    const onAbort = () => void reader.cancel().catch(() => {});
    attempt.signal.addEventListener('abort', onAbort);
    try {
      arm();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        parser.push(decoder.decode(value, { stream: true }));
      }
      parser.push(decoder.decode());
      parser.end();
    } finally {
      clearTimeout(idle);
      attempt.signal.removeEventListener('abort', onAbort);
    }
  }
}

function errorMessage(body: string, status: number): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown };
    const m = j.error ?? j.message;
    if (typeof m === 'string' && m) return m;
    if (m && typeof m === 'object' && typeof (m as { message?: unknown }).message === 'string') {
      return (m as { message: string }).message;
    }
  } catch {
    /* not JSON */
  }
  const t = body.trim();
  return t ? t.slice(0, 200) : `HTTP ${status}`;
}

/** The two functions of `@tauri-apps/api` we use (injected: tests need no Tauri). */
export interface TauriCore {
  invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  listen<T>(event: string, handler: (e: { payload: T }) => void): Promise<() => void>;
}

/** Desktop windows: the `dispatch` IPC command and the `sunward://event` Tauri event. */
export class TauriTransport implements Transport {
  readonly kind = 'tauri';
  constructor(private readonly core: TauriCore) {}

  async call<T>(command: string, args: object = {}): Promise<T> {
    try {
      return await this.core.invoke<T>('dispatch', { command, args });
    } catch (e) {
      const msg = typeof e === 'string' ? e : e instanceof Error ? e.message : JSON.stringify(e);
      throw new ApiError(msg, 0, command);
    }
  }

  subscribe(handler: (ev: SunwardEvent) => void): () => void {
    let unlisten: (() => void) | null = null;
    let cancelled = false;
    this.core
      .listen<SunwardEvent>('sunward://event', (e) => handler(e.payload))
      .then((u) => {
        if (cancelled) u();
        else unlisten = u;
      })
      .catch((e) => console.error('sunward: listen failed', e));
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }

  onStatus(handler: (s: ConnectionStatus) => void): () => void {
    handler('open'); // IPC inside the process: always connected
    return () => {};
  }
}

export function isTauri(w: unknown = globalThis): boolean {
  return !!w && typeof w === 'object' && '__TAURI_INTERNALS__' in w;
}

/** Tauri when running inside the desktop shell, else HTTP against the page's own origin. */
export async function createTransport(token: string | null): Promise<Transport> {
  if (isTauri()) {
    const [core, event] = await Promise.all([import('@tauri-apps/api/core'), import('@tauri-apps/api/event')]);
    return new TauriTransport({
      invoke: (cmd, args) => core.invoke(cmd, args),
      listen: (name, handler) => event.listen(name, handler),
    });
  }
  return new HttpTransport(window.location.origin, token);
}
