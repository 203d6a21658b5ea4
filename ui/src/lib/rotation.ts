// Which view a wall screen shows now. Rotation is aligned to the epoch, so every screen with the
// same period switches in the same second (a wall that changes in step looks intentional), and a
// reloaded window lands on the same view as before.

export interface RotationState {
  /** Index into the screen's views. */
  index: number;
  /** Milliseconds until the next switch; `null` when the screen does not rotate. */
  nextInMs: number | null;
}

export const MIN_ROTATE_SECONDS = 5;

export function rotationAt(viewCount: number, rotateSeconds: number, nowMs: number): RotationState {
  if (viewCount <= 1 || !Number.isFinite(rotateSeconds) || rotateSeconds <= 0) {
    return { index: 0, nextInMs: null };
  }
  const periodMs = Math.max(MIN_ROTATE_SECONDS, rotateSeconds) * 1000;
  const slot = Math.floor(nowMs / periodMs);
  const index = ((slot % viewCount) + viewCount) % viewCount;
  const nextInMs = (slot + 1) * periodMs - nowMs;
  return { index, nextInMs };
}
