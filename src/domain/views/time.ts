import { DateTime } from 'luxon';
import { humanizeDuration } from '../duration.js';

/** "Tue 25 Nov 18:00 GMT" in the person's own time zone (UTC when unknown or invalid). */
export function formatTime(at: Date, tz: string | undefined): string {
  let dt = DateTime.fromJSDate(at, { zone: tz || 'utc' });
  if (!dt.isValid) dt = DateTime.fromJSDate(at, { zone: 'utc' });
  return dt.toFormat('ccc d LLL HH:mm ZZZZ');
}

export { humanizeDuration };
