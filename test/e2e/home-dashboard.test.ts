import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/domain/model.js';
import { collectText, type FakeView, type JsonObject } from '../support/fake-slack.js';
import { click, eventually, onlyRequest, requestAccess, settle, waitForDm } from '../support/flows.js';
import {
  buttons,
  home,
  homeAction,
  modalFromHome,
  openHome,
  refreshed,
  sectionOf,
  textOf,
} from '../support/home.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { admin, alice, bob, dave, erin, carol } = USERS;
const HOUR = 3_600_000;

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

/** Bob's approved grant of acme-prod (approved by Alice on her card) and Erin's auto-approved staging-db. */
async function twoGrants(): Promise<{ acme: Grant; staging: Grant }> {
  await requestAccess(t, bob, { approvers: [alice.email], justification: 'Rotate the TLS keys' });
  await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
  await requestAccess(t, erin, { resource: 'staging-db', duration: '4 hours', justification: 'Load test' });
  return eventually(async () => {
    const grants = await t.store.repos.grants.list({ status: 'active' });
    const acme = grants.find((g) => g.resourceId === 'acme-prod');
    const staging = grants.find((g) => g.resourceId === 'staging-db');
    expect(acme && staging).toBeTruthy();
    return { acme: acme as Grant, staging: staging as Grant };
  });
}

const dashboard = (view: FakeView) => sectionOf(view, 'dashboard');

/** The admin's Next or Previous under the dashboard. */
const turn = (way: 'next' | 'previous') =>
  homeAction(t, admin, `jit.home.page.${way}`, { value: 'dashboard', blockId: 'dashboard.pager' });

