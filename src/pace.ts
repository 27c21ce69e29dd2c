/**
 * The minimum pace of a transfer the client controls, one rule for both directions: a body
 * arriving (src/uploads.ts) and an answer being taken (src/deliveries.ts) must move at least
 * `minBytesPerSecond` on average over each window of `windowMs`.
 */
export interface PaceRules {
  readonly minBytesPerSecond: number;
  readonly windowMs: number;
}

/** Where the current window of a transfer began: its time and the bytes moved by then. */
export interface PaceMark {
  markAt: number;
  markBytes: number;
}

/**
 * The rate of the window just ended when it was below the minimum; null while the window runs or
 * when it was fast enough, the next window then starting from `now`.
 */
export function slowRate(rules: PaceRules, mark: PaceMark, bytes: number, now: number): number | null {
  if (now - mark.markAt < rules.windowMs) return null;
  const rate = ((bytes - mark.markBytes) * 1000) / (now - mark.markAt);
  if (rate < rules.minBytesPerSecond) return rate;
  mark.markAt = now;
  mark.markBytes = bytes;
  return null;
}
