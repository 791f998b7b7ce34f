/**
 * The read model: who sees which grants, the dashboard's filters and pages, a grant's timeline, a
 * resource's access history, recorded uses of access and the report's rows. Grants are made through
 * the real service (submit, decide, the provisioning job), so the audit trail is the real one.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import type { Grant, Person } from '../../src/domain/model.js';
import type { AccessService } from '../../src/domain/service.js';
import type { InProcessRunner } from '../../src/jobs/in-process.js';
import type { Store } from '../../src/store/index.js';
import { refusalCode as codeOf, startMemoryDomain } from '../support/domain.js';

const POLICY = `
groups: { auditors: [ann@example.com] }
admins: [auditors]
resources:
  - { id: db, name: Database, group: Acme, approvers: [alice@example.com], owners: [olga@example.com] }
  - { id: web, name: Web, group: Acme, approvers: [alice@example.com] }
  - { id: crm, name: CRM, approvers: [dave@example.com], policy: { approval: auto } }
`;

const person = (name: string): Person => ({ email: `${name.toLowerCase()}@example.com`, name });
const [ann, alice, olga, dave, bob, erin] = ['Ann', 'Alice', 'Olga', 'Dave', 'Bob', 'Erin'].map(person) as [
  Person,
  Person,
  Person,
  Person,
  Person,
  Person,
];

let clock: ManualClock;
let store: Store;
let runner: InProcessRunner;
let service: AccessService;

beforeEach(async () => {
  ({ clock, store, runner, service } = await startMemoryDomain(POLICY));
});

/** An active grant of `holder` on `resourceId`, approved by its approver; a minute passes first. */
async function grantOf(holder: Person, resourceId: string, justification = 'Deploy Changes'): Promise<Grant> {
  await runner.advance(60_000);
  const approver = resourceId === 'crm' ? [] : [resourceId === 'crm' ? dave.email : alice.email];
  const request = await service.submit({
    requester: holder,
    resourceId,
    approvers: approver,
    duration: 'PT4H',
    justification,
    submissionKey: randomUUID(),
  });
  if (request.status === 'pending') await service.decide(request.id, alice, 'approve');
  await runner.runDue();
  const grant = await store.repos.grants.findByRequestId(request.id);
  if (grant?.status !== 'active') throw new Error('grant not active');
  return grant;
}

const holders = (rows: Array<{ holder: Person; resourceId: string }>) =>
  rows.map((r) => `${r.holder.name}@${r.resourceId}`);

describe('who sees which grants', () => {
  beforeEach(async () => {
    await grantOf(bob, 'db');
    await grantOf(erin, 'web');
    await grantOf(bob, 'crm');
    await grantOf(alice, 'crm');
  });

  it('admins (by group) see every grant, newest first', async () => {
    const page = await service.listGrants(ann);
    expect(holders(page.rows)).toEqual(['Alice@crm', 'Bob@crm', 'Erin@web', 'Bob@db']);
    expect(page.total).toBe(4);
    expect(page.next).toBeNull();
  });

  it("approvers see their resources' grants and their own; owners their resource's; everyone their own", async () => {
    expect(holders((await service.listGrants(alice)).rows)).toEqual(['Alice@crm', 'Erin@web', 'Bob@db']);
    expect(holders((await service.listGrants(olga)).rows)).toEqual(['Bob@db']);
    expect(holders((await service.listGrants(dave)).rows)).toEqual(['Alice@crm', 'Bob@crm']);
    expect(holders((await service.listGrants(bob)).rows)).toEqual(['Bob@crm', 'Bob@db']);
    expect((await service.listGrants(erin)).total).toBe(1);
  });

  it('tells who someone is to the read model', () => {
    expect(service.viewer(ann)).toMatchObject({ admin: true });
    expect(service.viewer(alice)).toMatchObject({ admin: false, resources: new Set(['db', 'web']) });
    expect(service.viewer({ email: ' OLGA@example.com' }).resources).toEqual(new Set(['db']));
    expect(service.viewer(erin).resources.size).toBe(0);
  });

  it('a filter narrows what someone sees and never widens it', async () => {
    expect((await service.listGrants(erin, { user: bob.email })).rows).toEqual([]);
    expect((await service.listGrants(olga, { resource: 'web' })).rows).toEqual([]);
    expect(holders((await service.listGrants(bob, { resource: 'db' })).rows)).toEqual(['Bob@db']);
    expect(holders((await service.listGrants(dave, { user: 'BOB@example.com ' })).rows)).toEqual(['Bob@crm']);
  });

  it('filters by group, status and expiry, and pages with a total and a cursor', async () => {
    expect(holders((await service.listGrants(ann, { group: 'acme' })).rows)).toEqual(['Erin@web', 'Bob@db']);
    const first = await service.listGrants(ann, { status: 'active' }, { size: 3 });
    expect(first.rows).toHaveLength(3);
    expect(first.total).toBe(4);
    expect(first.next).not.toBeNull();
    const second = await service.listGrants(ann, { status: 'active' }, { size: 3, cursor: first.next ?? '' });
    expect(holders(second.rows)).toEqual(['Bob@db']);
    expect(second.next).toBeNull();
    expect((await service.listGrants(ann, { status: 'ended' })).total).toBe(0);
    // Bob's db grant was the first, so it expires first: four hours after its start.
    const dbGrant = second.rows[0];
    const until = dbGrant?.until ?? new Date(0);
    expect(holders((await service.listGrants(ann, { expiresTo: until })).rows)).toEqual(['Bob@db']);
    expect((await service.listGrants(ann, { expiresFrom: new Date(until.getTime() + 1) })).total).toBe(3);
  });

  it('shows an ended grant as ended, with who ended it', async () => {
    const [bobsDb] = (await service.listGrants(bob, { resource: 'db' })).rows;
    await service.endAccess(bobsDb?.id ?? '', olga);
    await runner.runDue();
    const [row] = (await service.listGrants(ann, { status: 'ended' })).rows;
    expect(row).toMatchObject({ status: 'ended', grantStatus: 'revoked', endReason: 'revoked-by-admin' });
    expect(row?.endedBy).toBe(olga.email);
  });

  it('refuses an unknown group, a bad cursor and an oversized page, and audits each refusal', async () => {
    expect(await codeOf(service.listGrants(alice, { group: 'Nope' }))).toBe('RESOURCE_UNKNOWN');
    expect(await codeOf(service.listGrants(alice, {}, { cursor: 'not-a-cursor' }))).toBe('INVALID_INPUT');
    expect(await codeOf(service.listGrants(alice, {}, { size: 1000 }))).toBe('INVALID_INPUT');
    const refused = await store.repos.audit.list({ type: 'action.refused', actor: alice.email });
    expect(refused.map((e) => e.details)).toEqual([
      { action: 'view', code: 'RESOURCE_UNKNOWN' },
      { action: 'view', code: 'INVALID_INPUT' },
      { action: 'view', code: 'INVALID_INPUT' },
    ]);
  });
});

