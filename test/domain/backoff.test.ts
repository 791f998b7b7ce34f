import { describe, expect, it } from 'vitest';
import { exponentialBackoff } from '../../src/domain/backoff.js';
import { defaultRetryPolicy, retryDelayMs } from '../../src/jobs/runner.js';

describe('exponentialBackoff', () => {
  const base = { baseMs: 1_000, maxMs: 10_000 };

  it('doubles from the base delay up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => exponentialBackoff({ ...base, attempt }))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
  });

  it('has no jitter unless asked, and never consults the random source then', () => {
    const random = () => {
      throw new Error('not expected');
    };
    expect(exponentialBackoff({ ...base, attempt: 2, random })).toBe(2_000);
  });

  it('spreads the capped delay by ± jitter', () => {
    const at = (r: number) => exponentialBackoff({ ...base, attempt: 9, jitter: 0.1, random: () => r });
    expect([at(0), at(0.5), at(1)]).toEqual([9_000, 10_000, 11_000]);
  });

  it('treats attempts below 1, fractions and nonsense as the first attempt, and a broken random as the middle', () => {
    for (const attempt of [0, -2, 0.4, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(exponentialBackoff({ ...base, attempt })).toBe(1_000);
    }
    expect(exponentialBackoff({ ...base, attempt: 1, jitter: 0.5, random: () => Number.NaN })).toBe(1_000);
  });
});

describe('retryDelayMs (job handlers that throw)', () => {
  it('backs off from the policy’s base delay and stops once the retries are used up', () => {
    const policy = { retries: 4, baseDelayMs: 1_000, maxDelayMs: 5_000 };
    expect([0, 1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n))).toEqual([
      null,
      1_000,
      2_000,
      4_000,
      5_000,
      null,
    ]);
    expect(retryDelayMs(defaultRetryPolicy, 1)).toBe(defaultRetryPolicy.baseDelayMs);
  });
});