describe('the grants dashboard in the App Home tab', () => {
  it('shows admins every grant, approvers their resources only, and nobody else a dashboard', async () => {
    const { acme, staging } = await twoGrants();
    const forAdmin = dashboard(await openHome(t, admin));
    expect(textOf(forAdmin)).toContain('Grants dashboard (all resources)');
    expect(textOf(forAdmin)).toContain('Bob Support (bob@example.com) · Acme Corp — production tenant');
    expect(textOf(forAdmin)).toContain('Erin Outsider (erin@example.com) · Staging database');
    expect(textOf(forAdmin)).toMatch(/Active · since .* · until /);
    expect(
      buttons(forAdmin, 'jit.grant.revoke')
        .map((b) => b.value)
        .sort(),
    ).toEqual([acme.id, staging.id].sort());
    expect(buttons(forAdmin, 'jit.grant.details')).toHaveLength(2);

    const forDave = dashboard(await openHome(t, dave));
    expect(textOf(forDave)).toContain('the resources you approve or own');
    expect(textOf(forDave)).toContain('Bob Support');
    expect(textOf(forDave)).not.toContain('Erin Outsider');

    expect(dashboard(await openHome(t, erin))).toEqual([]);
    // Times are in the viewer's own zone (Dave is in New York).
    expect(textOf(forDave)).toMatch(/EST|EDT/);
  });

  it('filters by resource, person, status and expiry date, keeps the filters across refreshes, and clears them', async () => {
    await twoGrants();
    await openHome(t, admin);
    let view = await homeAction(t, admin, 'jit.home.filter.resource', {
      selectedOption: 'resource:staging-db',
    });
    expect(textOf(dashboard(view))).toContain('Filtered: Staging database.');
    expect(textOf(dashboard(view))).toContain('Erin Outsider');
    expect(textOf(dashboard(view))).not.toContain('Bob Support');

    view = await homeAction(t, admin, 'jit.home.filter.clear');
    view = await homeAction(t, admin, 'jit.home.filter.user', { selectedUser: bob.id });
    expect(textOf(dashboard(view))).toContain('Bob Support');
    expect(textOf(dashboard(view))).not.toContain('Erin Outsider');

    view = await homeAction(t, admin, 'jit.home.filter.status', { selectedOption: 'ended' });
    expect(textOf(dashboard(view))).toContain('No access matches.');
    view = await homeAction(t, admin, 'jit.home.filter.clear');
    expect(buttons(dashboard(view), 'jit.grant.details')).toHaveLength(2);

    // Both grants end in 4 hours: expiring by yesterday finds neither; by tomorrow finds both.
    const yesterday = new Date(t.clock.now().getTime() - 24 * HOUR).toISOString().slice(0, 10);
    view = await homeAction(t, admin, 'jit.home.filter.expires', { selectedDate: yesterday });
    expect(textOf(dashboard(view))).toContain('No access matches.');
    const tomorrow = new Date(t.clock.now().getTime() + 24 * HOUR).toISOString().slice(0, 10);
    view = await homeAction(t, admin, 'jit.home.filter.expires', { selectedDate: tomorrow });
    expect(buttons(dashboard(view), 'jit.grant.details')).toHaveLength(2);

    // The filters stay when the home is refreshed after a change elsewhere.
    view = await homeAction(t, admin, 'jit.home.filter.resource', { selectedOption: 'resource:acme-prod' });
    await requestAccess(t, carol, {
      resource: 'staging-db',
      duration: '1 hour',
      justification: 'Check a query',
    });
    await refreshed(t);
    expect(textOf(dashboard(home(t, admin)))).toContain('Filtered: Acme Corp — production tenant');
    expect(textOf(dashboard(home(t, admin)))).not.toContain('Carol Support');
  });

  it('pages through many grants with Next and Previous, saying what is shown of how many', async () => {
    const now = t.clock.now();
    for (let i = 0; i < 23; i++) {
      const n = String(i).padStart(2, '0');
      await t.store.repos.grants.insert({
        id: `grant-${n}`,
        requestId: `request-${n}`,
        resourceId: 'staging-db',
        holder: { email: `person${n}@example.com`, name: `Person ${n}` },
        duration: 'PT4H',
        justification: 'Load test',
        status: 'active',
        createdAt: new Date(now.getTime() - (23 - i) * 60_000),
        startsAt: now,
        expiresAt: new Date(now.getTime() + 4 * HOUR),
        attempts: 0,
      });
    }
    let view = await openHome(t, admin);
    expect(textOf(dashboard(view))).toContain('Showing 1–10 of 23.');
    expect(textOf(dashboard(view))).toContain('Person 22'); // newest first
    expect(buttons(dashboard(view), 'jit.home.page.next')).toHaveLength(1);
    expect(buttons(dashboard(view), 'jit.home.page.previous')).toHaveLength(0);
    view = await turn('next');
    expect(textOf(dashboard(view))).toContain('Showing 11–20 of 23.');
    expect(buttons(dashboard(view), 'jit.home.page.previous')).toHaveLength(1);
    view = await turn('next');
    expect(textOf(dashboard(view))).toContain('Showing 21–23 of 23.');
    expect(textOf(dashboard(view))).toContain('Person 00');
    expect(buttons(dashboard(view), 'jit.home.page.next')).toHaveLength(0);
    view = await turn('previous');
    expect(textOf(dashboard(view))).toContain('Showing 11–20 of 23.');
    // Everything fits Slack's 100 blocks (the fake refuses more), and every row has its buttons.
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(buttons(dashboard(view), 'jit.grant.revoke')).toHaveLength(10);
  });

  it('revokes from the dashboard after a confirmation with a reason: the connector is called and the holder told', async () => {
    const { acme } = await twoGrants();
    await openHome(t, admin);
    const [revoke] = buttons(dashboard(home(t, admin)), 'jit.grant.revoke').filter(
      (b) => b.value === acme.id,
    );
    const modal = await modalFromHome(t, admin, 'jit.grant.revoke', revoke ?? {});
    expect(modal.callback_id).toBe('jit.revoke.form');
    expect(collectText(modal.blocks)).toContain(
      "Revoke Bob Support's access to Acme Corp — production tenant now?",
    );
    // Nothing happens before the confirmation.
    expect((await t.store.repos.grants.get(acme.id))?.status).toBe('active');

    const res = await t.slack.viewSubmission({
      userId: admin.id,
      view: modal as unknown as JsonObject,
      values: { 'jit.revoke.reason': 'Incident 7: keys leaked' },
    });
    expect(res.status).toBe(200);
    await eventually(async () => expect((await t.store.repos.grants.get(acme.id))?.status).toBe('revoked'));
    const revoked = t.hooks.calls.map((c) => c.body as { event: string; grant: { id: string } });
    expect(revoked.filter((c) => c.event === 'grant.revoked').map((c) => c.grant.id)).toEqual([acme.id]);
    const told = await waitForDm(t, bob, 'Ada Admin revoked it');
    expect(collectText(told.blocks)).toContain('Reason: Incident 7: keys leaked');
    const [audited] = await t.store.repos.audit.list({ grantId: acme.id, type: 'grant.revoked' });
    expect(audited).toMatchObject({ actor: admin.email, details: { comment: 'Incident 7: keys leaked' } });
    const timeline = await modalFromHome(t, admin, 'jit.grant.details', { value: acme.id });
    expect(collectText(timeline.blocks)).toContain(
      'Revoked by Ada Admin (admin@example.com). Reason: Incident 7: keys leaked',
    );
    await refreshed(t);
    expect(textOf(dashboard(home(t, admin)))).toMatch(/Ended · since .* · ended /);
    expect(textOf(sectionOf(home(t, admin), 'dashboard'))).toContain('Bob Support');
  });

  it('lets an approver of the resource revoke too, and opens the timeline from Details', async () => {
    const { acme } = await twoGrants();
    await openHome(t, dave);
    const details = collectText(
      (await modalFromHome(t, dave, 'jit.grant.details', { value: acme.id })).blocks,
    );
    expect(details).toContain('Requested by Bob Support (bob@example.com)');
    expect(details).toContain('Approved by Alice Approver (alice@example.com)');
    expect(details).toContain('Access set up (provisioned)');
    expect(details).toMatch(/EST|EDT/);

    const modal = await modalFromHome(t, dave, 'jit.grant.revoke', { value: acme.id });
    await t.slack.viewSubmission({ userId: dave.id, view: modal as unknown as JsonObject, values: {} });
    await eventually(async () =>
      expect(await t.store.repos.grants.get(acme.id)).toMatchObject({
        status: 'revoked',
        endedBy: dave.email,
      }),
    );
  });
});

