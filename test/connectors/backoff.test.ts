import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, backoffDelayMs, MAX_ATTEMPTS_BEFORE_REPORT } from '../../src/connectors/backoff.js';

const middle = () => 0.5;

describe('backoffDelayMs', () => {
  it('doubles from 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(n, middle))).toEqual([
      5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000,
    ]);
  });

  it('is capped at 10 minutes', () => {
    expect(backoffDelayMs(8, middle)).toBe(600_000);
    expect(backoffDelayMs(9, middle)).toBe(600_000);
    expect(backoffDelayMs(10_000, middle)).toBe(BACKOFF_CAP_MS);
  });

  it('adds ±20 % jitter', () => {
    expect(backoffDelayMs(1, () => 0)).toBe(4_000);
    expect(backoffDelayMs(1, () => 0.75)).toBe(5_500);
    expect(backoffDelayMs(1, () => 1)).toBe(6_000);
    expect(backoffDelayMs(20, () => 0)).toBe(480_000);
    expect(backoffDelayMs(20, () => 1)).toBe(720_000);
  });

  it('stays within the jitter band with the default random source', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(3);
      expect(d).toBeGreaterThanOrEqual(16_000);
      expect(d).toBeLessThanOrEqual(24_000);
    }
  });

  it('treats attempts below 1 and nonsense as the first attempt', () => {
    expect(backoffDelayMs(0, middle)).toBe(5_000);
    expect(backoffDelayMs(-3, middle)).toBe(5_000);
    expect(backoffDelayMs(Number.NaN, middle)).toBe(5_000);
    expect(backoffDelayMs(1, () => Number.NaN)).toBe(5_000);
  });

  it('reports after five attempts', () => {
    expect(MAX_ATTEMPTS_BEFORE_REPORT).toBe(5);
  });
});
