import { exponentialBackoff } from '../domain/backoff.js';

/**
 * Retry timing for connector deliveries. The retry loop itself lives in the domain (it reschedules
 * `grant.retry` jobs); this only says how long to wait before attempt `attempt + 1`.
 */

/** After this many failed attempts the domain reports the failure to the admins (and keeps retrying). */
export const MAX_ATTEMPTS_BEFORE_REPORT = 5;

export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_CAP_MS = 10 * 60_000;
export const BACKOFF_JITTER = 0.2;

/**
 * Delay after the `attempt`-th failed attempt (1-based): `min(5 s * 2^(attempt-1), 10 min)`, then
 * ±20 % jitter so that many grants failing together do not retry in lock-step. The jitter is applied
 * after the cap, so the longest delay is 12 min. `random` must return a number in [0, 1); tests
 * pass a fixed function (`() => 0.5` gives the exact un-jittered delay).
 */
export function backoffDelayMs(attempt: number, random: () => number = Math.random): number {
  return exponentialBackoff({
    baseMs: BACKOFF_BASE_MS,
    maxMs: BACKOFF_CAP_MS,
    attempt,
    jitter: BACKOFF_JITTER,
    random,
  });
}
