// App-wide reactive state: the transport, connection, last event time, a ticking clock.

import type { ConnectionStatus, Transport } from './transport';
import type { Health } from './types';

export type AuthState = 'pending' | 'ok' | 'required' | 'rejected' | 'unreachable';

class Live {
  transport = $state.raw<Transport | null>(null);
  connection = $state<ConnectionStatus>('closed');
  auth = $state<AuthState>('pending');
  /** Why the server could not be reached (shown while retrying). */
  problem = $state('');
  health = $state.raw<Health | null>(null);
  /** Client time of the last event of any kind (heartbeats included). */
  lastEventAt = $state(Date.now());
  /** Ticks once per second: drives clocks and staleness. */
  now = $state(Date.now());
}

export const live = new Live();

let ticking = false;
export function startClock(): void {
  if (ticking) return;
  ticking = true;
  const tick = () => {
    live.now = Date.now();
    // Re-align to the next whole second so the clock never skips or doubles a second.
    setTimeout(tick, 1000 - (live.now % 1000) + 5);
  };
  tick();
}
