// Which view a wall screen shows now. Rotation is aligned to the epoch, so every screen with the
// same playlist switches in the same second (a wall that changes in step looks intentional), and
// a reloaded window lands on the same view as before. The core has the same function
// (src/wall/playlist.rs#playlist_at).

export interface RotationState {
  /** Index into the screen's items. */
  index: number;
  /** Milliseconds until the next switch; `null` when the screen does not rotate. */
  nextInMs: number | null;
}

export const MIN_ROTATE_SECONDS = 5;

export function rotationAt(viewCount: number, rotateSeconds: number, nowMs: number): RotationState {
  if (viewCount <= 1 || !Number.isFinite(rotateSeconds) || rotateSeconds <= 0) {
    return { index: 0, nextInMs: null };
  }
  return playlistAt(Array.from({ length: viewCount }, () => rotateSeconds), nowMs);
}

/** Per-item dwell times (seconds): the item on screen at `nowMs`. */
export function playlistAt(dwellSeconds: readonly number[], nowMs: number): RotationState {
  if (dwellSeconds.length <= 1) return { index: 0, nextInMs: null };
  const ms = dwellSeconds.map((d) => Math.max(MIN_ROTATE_SECONDS, Number.isFinite(d) ? d : 0) * 1000);
  const cycle = ms.reduce((a, b) => a + b, 0);
  let pos = ((nowMs % cycle) + cycle) % cycle;
  for (const [i, d] of ms.entries()) {
    if (pos < d) return { index: i, nextInMs: d - pos };
    pos -= d;
  }
  return { index: 0, nextInMs: ms[0] ?? null };
}
