/**
 * `/access-report [resource | group | user email] [since <date>]` (and "access report" in Teams),
 * once for every platform: what the words ask for, and the finished file. A platform only delivers
 * it (Slack: an upload to the person's DM; Teams: a short-lived signed link, ./links.ts).
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import type { Person } from '../../domain/model.js';
import type { GrantFilter } from '../../domain/queries/grants.js';
import { resourcesOfGroup } from '../../domain/queries/visibility.js';
import type { AccessService } from '../../domain/service.js';
import { reportCsv } from './csv.js';

/** The longest command text read (Slack allows far more; nothing meaningful is this long). */
export const MAX_REPORT_QUERY = 300;

const email = z.email();

/**
 * The filter the words ask for: an email is a user; otherwise a resource (id or name), else a
 * group; `since <date>` (YYYY-MM-DD, the start of that day in `zone`) limits it to grants requested
 * from then on. Nothing: every grant the person may see.
 */
export function parseReportQuery(service: AccessService, text: string, zone: string): GrantFilter {
  let words = text.trim().slice(0, MAX_REPORT_QUERY);
  const filter: GrantFilter = {};
  const since = /(?:^|\s)since\s+(\S+)$/i.exec(words);
  if (since) {
    const day = DateTime.fromISO(since[1] ?? '', { zone });
    if (!day.isValid || !/^\d{4}-\d{2}-\d{2}$/.test(since[1] ?? '')) {
      throw new DomainError('INVALID_INPUT', `“since” takes a date such as 2026-01-31, not “${since[1]}”.`);
    }
    filter.since = day.startOf('day').toJSDate();
    words = words.slice(0, since.index).trim();
  }
  if (words === '') return filter;
  if (words.includes('@')) {
    if (!email.safeParse(words).success)
      throw new DomainError('INVALID_INPUT', `“${words}” is not an email address.`);
    filter.user = words.toLowerCase();
    return filter;
  }
  const resource = service.findResource(words);
  if (resource) {
    filter.resource = resource.id;
    return filter;
  }
  if (resourcesOfGroup(service.config, words).length > 0) {
    filter.group = words;
    return filter;
  }
  throw new DomainError(
    'RESOURCE_UNKNOWN',
    `No resource or resource group is called “${words}”. Give a resource id or name, a group, or a person’s email.`,
  );
}

export interface ReportFile {
  filename: string;
  title: string;
  csv: string;
  rows: number;
  truncated: boolean;
}

/** The report `person` asked for with `text`, as a CSV file (times in their zone). */
export async function buildAccessReport(
  service: AccessService,
  person: Person,
  text: string,
): Promise<ReportFile> {
  const zone = person.tz ?? 'UTC';
  const filter = parseReportQuery(service, text, zone);
  const report = await service.accessReport(person, filter);
  const day = DateTime.fromJSDate(service.now(), { zone }).toISODate() ?? 'report';
  const scope = filter.resource ?? filter.group ?? filter.user ?? 'all';
  return {
    filename: `access-report-${slug(scope)}-${day}.csv`,
    title: `Access report: ${scope}${filter.since ? ` since ${DateTime.fromJSDate(filter.since, { zone }).toISODate()}` : ''}`,
    csv: reportCsv(report.rows, zone),
    rows: report.rows.length,
    truncated: report.truncated,
  };
}

/** What the person is told with the file. */
export function reportSummary(file: ReportFile): string {
  const count = file.rows === 1 ? '1 grant' : `${file.rows} grants`;
  const cut = file.truncated
    ? ' The report was cut there; narrow it with a resource, group, person or “since”.'
    : '';
  return `${file.title} (${count}).${cut}`;
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'all'
  );
}
