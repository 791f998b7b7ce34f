/**
 * The access report as a CSV file: RFC 4180 (csv-stringify; CRLF between records, a field holding a
 * comma, a quote or a line break quoted), one header row, one row per grant, times in the reader's
 * zone as ISO 8601 with their offset. A cell that a spreadsheet would take for a formula (it starts
 * with `=`, `+`, `-`, `@`, a tab or a carriage return) is neutralised with a leading apostrophe.
 */
import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import type { ReportRow } from '../../domain/queries/report.js';

export const REPORT_COLUMNS = [
  'resource',
  'user name',
  'email',
  'status',
  'requested at',
  'justification',
  'decided by',
  'decided at',
  'started',
  'expires or ended',
  'extensions',
  'revoked by',
] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell a spreadsheet shows as text: a leading apostrophe keeps it from running as a formula. */
export function neutralise(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

function time(at: Date | undefined, zone: string): string {
  if (!at) return '';
  const local = DateTime.fromJSDate(at, { zone });
  return (
    (local.isValid ? local : DateTime.fromJSDate(at, { zone: 'utc' })).toISO({
      suppressMilliseconds: true,
    }) ?? ''
  );
}

export function reportCsv(rows: readonly ReportRow[], zone = 'UTC'): string {
  const records = rows.map((r) =>
    [
      r.resourceName === r.resourceId ? r.resourceId : `${r.resourceName} (${r.resourceId})`,
      r.userName,
      r.email,
      r.status,
      time(r.requestedAt, zone),
      r.justification,
      r.decidedBy,
      time(r.decidedAt, zone),
      time(r.startedAt, zone),
      time(r.expiresOrEndedAt, zone),
      String(r.extensions),
      r.revokedBy,
    ].map(neutralise),
  );
  return stringify([[...REPORT_COLUMNS], ...records], {
    record_delimiter: 'windows',
    quoted_match: /[\r\n]/,
  });
}