describe("a grant's timeline", () => {
  it('tells who asked, who approved, the start, each extension asked for and granted, and who revoked it', async () => {
    const grant = await grantOf(bob, 'db');
    for (const duration of ['PT1H', 'PT2H']) {
      const ext = await service.submit({
        requester: bob,
        resourceId: 'db',
        approvers: [alice.email],
        duration,
        justification: 'more time',
        submissionKey: randomUUID(),
        grantId: grant.id,
      });
      await service.decide(ext.id, alice, 'approve');
      await runner.runDue();
    }
    await service.endAccess(grant.id, ann);
    await runner.runDue();
    const timeline = await service.grantTimeline(olga, grant.id);
    expect(timeline.entries.map((e) => [e.step, e.by])).toEqual([
      ['requested', bob.email],
      ['approved', alice.email],
      ['provisioned', 'system'],
      ['extension-requested', bob.email],
      ['extended', alice.email],
      ['extension-requested', bob.email],
      ['extended', alice.email],
      ['revoked', ann.email],
    ]);
    expect(timeline.entries[1]?.byName).toBe('Alice');
    const [first, second] = timeline.entries.filter((e) => e.step === 'extended');
    expect(second?.from).toEqual(first?.to);
    expect(timeline.grant).toMatchObject({ status: 'ended', extensions: 2, resourceName: 'Database' });
  });

  it('shows auto-approval and expiry, and the holder sees their own', async () => {
    const grant = await grantOf(bob, 'crm');
    await runner.advance(5 * 3600_000);
    const steps = (await service.grantTimeline(bob, grant.id)).entries.map((e) => `${e.step} by ${e.by}`);
    expect(steps).toEqual([
      'requested by bob@example.com',
      'auto-approved by system',
      'provisioned by system',
      'expired by system',
    ]);
  });

  it('is refused, and audited, for someone who may not see the grant, as for a grant that does not exist', async () => {
    const grant = await grantOf(bob, 'db');
    expect(await codeOf(service.grantTimeline(erin, grant.id))).toBe('NOT_ALLOWED_TO_VIEW');
    expect(await codeOf(service.grantTimeline(erin, 'nope'))).toBe('NOT_FOUND');
    const refused = await store.repos.audit.list({ type: 'action.refused', actor: erin.email });
    expect(refused.map((e) => [e.grantId, e.details?.code])).toEqual([
      [grant.id, 'NOT_ALLOWED_TO_VIEW'],
      ['nope', 'NOT_FOUND'],
    ]);
  });
});

