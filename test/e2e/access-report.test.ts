/**
 * `/access-report` through the real Bolt app (signed slash commands) and the fake Slack: the CSV
 * arrives in the caller's DM through files.getUploadURLExternal, the upload URL and
 * files.completeUploadExternal, and holds what that person may see; the same report behind a
 * short-lived signed link served by the bot (for Teams).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPORT_COLUMNS } from '../../src/core/reports/csv.js';
import { eventually, requestAccess } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { admin, bob, carol, erin, alice } = USERS;

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

async function activeGrantOf(user: { id: string; email: string }, justification: string) {
  await requestAccess(t, user, { resource: 'staging-db', duration: '1 hour', justification });
  await eventually(async () => {
    const [grant] = await t.store.repos.grants.list({ holderEmail: user.email, status: 'active' });
    expect(grant).toBeDefined();
  });
  t.clock.advance(60_000);
}

/** Runs `/access-report <text>` as `user` and returns the CSV that arrived in their DM. */
async function report(user: { id: string }, text = ''): Promise<string> {
  const mark = t.fake.checkpoint();
  const res = await t.slack.slashCommand({ command: '/access-report', text, userId: user.id });
  expect(res.status).toBe(200);
  await t.fake.waitFor('files.completeUploadExternal', (c) => c.seq >= mark);
  const [file] = t.fake.files.sharedIn(t.fake.dmChannelFor(user.id)).slice(-1);
  if (!file?.content) throw new Error('no file shared');
  expect(file.content.length).toBe(file.declaredLength);
  return file.content.toString('utf8');
}

const records = (csv: string) => csv.split('\r\n').filter((l) => l !== '');

describe('/access-report', () => {
  it('uploads a CSV of every grant to an admin’s DM, neutralising formulas, through the files.uploadV2 flow', async () => {
    await activeGrantOf(bob, '=HYPERLINK("http://evil.example","click me")');
    await activeGrantOf(carol, 'Deploy, then "verify"');
    const csv = await report(admin);

    const methods = t.fake.calls.map((c) => c.method).filter((m) => m.startsWith('files.'));
    expect(methods).toEqual(['files.getUploadURLExternal', 'files.completeUploadExternal']);
    const [file] = t.fake.files.sharedIn(t.fake.dmChannelFor(admin.id));
    expect(file?.filename).toMatch(/^access-report-all-\d{4}-\d{2}-\d{2}\.csv$/);
    const message = t.fake.messagesIn(t.fake.dmChannelFor(admin.id)).at(-1);
    expect(message?.files?.[0]).toMatchObject({ id: file?.id, mimetype: 'text/csv' });
    expect(message?.text).toContain('Access report: all (2 grants)');

    const lines = records(csv);
    expect(lines[0]).toBe(REPORT_COLUMNS.join(','));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('Carol Support,carol@example.com,active');
    expect(lines[1]).toContain('"Deploy, then ""verify"""');
    expect(lines[1]).toContain(',auto-approved,');
    expect(lines[2]).toContain('Bob Support,bob@example.com,active');
    expect(lines[2]).toContain(`"'=HYPERLINK(""http://evil.example"",""click me"")"`);
  });

  it('filters by resource, person and date, and shows a person only their own grants', async () => {
    await activeGrantOf(bob, 'first');
    await activeGrantOf(carol, 'second');
    expect(records(await report(admin, 'bob@example.com'))).toHaveLength(2);
    expect(records(await report(admin, 'Staging database since 2000-01-01'))).toHaveLength(3);
    expect(records(await report(admin, 'staging-db since 2999-01-01'))).toHaveLength(1);
    // Alice approves staging-db: she sees both; Bob only his own; Erin none.
    expect(records(await report(alice))).toHaveLength(3);
    const bobs = records(await report(bob));
    expect(bobs).toHaveLength(2);
    expect(bobs[1]).toContain('bob@example.com');
    expect(records(await report(erin))).toHaveLength(1);
  });

  it('tells the person, and uploads nothing, when the words name nothing or the date is not one', async () => {
    for (const [text, says] of [
      ['no-such-thing', 'No resource or resource group is called “no-such-thing”'],
      ['staging-db since yesterday', '“since” takes a date such as 2026-01-31'],
      ['bob@', '“bob@” is not an email address'],
    ] as const) {
      const res = await t.slack.slashCommand({ command: '/access-report', text, userId: admin.id });
      expect(res.status).toBe(200);
      await eventually(() => {
        const told = t.fake.ephemeralsTo(admin.id).map((e) => e.text);
        expect(
          told.some((m) => m.includes(says)),
          JSON.stringify(told),
        ).toBe(true);
      });
    }
    expect(t.fake.files.all()).toEqual([]);
  });
});

describe('the signed report link', () => {
  it('serves the report as the person who asked, until it expires; a forged link gets 403', async () => {
    await activeGrantOf(bob, 'only one');
    const person = { email: bob.email, name: bob.realName, tz: bob.tz };
    const url = t.system.reportLink(person, 'staging-db');
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${t.system.port}/reports/access\\.csv\\?token=`));
    const token = decodeURIComponent(url.split('token=')[1] ?? '');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="access-report-staging-db-/,
    );
    const lines = records(await res.text());
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('bob@example.com');
    expect(lines[1]).toContain('+09:00'); // Bob's zone (Asia/Tokyo)

    const [body, mac] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ email: admin.email, name: 'x', query: '', exp: 9e15 })).toString('base64url')}.${mac}`;
    for (const bad of [forged, `${body}.AAAA`, '', 'nonsense']) {
      const r = await fetch(
        `http://127.0.0.1:${t.system.port}/reports/access.csv?token=${encodeURIComponent(bad)}`,
      );
      expect(r.status).toBe(403);
    }
    t.clock.advance(16 * 60_000);
    expect((await fetch(url)).status).toBe(403);
  });
});
