/**
 * One exponential backoff for every retry loop: connector calls (src/connectors/backoff.ts), job
 * handlers that throw (src/jobs/runner.ts) and message deliveries (the outbox). Pure arithmetic,
 * no clock and no I/O.
 */

export interface BackoffOptions {
  /** Delay after the first failed attempt. */
  baseMs: number;
  /** No delay exceeds this before jitter is applied. */
  maxMs: number;
  /** The failed attempt just made, 1-based. Below 1, fractional or not a number: the first. */
  attempt: number;
  /**
   * Spread as a fraction of the delay (0.2: ±20 %), applied after the cap so that many retries
   * failing together do not run in lock-step. Default 0: the exact delay.
   */
  jitter?: number;
  /** A number in [0, 1); tests pass a fixed function. `() => 0.5` gives the un-jittered delay. */
  random?: () => number;
}

/** `min(baseMs * 2^(attempt-1), maxMs)`, then ± `jitter`, rounded to whole milliseconds. */
export function exponentialBackoff(options: BackoffOptions): number {
  const { baseMs, maxMs, attempt, jitter = 0, random = Math.random } = options;
  const n = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  const capped = Math.min(baseMs * 2 ** (n - 1), maxMs);
  if (jitter <= 0) return Math.round(capped);
  const raw = random();
  const r = Number.isFinite(raw) ? Math.min(1, Math.max(0, raw)) : 0.5;
  return Math.round(capped * (1 + (r * 2 - 1) * jitter));
}