describe("a resource's access history and recorded uses", () => {
  it('lists starts, uses, extensions and ends newest first, with the user, a page at a time', async () => {
    const grant = await grantOf(bob, 'db');
    await runner.advance(10 * 60_000);
    await service.recordAccessUse({ email: 'Bob@Example.com', resourceId: 'db', at: clock.now() }, 'api');
    await runner.advance(60_000);
    await service.endAccess(grant.id, bob);
    await runner.runDue();
    await grantOf(erin, 'web'); // another resource: not in db's history
    const page = await service.accessHistory(olga, 'db');
    expect(page.entries.map((e) => [e.kind, e.user.email])).toEqual([
      ['ended', bob.email],
      ['used', bob.email],
      ['started', bob.email],
    ]);
    expect(page.entries[0]).toMatchObject({ endReason: 'ended-by-holder', by: bob.email });
    const first = await service.accessHistory(alice, 'db', { size: 2 });
    expect(first.entries.map((e) => e.kind)).toEqual(['ended', 'used']);
    const rest = await service.accessHistory(alice, 'db', { size: 2, cursor: first.next ?? '' });
    expect(rest.entries.map((e) => e.kind)).toEqual(['started']);
    expect(rest.next).toBeNull();
  });

  it('is refused, and audited, for anyone but admins, approvers and owners', async () => {
    await grantOf(bob, 'db');
    expect(await codeOf(service.accessHistory(bob, 'db'))).toBe('NOT_ALLOWED_TO_VIEW');
    expect(await codeOf(service.accessHistory(dave, 'db'))).toBe('NOT_ALLOWED_TO_VIEW');
    expect((await service.accessHistory(ann, 'db')).entries).toHaveLength(1);
    const [refusal] = await store.repos.audit.list({ type: 'action.refused', actor: bob.email });
    expect(refusal).toMatchObject({
      resourceId: 'db',
      details: { action: 'view', code: 'NOT_ALLOWED_TO_VIEW' },
    });
  });

  it('records a use only while the person held an active grant, and audits the refusals', async () => {
    const started = clock.now();
    const grant = await grantOf(bob, 'db');
    const during = new Date((grant.startsAt as Date).getTime() + 60_000);
    const used = await service.recordAccessUse({ email: bob.email, resourceId: 'db', at: during }, 'api');
    expect(used).toMatchObject({ type: 'access.used', at: during, actor: bob.email, grantId: grant.id });
    expect(
      await codeOf(service.recordAccessUse({ email: bob.email, resourceId: 'db', at: started }, 'api')),
    ).toBe('NO_ACTIVE_GRANT');
    expect(
      await codeOf(service.recordAccessUse({ email: erin.email, resourceId: 'db', at: during }, 'api')),
    ).toBe('NO_ACTIVE_GRANT');
    const future = new Date(clock.now().getTime() + 3600_000);
    expect(
      await codeOf(service.recordAccessUse({ email: bob.email, resourceId: 'db', at: future }, 'api')),
    ).toBe('INVALID_INPUT');
    await runner.advance(5 * 3600_000); // expired
    const after = clock.now();
    expect(
      await codeOf(service.recordAccessUse({ email: bob.email, resourceId: 'db', at: after }, 'api')),
    ).toBe('NO_ACTIVE_GRANT');
    expect(await service.activeGrant(bob.email, 'db')).toBeNull();
    const refused = await store.repos.audit.list({ type: 'action.refused', actor: 'api' });
    expect(refused.map((e) => e.details?.code)).toEqual([
      'NO_ACTIVE_GRANT',
      'NO_ACTIVE_GRANT',
      'INVALID_INPUT',
      'NO_ACTIVE_GRANT',
    ]);
  });

  it('answers whether someone holds a resource now', async () => {
    const grant = await grantOf(bob, 'db');
    expect((await service.activeGrant('BOB@example.com', 'db'))?.id).toBe(grant.id);
    expect(await service.activeGrant(bob.email, 'web')).toBeNull();
  });
});

describe('the report rows', () => {
  it('joins each grant to its request: who decided and when, extensions, who revoked', async () => {
    const grant = await grantOf(bob, 'db', '=HYPERLINK("x")');
    const ext = await service.submit({
      requester: bob,
      resourceId: 'db',
      approvers: [alice.email],
      duration: 'PT1H',
      justification: 'more',
      submissionKey: randomUUID(),
      grantId: grant.id,
    });
    await service.decide(ext.id, alice, 'approve');
    await runner.runDue();
    await service.endAccess(grant.id, olga);
    await runner.runDue();
    await grantOf(erin, 'crm');
    const report = await service.accessReport(ann);
    expect(report.truncated).toBe(false);
    expect(
      report.rows.map((r) => [r.email, r.resourceName, r.status, r.decidedBy, r.extensions, r.revokedBy]),
    ).toEqual([
      [erin.email, 'CRM', 'active', 'auto-approved', 0, ''],
      [bob.email, 'Database', 'revoked', alice.email, 1, olga.email],
    ]);
    expect(report.rows[1]?.justification).toBe('=HYPERLINK("x")');
    expect((await service.accessReport(olga)).rows.map((r) => r.email)).toEqual([bob.email]);
    expect((await service.accessReport(ann, { user: erin.email })).rows).toHaveLength(1);
  });
});
