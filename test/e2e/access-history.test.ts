/**
 * A resource's access history in Slack (issue 7): for its owners, approvers and admins, from the
 * grants dashboard filtered to the resource and from a grant's details; newest first, with user name,
 * email and when access started, was used, was extended and ended; paged in place; refused
 * (audited) for anyone else. Through the real Bolt app, signed requests and the fake Slack Web API.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/domain/model.js';
import { collectText, type FakeView, type JsonObject } from '../support/fake-slack.js';
import { click, eventually, requestAccess, settle, waitForDm } from '../support/flows.js';
import { buttons, homeAction, modalFromHome, openHome, sectionOf } from '../support/home.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { admin, alice, bob, dave } = USERS;

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

/** Bob's grant of acme-prod, approved by Alice on her card. */
async function bobsGrant(): Promise<Grant> {
  await requestAccess(t, bob, { approvers: [alice.email], justification: 'Rotate the TLS keys' });
  await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
  return eventually(async () => {
    const [grant] = await t.store.repos.grants.list({ holderEmail: bob.email, status: 'active' });
    expect(grant).toBeDefined();
    return grant as Grant;
  });
}

/** Presses a button inside a modal the user has open; returns the modal Slack shows next. */
async function pressInModal(
  user: { id: string },
  modal: FakeView,
  actionId: string,
  method: 'views.push' | 'views.update',
): Promise<FakeView> {
  const mark = t.fake.checkpoint();
  await t.slack.blockAction({ userId: user.id, actionId, view: modal as unknown as JsonObject });
  const call = await t.fake.waitFor(method, (c) => c.seq >= mark);
  expect(call.response.ok, JSON.stringify(call.response)).toBe(true);
  return call.response.view as FakeView;
}

describe("a resource's access history", () => {
  it('opens from the dashboard filtered to the resource: started, used and ended, newest first, with names and emails', async () => {
    const grant = await bobsGrant();
    t.clock.advance(60_000);
    await t.system.service.recordAccessUse(
      { email: bob.email, resourceId: 'acme-prod', at: t.clock.now() },
      'api',
    );
    t.clock.advance(60_000);
    await t.system.service.endAccess(grant.id, admin, 'Incident closed');
    await eventually(async () =>
      expect(await t.store.repos.grants.get(grant.id)).toMatchObject({ status: 'revoked' }),
    );

    await openHome(t, admin);
    const filtered = await homeAction(t, admin, 'jit.home.filter.resource', {
      selectedOption: 'resource:acme-prod',
    });
    const [open] = buttons(sectionOf(filtered, 'dashboard'), 'jit.resource.history');
    expect(open?.value).toBeDefined();
    const modal = await modalFromHome(t, admin, 'jit.resource.history', { value: open?.value });
    const text = collectText(modal.blocks);
    expect(text).toContain('Acme Corp — production tenant');
    const lines = text.split('\n').filter((l) => l.includes('Bob Support (bob@example.com)'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('access revoked by Ada Admin (admin@example.com)');
    expect(lines[1]).toContain('used the access');
    expect(lines[2]).toContain('access started');
  });

  it("is pushed over a grant's details for its approver, and pages to older entries in place", async () => {
    const grant = await bobsGrant();
    for (let i = 0; i < 30; i++) {
      t.clock.advance(1_000);
      await t.system.service.recordAccessUse(
        { email: bob.email, resourceId: 'acme-prod', at: t.clock.now() },
        'api',
      );
    }
    await openHome(t, dave);
    const details = await modalFromHome(t, dave, 'jit.grant.details', { value: grant.id });
    expect(collectText(details.blocks)).toContain('Requested by Bob Support');
    const history = await pressInModal(dave, details, 'jit.resource.history', 'views.push');
    const first = collectText(history.blocks);
    expect(first.match(/used the access/g)).toHaveLength(25);
    expect(first).not.toContain('(bob@example.com): access started');
    // Times are in Dave's own zone (New York).
    expect(first).toMatch(/EST|EDT/);

    const older = await pressInModal(dave, history, 'jit.resource.history', 'views.update');
    expect(older.id).toBe(history.id);
    const rest = collectText(older.blocks);
    expect(rest.match(/used the access/g)).toHaveLength(5);
    expect(rest).toContain('Bob Support (bob@example.com): access started');
    expect(buttons(older.blocks as never, 'jit.resource.history')).toHaveLength(0);
  });

  it('is not offered to the holder, and a forged press by them is refused and audited', async () => {
    const grant = await bobsGrant();
    await openHome(t, bob);
    const details = await modalFromHome(t, bob, 'jit.grant.details', { value: grant.id });
    expect(collectText(details.blocks)).toContain('Requested by Bob Support');
    expect(buttons(details.blocks as never, 'jit.resource.history')).toHaveLength(0);

    const mark = t.fake.checkpoint();
    await t.slack.blockAction({
      userId: bob.id,
      actionId: 'jit.resource.history',
      view: { id: details.id, type: 'modal' } as JsonObject,
      value: JSON.stringify({ r: 'acme-prod' }),
    });
    await settle(200);
    expect(
      t.fake.calls.filter(
        (c) => c.seq >= mark && ['views.open', 'views.push', 'views.update'].includes(c.method),
      ),
    ).toEqual([]);
    await eventually(async () => {
      const [refusal] = await t.store.repos.audit.list({ type: 'action.refused', actor: bob.email });
      expect(refusal).toMatchObject({
        resourceId: 'acme-prod',
        details: { action: 'view', code: 'NOT_ALLOWED_TO_VIEW' },
      });
    });
    const told = await waitForDm(t, bob, 'approvers and owners');
    expect(`${told.text} ${collectText(told.blocks ?? [])}`).toContain('access history');

    // A value that is not one the bot made changes nothing either.
    await t.slack.blockAction({
      userId: admin.id,
      actionId: 'jit.resource.history',
      view: { id: details.id, type: 'modal' } as JsonObject,
      value: '{"r":"acme-prod","c":"x","extra":1}',
    });
    await settle(200);
    expect(
      t.fake.calls.filter(
        (c) => c.seq >= mark && ['views.open', 'views.push', 'views.update'].includes(c.method),
      ),
    ).toEqual([]);
  });
});
