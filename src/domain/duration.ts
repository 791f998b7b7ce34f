/**
 * ISO-8601 durations (`PT4H`, `P1D`, `P1W`): parsing, comparison, wording and UTC arithmetic.
 * No I/O. Durations are stored and configured as ISO strings; this module is the one place that
 * turns them into numbers or sentences.
 */
import { DateTime, Duration } from 'luxon';
import { DomainError } from './errors.js';

const UNITS = [
  'years',
  'quarters',
  'months',
  'weeks',
  'days',
  'hours',
  'minutes',
  'seconds',
  'milliseconds',
] as const;

/**
 * The longest duration anything may be (a grant, an approval window, a reminder): one year of
 * 366 days. Just-in-time access for longer is not just in time, and without a bound a duration such
 * as P1000000Y makes an end time JavaScript cannot represent (an Invalid Date stored as expiresAt).
 */
export const MAX_DURATION_MS = 366 * 86_400_000;
export const MAX_DURATION_WORDS = '366 days';

/**
 * Parsed durations by their text (luxon's `Duration` is immutable, so one may be shared): a
 * policy names a handful, and each flow parses its duration a dozen times (form, submission,
 * decision, grant, reminders). Bounded: emptied when it grows past PARSED_MAX.
 */
const parsed = new Map<string, Duration | undefined>();
const PARSED_MAX = 1_000;

function tryParse(iso: string): Duration | undefined {
  if (typeof iso !== 'string' || iso.length > 50 || iso.trim() !== iso) return undefined;
  if (parsed.has(iso)) return parsed.get(iso);
  const d = parseOnce(iso);
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(iso, d);
  return d;
}

function parseOnce(iso: string): Duration | undefined {
  const d = Duration.fromISO(iso);
  if (!d.isValid) return undefined;
  // Every component must be non-negative (luxon accepts `PT-1H`) and the total strictly positive.
  const parts = d.toObject();
  if (UNITS.some((u) => (parts[u] ?? 0) < 0)) return undefined;
  const ms = d.toMillis();
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_DURATION_MS) return undefined;
  return d;
}

/** Why `iso` is not a usable duration, in words, or null when it is one. */
export function durationProblem(iso: unknown): string | null {
  if (typeof iso === 'string' && tryParse(iso)) return null;
  if (typeof iso === 'string' && iso.trim() === iso) {
    const d = Duration.fromISO(iso);
    const ms = d.isValid ? d.toMillis() : Number.NaN;
    if (ms > MAX_DURATION_MS || (d.isValid && !Number.isFinite(ms))) {
      return `"${iso}" is longer than the longest duration allowed (${MAX_DURATION_WORDS})`;
    }
  }
  return `"${String(iso)}" is not a positive ISO-8601 duration (e.g. PT4H, P1D, P1W)`;
}

/**
 * Parses a strictly positive ISO-8601 duration of at most MAX_DURATION_MS; throws
 * `DomainError('INVALID_INPUT')` otherwise.
 */
export function parseDuration(iso: string): Duration {
  const d = tryParse(iso);
  if (!d) {
    throw new DomainError('INVALID_INPUT', `${durationProblem(iso)}.`, 'duration');
  }
  return d;
}

export function isValidDuration(iso: string): boolean {
  return tryParse(iso) !== undefined;
}

/** Length in milliseconds. Months and years use luxon's casual conversion (30 and 365 days). */
export function durationMs(iso: string): number {
  return parseDuration(iso).toMillis();
}

const MS = { week: 604_800_000, day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1_000 } as const;

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** "4 hours", "1 day 12 hours", "1 week", "1 hour 30 minutes", "20 seconds". */
export function humanizeDuration(iso: string): string {
  let rest = durationMs(iso);
  const parts: string[] = [];
  for (const unit of ['week', 'day', 'hour', 'minute'] as const) {
    const n = Math.floor(rest / MS[unit]);
    if (n > 0) parts.push(plural(n, unit));
    rest -= n * MS[unit];
  }
  if (rest > 0) {
    const seconds = Math.round(rest) / 1000;
    parts.push(plural(Number(seconds.toFixed(3)), 'second'));
  }
  return parts.join(' ');
}

const CUSTOM_UNITS = { hour: 'H', day: 'D', week: 'W' } as const;

/** A custom duration picked in a form (whole number and unit) as ISO: PT{n}H, P{n}D or P{n}W. */
export function customToIso(amount: number, unit: 'hour' | 'day' | 'week'): string {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new DomainError('INVALID_INPUT', 'Enter a whole number greater than zero.', 'duration');
  }
  const letter = CUSTOM_UNITS[unit];
  if (!letter) throw new DomainError('INVALID_INPUT', `Unknown duration unit "${String(unit)}".`, 'duration');
  return unit === 'hour' ? `PT${amount}H` : `P${amount}${letter}`;
}

/** Bounds for a duration, inclusive. Refuses min > max, so a constraint is always satisfiable. */
export class DurationConstraint {
  private constructor(
    readonly min: string,
    readonly max: string,
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  static of(min: string, max: string): DurationConstraint {
    const minMs = durationMs(min);
    const maxMs = durationMs(max);
    if (minMs > maxMs) {
      throw new Error(`Duration constraint: min (${min}) must not be longer than max (${max}).`);
    }
    return new DurationConstraint(min, max, minMs, maxMs);
  }

  contains(iso: string): boolean {
    const d = tryParse(iso);
    if (!d) return false;
    const ms = d.toMillis();
    return ms >= this.minMs && ms <= this.maxMs;
  }
}

/**
 * The duration's length in ms when it has only fixed-length units (weeks, days and shorter: in UTC
 * a day is always 24 hours), so adding it is plain arithmetic; null when it has months, quarters or
 * years, which only the calendar can add.
 */
function fixedMs(d: Duration): number | null {
  return d.years || d.quarters || d.months ? null : d.toMillis();
}

export function addDuration(at: Date, iso: string): Date {
  const d = parseDuration(iso);
  const ms = fixedMs(d);
  if (ms !== null) return new Date(at.getTime() + ms);
  return DateTime.fromJSDate(at, { zone: 'utc' }).plus(d).toJSDate();
}

export function subtractDuration(at: Date, iso: string): Date {
  const d = parseDuration(iso);
  const ms = fixedMs(d);
  if (ms !== null) return new Date(at.getTime() - ms);
  return DateTime.fromJSDate(at, { zone: 'utc' }).minus(d).toJSDate();
}
