import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectText } from '../support/fake-slack.js';
import { eventually, onlyRequest, requestAccess, waitForDm } from '../support/flows.js';
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

const { alice, bob, erin } = USERS;

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

describe('the App Home tab for everyone', () => {
  it('shows someone with nothing yet "Request access" and empty lists, and no approver or admin parts', async () => {
    const view = await openHome(t, erin);
    expect(view.type).toBe('home');
    expect(buttons(view.blocks, 'jit.home.request')).toHaveLength(1);
    expect(textOf(sectionOf(view, 'grants'))).toContain('You hold no access right now.');
    expect(textOf(sectionOf(view, 'pending'))).toContain('You have no request waiting for a decision.');
    expect(textOf(sectionOf(view, 'history'))).toContain('Nothing yet.');
    expect(sectionOf(view, 'decisions')).toEqual([]);
    expect(sectionOf(view, 'dashboard')).toEqual([]);
  });

  it('opens the request form from "Request access"', async () => {
    await openHome(t, bob);
    const mark = t.fake.checkpoint();
    await t.slack.blockAction({ userId: bob.id, actionId: 'jit.home.request', view: home(t, bob) as never });
    const opened = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
    expect(opened.response.ok).toBe(true);
    expect(collectText((opened.response.view as { blocks: unknown[] }).blocks)).toContain('Resource');
  });

  it("keeps the requester's and the approver's homes current: pending with Cancel, Approve there, then the grant with time left", async () => {
    await openHome(t, bob);
    await openHome(t, alice);
    await requestAccess(t, bob, { approvers: [alice.email], justification: 'Fix the login bug' });
    await refreshed(t);

    const pending = sectionOf(home(t, bob), 'pending');
    expect(textOf(pending)).toContain('Acme Corp — production tenant');
    expect(buttons(pending, 'jit.request.cancel')).toHaveLength(1);

    const waiting = sectionOf(home(t, alice), 'decisions');
    expect(textOf(waiting)).toContain('Bob Support requests access to Acme Corp — production tenant');
    expect(textOf(waiting)).toContain('Fix the login bug');
    const [approve] = buttons(waiting, 'jit.request.approve');
    expect(buttons(waiting, 'jit.request.deny')).toHaveLength(1);

    // Approving from the home: the decision is made, and the home shows it at once.
    const after = await homeAction(t, alice, 'jit.request.approve', {
      value: approve?.value,
      blockId: approve?.blockId,
    });
    expect((await onlyRequest(t)).status).toBe('approved');
    expect(textOf(sectionOf(after, 'decisions'))).toContain('No request is waiting for your decision.');
    await eventually(async () => expect((await t.store.repos.grants.list({}))[0]?.status).toBe('active'));
    await refreshed(t);

    const mine = sectionOf(home(t, bob), 'grants');
    expect(textOf(mine)).toMatch(/Active until .* \(3 h 59 min left\)|Active until .* \(4 h 00 min left\)/);
    expect(buttons(mine, 'jit.grant.extend')).toHaveLength(1);
    expect(buttons(mine, 'jit.grant.end')).toHaveLength(1);
    expect(textOf(sectionOf(home(t, bob), 'pending'))).toContain(
      'You have no request waiting for a decision.',
    );
    expect(textOf(sectionOf(home(t, bob), 'history'))).toContain('Approved by Alice Approver');
    await waitForDm(t, bob, 'is active');
  });

  it('asks the reason for a Deny made in the home, the same way the card does', async () => {
    await openHome(t, alice);
    await requestAccess(t, bob, { approvers: [alice.email] });
    await refreshed(t);
    const [deny] = buttons(sectionOf(home(t, alice), 'decisions'), 'jit.request.deny');
    const dialog = await modalFromHome(t, alice, 'jit.request.deny', deny ?? {});
    expect(dialog.callback_id).toBe('jit.deny.form');
    await t.slack.viewSubmission({
      userId: alice.id,
      view: dialog as never,
      values: { 'jit.deny.reason': 'Use staging' },
    });
    await eventually(async () =>
      expect(await onlyRequest(t)).toMatchObject({ status: 'denied', reason: 'Use staging' }),
    );
    await refreshed(t);
    expect(textOf(sectionOf(await openHome(t, bob), 'history'))).toContain('Denied by Alice Approver');
    expect(textOf(sectionOf(home(t, bob), 'history'))).toContain('Reason: Use staging');
    expect(textOf(sectionOf(home(t, alice), 'decisions'))).toContain(
      'No request is waiting for your decision.',
    );
  });

  it('refreshes a home once for a burst of changes, and never publishes one nobody opened', async () => {
    await openHome(t, alice);
    const before = t.fake.callsTo('views.publish').length;
    await requestAccess(t, bob, { approvers: [alice.email], justification: 'First' });
    await requestAccess(t, bob, { resource: 'staging-db', duration: '1 hour', justification: 'Second' });
    await refreshed(t);
    const published = t.fake.callsTo('views.publish').slice(before);
    expect(published.filter((c) => c.args.user_id === alice.id)).toHaveLength(1);
    // Bob never opened his home: nothing is published for him, however much changes.
    expect(published.filter((c) => c.args.user_id === bob.id)).toEqual([]);
    expect(textOf(sectionOf(home(t, alice), 'decisions'))).toContain('First');
  });

  it('pages a long personal list, saying what is shown of how many', async () => {
    const now = t.clock.now();
    for (let i = 0; i < 7; i++) {
      await t.store.repos.requests.insert({
        id: `old-${i}`,
        kind: 'access',
        resourceId: 'staging-db',
        requester: { email: erin.email, name: 'Erin Outsider' },
        approvers: [alice.email],
        duration: 'PT1H',
        justification: `Old reason ${i}`,
        approval: 'manual',
        status: 'denied',
        createdAt: new Date(now.getTime() - (10 - i) * 60_000),
        decideBy: now,
        decidedAt: new Date(now.getTime() - (10 - i) * 60_000),
        decidedBy: alice.email,
        decidedByName: 'Alice Approver',
        submissionKey: `old-${i}`,
      });
    }
    let view = await openHome(t, erin);
    expect(textOf(sectionOf(view, 'history'))).toContain('Showing 1–5 of 7.');
    view = await homeAction(t, erin, 'jit.home.page.next', { value: 'history', blockId: 'history.pager' });
    expect(textOf(sectionOf(view, 'history'))).toContain('Showing 6–7 of 7.');
    expect(buttons(sectionOf(view, 'history'), 'jit.home.page.next')).toEqual([]);
    expect(buttons(sectionOf(view, 'history'), 'jit.home.page.previous')).toHaveLength(1);
  });
});