describe('refusals and admin decisions from the home', () => {
  /** A click someone sends without the button being on their home (a forged or stale one). */
  async function forged(user: { id: string }, actionId: string, value: string) {
    await openHome(t, user);
    const res = await t.slack.blockAction({
      userId: user.id,
      actionId,
      view: { id: home(t, user).id, type: 'home' } as JsonObject,
      value,
    });
    expect(res.status).toBe(200);
    await settle(200);
  }

  it('refuses a revocation by someone who is neither admin, owner, approver nor holder', async () => {
    const { acme } = await twoGrants();
    await forged(erin, 'jit.grant.revoke', acme.id);
    await waitForDm(t, erin, 'Only the holder, an administrator, or an owner or approver');
    expect((await t.store.repos.grants.get(acme.id))?.status).toBe('active');
    expect(
      t.fake
        .callsTo('views.open')
        .filter((c) => (c.args.view as JsonObject)?.callback_id === 'jit.revoke.form'),
    ).toEqual([]);
    const refused = await t.store.repos.audit.list({ type: 'action.refused', actor: erin.email });
    expect(refused.map((e) => e.details?.code)).toContain('NOT_HOLDER');
  });

  it('answers a filter the read model refuses (a forged resource) with why, and a way back', async () => {
    await openHome(t, dave);
    // A forged option, not one the menu offered.
    const view = await homeAction(t, dave, 'jit.home.filter.resource', {
      selectedOption: { text: 'Nope', value: 'resource:nope' },
    });
    expect(textOf(dashboard(view))).toContain(
      'There is no resource “nope”. Clear the filters to start again.',
    );
    expect(buttons(dashboard(view), 'jit.home.filter.clear')).toHaveLength(1);
    const cleared = await homeAction(t, dave, 'jit.home.filter.clear');
    expect(textOf(dashboard(cleared))).toContain('No access matches.');
    const refused = await t.store.repos.audit.list({ type: 'action.refused', actor: dave.email });
    expect(refused.map((e) => e.details?.code)).toContain('RESOURCE_UNKNOWN');
  });

  it('refuses a decision by someone who is not an approver, and anyone deciding their own request', async () => {
    await requestAccess(t, carol, { approvers: [alice.email] });
    const request = await onlyRequest(t);
    await forged(erin, 'jit.request.approve', request.id);
    await waitForDm(t, erin, 'Only the approvers chosen for this request can decide it.');
    await forged(carol, 'jit.request.approve', request.id);
    await waitForDm(t, carol, 'You cannot decide your own request.');
    expect((await onlyRequest(t)).status).toBe('pending');
    // Carol approves acme-prod requests, but her own is not in her queue.
    expect(textOf(sectionOf(home(t, carol), 'decisions'))).toContain(
      'No request is waiting for your decision.',
    );
  });

  it('lets an admin decide a request they were not chosen for: an admin decision the chosen approvers are told of', async () => {
    await openHome(t, admin);
    await requestAccess(t, bob, { approvers: [alice.email, dave.email], justification: 'Deploy the fix' });
    const aliceCard = await waitForDm(t, alice, 'Approve');
    await refreshed(t);
    const queue = sectionOf(home(t, admin), 'decisions');
    expect(textOf(queue)).toContain('Requests waiting for a decision');
    expect(textOf(queue)).toContain('deciding it is an admin decision');
    const [approve] = buttons(queue, 'jit.request.approve');
    await homeAction(t, admin, 'jit.request.approve', { value: approve?.value, blockId: approve?.blockId });
    const request = await onlyRequest(t);
    expect(request).toMatchObject({ status: 'approved', decidedBy: admin.email, decidedAs: 'admin' });
    // The chosen approvers' cards are edited in place and each is told.
    await eventually(() => {
      const edited = t.fake.messagesIn(t.fake.dmChannelFor(alice.id)).find((m) => m.ts === aliceCard.ts);
      expect(collectText(edited?.blocks)).toContain('Approved by Ada Admin (as administrator)');
    });
    await waitForDm(t, dave, 'Approved by Ada Admin (as administrator)');
    await waitForDm(t, bob, 'Approved by Ada Admin (as administrator)');
  });
});

