// Throttle with leading and trailing calls: the first trigger runs at once, triggers during the
// window collapse into one trailing run at the end of it. So a burst of `mentions` events causes
// at most one refresh per second, and the last event of a burst is never lost.

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface Throttled {
  (): void;
  /** Drop a pending trailing call. */
  cancel(): void;
}

export function throttle(fn: () => void, intervalMs: number, timers: Timers = realTimers): Throttled {
  let last = -Infinity;
  let pending: unknown = null;

  const run = () => {
    pending = null;
    last = timers.now();
    fn();
  };

  const throttled = (() => {
    if (pending !== null) return; // a trailing run is already scheduled
    const wait = last + intervalMs - timers.now();
    if (wait <= 0) run();
    else pending = timers.setTimeout(run, wait);
  }) as Throttled;

  throttled.cancel = () => {
    if (pending !== null) timers.clearTimeout(pending);
    pending = null;
  };
  return throttled;
}
