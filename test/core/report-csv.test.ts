/** The access report's CSV: RFC 4180, times in the reader's zone, and no cell a spreadsheet would run. */
import { describe, expect, it } from 'vitest';
import { neutralise, REPORT_COLUMNS, reportCsv } from '../../src/core/reports/csv.js';
import type { ReportRow } from '../../src/domain/queries/report.js';

const row = (over: Partial<ReportRow> = {}): ReportRow => ({
  resourceId: 'acme-prod',
  resourceName: 'Acme, production',
  userName: 'Bob Support',
  email: 'bob@example.com',
  status: 'revoked',
  requestedAt: new Date('2026-11-23T09:00:00Z'),
  justification: 'Investigate ticket 42',
  decidedBy: 'alice@example.com',
  decidedAt: new Date('2026-11-23T09:05:00Z'),
  startedAt: new Date('2026-11-23T09:05:01Z'),
  expiresOrEndedAt: new Date('2026-11-23T10:00:00Z'),
  extensions: 2,
  revokedBy: 'admin@example.com',
  ...over,
});

describe('the access report as CSV', () => {
  it('has a header and one CRLF-terminated record per grant, times in the zone given', () => {
    const csv = reportCsv([row()], 'Europe/Berlin');
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(REPORT_COLUMNS.join(','));
    expect(lines[1]).toBe(
      '"Acme, production (acme-prod)",Bob Support,bob@example.com,revoked,2026-11-23T10:00:00+01:00,Investigate ticket 42,alice@example.com,2026-11-23T10:05:00+01:00,2026-11-23T10:05:01+01:00,2026-11-23T11:00:00+01:00,2,admin@example.com',
    );
    expect(lines[2]).toBe('');
    expect(lines).toHaveLength(3);
  });

  it('quotes commas, quotes and line breaks as RFC 4180 says', () => {
    const csv = reportCsv([row({ justification: 'said "now", then\nleft', userName: "O'Brien\r\nJr" })]);
    expect(csv).toContain('"said ""now"", then\nleft"');
    expect(csv).toContain('"O\'Brien\r\nJr"');
  });

  it.each([
    ['=HYPERLINK("http://evil.example","click")'],
    ['+1+1'],
    ['-2+3'],
    ['@SUM(A1:A2)'],
    ['\tcmd'],
    ['\r=1'],
  ])('neutralises a cell starting %j so no spreadsheet runs it', (text) => {
    expect(neutralise(text)).toBe(`'${text}`);
    const csv = reportCsv([row({ justification: text, userName: text })]);
    const record = csv.split('\r\n')[1] ?? '';
    expect(record).not.toMatch(/(^|,)"?[=+\-@\t\r]/);
    expect(csv).toContain(`'${text.replace(/"/g, '""')}`);
  });

  it('leaves ordinary text, and text with a formula character later on, as it is', () => {
    expect(neutralise('a=b')).toBe('a=b');
    expect(neutralise('bob@example.com')).toBe('bob@example.com');
    expect(neutralise('')).toBe('');
  });

  it('leaves the cells of a time not reached empty', () => {
    const csv = reportCsv([
      row({ status: 'provisioning', startedAt: undefined, expiresOrEndedAt: undefined, revokedBy: '' }),
    ]);
    expect(csv.split('\r\n')[1]).toMatch(/,provisioning,.*,,,2,$/);
  });
});