describe('the dashboard over resource groups', () => {
  const GROUPED = `
defaults: { approval: auto, durations: [PT1H] }
admins: [admin@example.com]
resources:
  - { id: acme-prod, name: Acme production, group: Acme, approvers: [alice@example.com] }
  - { id: acme-staging, name: Acme staging, group: Acme, approvers: [alice@example.com] }
  - { id: globex-prod, name: Globex production, group: Globex, approvers: [dave@example.com] }
`;

  it('offers the resources by group, and filters by a whole group', async () => {
    await t.close();
    t = await startTestSystem({ policy: GROUPED });
    for (const resource of ['acme-prod', 'acme-staging', 'globex-prod']) {
      await requestAccess(t, erin, { resource, duration: '1 hour', justification: 'Audit' });
    }
    await eventually(async () =>
      expect(await t.store.repos.grants.list({ status: 'active' })).toHaveLength(3),
    );
    const view = await openHome(t, admin);
    const filter = JSON.stringify(dashboard(view));
    expect(filter).toContain('"label":{"type":"plain_text","text":"Acme"}');
    expect(filter).toContain('"value":"group:Globex"');
    const byGroup = await homeAction(t, admin, 'jit.home.filter.resource', { selectedOption: 'group:Acme' });
    expect(textOf(dashboard(byGroup))).toContain('Filtered: group Acme.');
    expect(buttons(dashboard(byGroup), 'jit.grant.details')).toHaveLength(2);
    const rows = dashboard(byGroup).filter((b) => /^dashboard\.\d+\.text$/.test(String(b.block_id)));
    expect(textOf(rows)).toContain('Acme staging');
    expect(textOf(rows)).not.toContain('Globex production');
  });
});
