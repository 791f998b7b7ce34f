import { DateTime, Duration } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addDuration,
  customToIso,
  DurationConstraint,
  durationMs,
  humanizeDuration,
  isValidDuration,
  parseDuration,
  subtractDuration,
} from '../../src/domain/duration.js';
import { DomainError, isDomainError } from '../../src/domain/errors.js';

describe('parseDuration', () => {
  it('accepts any strictly positive ISO-8601 duration', () => {
    for (const iso of ['PT20S', 'P1W', 'P1DT2H', 'PT0.5S', 'PT4H', 'P1M']) {
      expect(parseDuration(iso).toMillis()).toBeGreaterThan(0);
    }
  });

  it('refuses malformed, zero and negative durations with INVALID_INPUT', () => {
    for (const iso of ['', 'P', '4h', 'pt4h', 'PT0S', 'P0D', 'PT-1H', 'P1DT-2H', ' PT4H']) {
      expect(isValidDuration(iso)).toBe(false);
      try {
        parseDuration(iso);
        expect.unreachable(`${iso} should be refused`);
      } catch (e) {
        expect(isDomainError(e)).toBe(true);
        expect((e as DomainError).code).toBe('INVALID_INPUT');
      }
    }
  });
});

describe('durationMs', () => {
  it('converts to milliseconds, weeks as seven days', () => {
    expect(durationMs('PT4H')).toBe(4 * 3_600_000);
    expect(durationMs('P1W')).toBe(durationMs('P7D'));
    expect(durationMs('PT90M')).toBe(durationMs('PT1H30M'));
  });
});

describe('humanizeDuration', () => {
  it.each([
    ['PT4H', '4 hours'],
    ['PT8H', '8 hours'],
    ['P1D', '1 day'],
    ['P3D', '3 days'],
    ['P1W', '1 week'],
    ['P7D', '1 week'],
    ['PT90M', '1 hour 30 minutes'],
    ['PT20S', '20 seconds'],
    ['P1DT2H', '1 day 2 hours'],
    ['PT36H', '1 day 12 hours'],
    ['PT1M', '1 minute'],
    ['P2W1D', '2 weeks 1 day'],
  ])('words %s as "%s"', (iso, words) => {
    expect(humanizeDuration(iso)).toBe(words);
  });
});

describe('customToIso', () => {
  it('turns a whole number and unit into ISO', () => {
    expect(customToIso(6, 'hour')).toBe('PT6H');
    expect(customToIso(2, 'day')).toBe('P2D');
    expect(customToIso(1, 'week')).toBe('P1W');
  });

  it('refuses zero, negative and fractional amounts', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) {
      expect(() => customToIso(n, 'hour')).toThrow(DomainError);
    }
  });
});

describe('DurationConstraint', () => {
  it('contains durations between min and max inclusive, compared by length', () => {
    const c = DurationConstraint.of('PT1H', 'P7D');
    expect(c.min).toBe('PT1H');
    expect(c.max).toBe('P7D');
    expect(c.contains('PT1H')).toBe(true);
    expect(c.contains('P1W')).toBe(true);
    expect(c.contains('PT59M')).toBe(false);
    expect(c.contains('P8D')).toBe(false);
    expect(c.contains('nonsense')).toBe(false);
  });

  it('refuses a min longer than its max', () => {
    expect(() => DurationConstraint.of('P2D', 'P1D')).toThrow(/min \(P2D\).*max \(P1D\)/);
  });
});

describe('addDuration and subtractDuration', () => {
  it('do UTC arithmetic', () => {
    const at = new Date('2024-03-30T22:00:00Z');
    expect(addDuration(at, 'PT4H').toISOString()).toBe('2024-03-31T02:00:00.000Z');
    expect(addDuration(at, 'P1D').toISOString()).toBe('2024-03-31T22:00:00.000Z');
    expect(subtractDuration(at, 'PT30M').toISOString()).toBe('2024-03-30T21:30:00.000Z');
  });

  it('agree with the calendar (luxon in UTC) for every kind of duration, fractions, leap days and month ends included', () => {
    const durations = [
      'PT20S',
      'PT0.5S',
      'PT90M',
      'PT1.5H',
      'P1DT2H',
      'P1.5D',
      'P1W',
      'P2W3D',
      'P1M',
      'P1Y',
      'P1M2D',
      'P3M',
    ];
    const dates = [
      '2024-02-28T23:30:00Z',
      '2024-01-31T12:00:00Z',
      '2023-12-31T23:59:59.250Z',
      '2024-10-27T00:30:00Z',
    ];
    for (const iso of durations) {
      for (const text of dates) {
        const at = new Date(text);
        const utc = DateTime.fromJSDate(at, { zone: 'utc' });
        expect(addDuration(at, iso).toISOString(), `${text} + ${iso}`).toBe(
          utc.plus(Duration.fromISO(iso)).toJSDate().toISOString(),
        );
        expect(subtractDuration(at, iso).toISOString(), `${text} - ${iso}`).toBe(
          utc.minus(Duration.fromISO(iso)).toJSDate().toISOString(),
        );
      }
    }
  });

  it('give the same answer for a duration parsed before (parsed durations are kept)', () => {
    const at = new Date('2024-03-30T22:00:00Z');
    expect(addDuration(at, 'PT4H')).toEqual(addDuration(at, 'PT4H'));
    expect(() => parseDuration('PT-1H')).toThrow(DomainError);
    expect(() => parseDuration('PT-1H')).toThrow(DomainError);
  });
});
