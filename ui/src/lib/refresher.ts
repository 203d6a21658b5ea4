// When a view re-reads its data: on `mentions` events (at most once per second), on `resync`
// (at once), and every 15 s regardless. Loads never overlap: a trigger during a load queues
// exactly one more load after it.

import { realTimers, throttle, type Timers } from './throttle';
import type { SunwardEvent } from './types';

export interface RefresherOptions {
  throttleMs?: number;
  intervalMs?: number;
  timers?: Timers;
  /** Called for every `mentions` event before the throttled load (e.g. to merge `latest`). */
  onMentions?: (ev: Extract<SunwardEvent, { type: 'mentions' }>) => void;
}

export interface Refresher {
  /** Ask for a load now (coalesced with one in flight). */
  refresh(): void;
  stop(): void;
}

export function startRefresher(
  load: () => Promise<unknown>,
  subscribe: (handler: (ev: SunwardEvent) => void) => () => void,
  opts: RefresherOptions = {},
): Refresher {
  const timers = opts.timers ?? realTimers;
  const intervalMs = opts.intervalMs ?? 15_000;
  let stopped = false;
  let running = false;
  let again = false;
  let periodic: unknown = null;

  const arm = () => {
    if (periodic !== null) timers.clearTimeout(periodic);
    periodic = stopped ? null : timers.setTimeout(tick, intervalMs);
  };
  const tick = () => {
    periodic = null;
    refresh();
  };

  const refresh = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    arm(); // the 15 s clock counts from the last load
    Promise.resolve()
      .then(load)
      .catch((e) => console.warn('sunward: refresh failed', e))
      .finally(() => {
        running = false;
        if (again && !stopped) {
          again = false;
          refresh();
        }
      });
  };

  const onMention = throttle(refresh, opts.throttleMs ?? 1000, timers);
  const unsubscribe = subscribe((ev) => {
    if (ev.type === 'mentions') {
      opts.onMentions?.(ev);
      onMention();
    } else if (ev.type === 'resync') {
      refresh();
    }
  });

  refresh();

  return {
    refresh,
    stop() {
      stopped = true;
      onMention.cancel();
      unsubscribe();
      if (periodic !== null) timers.clearTimeout(periodic);
      periodic = null;
    },
  };
}
