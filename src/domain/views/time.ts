import { DateTime } from 'luxon';
import { humanizeDuration } from '../duration.js';

/**
 * Formatted times by zone and minute. Luxon works out a zone's offset and name through `Intl` on
 * every call, which a profile of the throughput bench put at 6 % of the app's CPU; the format shows
 * minutes, and offsets change only on whole minutes, so one minute in one zone always reads the
 * same. Bounded: cleared when full.
 */
const formatted = new Map<string, string>();
const MAX_FORMATTED = 5_000;

/** "Tue 25 Nov 18:00 GMT" in the person's own time zone (UTC when unknown or invalid). */
export function formatTime(at: Date, tz: string | undefined): string {
  const minute = Math.floor(at.getTime() / 60_000);
  const key = `${tz ?? ''}\u0000${minute}`;
  const cached = formatted.get(key);
  if (cached !== undefined) return cached;
  const start = new Date(minute * 60_000);
  let dt = DateTime.fromJSDate(start, { zone: tz || 'utc' });
  if (!dt.isValid) dt = DateTime.fromJSDate(start, { zone: 'utc' });
  const text = dt.toFormat('ccc d LLL HH:mm ZZZZ');
  if (formatted.size >= MAX_FORMATTED) formatted.clear();
  formatted.set(key, text);
  return text;
}

export { humanizeDuration };
