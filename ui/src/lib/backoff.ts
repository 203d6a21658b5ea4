// Reconnect delays: exponential with a cap and "equal jitter" so many wall PCs that lost the
// server at the same moment do not all come back in the same millisecond.

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 500;
    this.maxMs = opts.maxMs ?? 15_000;
    this.random = opts.random ?? Math.random;
  }

  /** The delay before the next attempt; each call counts one failed attempt. */
  next(): number {
    const exp = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const half = exp / 2;
    return Math.round(half + this.random() * half);
  }

  /** A connection succeeded: start again from the base delay. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
