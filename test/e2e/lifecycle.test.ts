import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/connectors/signing.js';
import { collectText } from '../support/fake-slack.js';
import {
  click,
  dmContaining,
  eventually,
  formAction,
  hasButton,
  onlyRequest,
  quickDurationAction,
  requestAccess,
  submitForm,
  waitForDm,
} from '../support/flows.js';
import { HOOK_SECRET, startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, carol } = USERS;
const MIN = 60_000;
const HOUR = 60 * MIN;

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

async function grantOf(requestId: string) {
  return eventually(async () => {
    const g = await t.store.repos.grants.findByRequestId(requestId);
    expect(g).not.toBeNull();
    return g!;
  });
}

describe('an access request in Slack, from form to revocation', () => {
  it('goes to the chosen approvers, is approved, provisioned, reminded, extended and revoked at expiry', async () => {
    const started = t.clock.now();
    await requestAccess(t, carol, {
      duration: '4 hours',
      approvers: [alice.email, dave.email],
      justification: 'Investigate Reported Issue: customer cannot log in',
      ticket: 'INC-42',
    });

    // Each approver gets a card by DM: who, what, how long, why, ticket, when it would end, Approve and Deny.
    const aliceCard = await waitForDm(t, alice, 'Approve');
    const daveCard = await waitForDm(t, dave, 'Approve');
    const cardText = collectText(aliceCard.blocks);
    for (const expected of [
      'Carol Support (carol@example.com)',
      'Acme Corp — production tenant',
      '4 hours',
      'customer cannot log in',
      'INC-42',
      'Access would end',
      'Request expires',
    ]) {
      expect(cardText).toContain(expected);
    }
    expect(hasButton(aliceCard, 'jit.request.approve') && hasButton(aliceCard, 'jit.request.deny')).toBe(
      true,
    );
    // Times are shown in each approver's own zone.
    expect(cardText).toMatch(/GMT|BST/);
    expect(collectText(daveCard.blocks)).toMatch(/EST|EDT/);

    // The requester sees who it went to and can cancel.
    const status = await waitForDm(t, carol, 'was sent to');
    expect(collectText(status.blocks)).toContain('Alice Approver, Dave Reviewer');
    expect(hasButton(status, 'jit.request.cancel')).toBe(true);

    // Alice approves; the webhook connector is called, signed; the grant counts from confirmation.
    t.clock.advance(10 * MIN);
    await click(t, alice, aliceCard, 'jit.request.approve');
    const request = await eventually(async () => {
      const r = await onlyRequest(t);
      expect(r.status).toBe('approved');
      return r;
    });
    expect(request.decidedBy).toBe(alice.email);
    const grant = await eventually(async () => {
      const g = await grantOf(request.id);
      expect(g.status).toBe('active');
      return g;
    });
    const activatedAt = started.getTime() + 10 * MIN;
    expect(grant.startsAt?.getTime()).toBe(activatedAt);
    expect(grant.expiresAt?.getTime()).toBe(activatedAt + 4 * HOUR);

    expect(t.hooks.calls).toHaveLength(1);
    const hook = t.hooks.calls[0]!;
    expect(hook.signatureValid).toBe(true);
    expect(
      verifySignature(
        HOOK_SECRET,
        String(hook.headers['x-jit-timestamp']),
        hook.rawBody,
        String(hook.headers['x-jit-signature']),
        t.clock.now(),
      ),
    ).toBe(true);
    expect(hook.body).toEqual({
      event: 'grant.activated',
      grant: {
        id: grant.id,
        resourceId: 'acme-prod',
        user: { email: carol.email, name: 'Carol Support' },
        startsAt: new Date(activatedAt).toISOString(),
        expiresAt: new Date(activatedAt + 4 * HOUR).toISOString(),
        requestId: request.id,
        justification: 'Investigate Reported Issue: customer cannot log in',
      },
      idempotencyKey: `${grant.id}:activated`,
    });

    // Every approver's card now shows the outcome, without buttons; Dave and Carol are told.
    await eventually(() => {
      for (const user of [alice, dave]) {
        const card = t.fake.message(
          t.fake.dmChannelFor(user.id),
          user === alice ? aliceCard.ts : daveCard.ts,
        );
        expect(collectText(card?.blocks)).toContain('Approved by Alice Approver');
        expect(hasButton(card, 'jit.request.approve')).toBe(false);
      }
    });
    await waitForDm(t, dave, "Carol Support's request for Acme Corp");
    await waitForDm(t, carol, 'Approved by Alice Approver');
    const granted = await waitForDm(t, carol, 'is active until');
    expect(hasButton(granted, 'jit.grant.end')).toBe(true);
    const grantedNow = () => t.fake.message(t.fake.dmChannelFor(carol.id), granted.ts);

    // 5 minutes before expiry the holder is reminded, with Request extension and End access now.
    await t.runner.advance(4 * HOUR - 5 * MIN - 1);
    expect(dmContaining(t, carol, 'Access ending soon')).toBeUndefined();
    await t.runner.advance(1);
    const reminder = await waitForDm(t, carol, 'Access ending soon');
    expect(hasButton(reminder, 'jit.grant.extend')).toBe(true);
    expect(hasButton(reminder, 'jit.grant.end')).toBe(true);

    // Extension: the form opens for this grant, goes to approval again, and moves the expiry.
    const mark = t.fake.checkpoint();
    await click(t, carol, reminder, 'jit.grant.extend');
    const opened = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
    let extView = t.fake.view((opened.response.view as { id: string }).id)!;
    expect(collectText(extView.blocks)).toContain('Extend your access to');
    extView = await formAction(t, carol, extView, quickDurationAction(extView, '8 hours'));
    const ext = await submitForm(t, carol, extView, {
      'jit.form.approvers': [dave.email],
      'jit.form.justification': 'Still investigating',
    });
    expect(ext.body).toBe('');
    const extCard = await waitForDm(t, dave, 'Extension request');
    await click(t, dave, extCard, 'jit.request.approve');
    const extended = await eventually(async () => {
      const g = (await t.store.repos.grants.get(grant.id))!;
      expect(g.expiresAt?.getTime()).toBe(activatedAt + 12 * HOUR);
      expect(g.pendingExtension).toBeUndefined();
      return g;
    });
    expect(extended.status).toBe('active');
    expect(t.hooks.calls.map((c) => (c.body as { event: string }).event)).toEqual([
      'grant.activated',
      'grant.extended',
    ]);
    await waitForDm(t, carol, 'now ends at');
    // The "Access granted" message shows the new end too.
    await eventually(() => {
      expect(collectText(grantedNow()?.blocks)).not.toEqual(collectText(granted.blocks));
      expect(hasButton(grantedNow(), 'jit.grant.end')).toBe(true);
    });

    // The old expiry passes without revocation; the new one revokes.
    await t.runner.advance(5 * MIN + 1);
    expect((await t.store.repos.grants.get(grant.id))?.status).toBe('active');
    await t.runner.advance(8 * HOUR);
    const ended = (await t.store.repos.grants.get(grant.id))!;
    expect(ended.status).toBe('expired');
    expect(t.hooks.calls.at(-1)?.body).toMatchObject({ event: 'grant.revoked', grant: { id: grant.id } });
    await waitForDm(t, carol, 'has ended');
    // ...and, once access has ended, no longer offers to end it.
    await eventually(() => {
      expect(collectText(grantedNow()?.blocks)).toContain('has ended');
      expect(hasButton(grantedNow(), 'jit.grant.end')).toBe(false);
    });

    const trail = (await t.store.repos.audit.list({ grantId: grant.id })).map((e) => e.type);
    expect(trail).toEqual(
      expect.arrayContaining(['grant.activated', 'grant.reminded', 'grant.extended', 'grant.expired']),
    );
  });

  it('denies with a reason; the requester and every approver see it and nothing is provisioned', async () => {
    await requestAccess(t, carol, { approvers: [alice.email, dave.email] });
    const card = await waitForDm(t, dave, 'Approve');
    const mark = t.fake.checkpoint();
    await click(t, dave, card, 'jit.request.deny');
    const open = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
    const denyView = t.fake.view((open.response.view as { id: string }).id)!;
    const res = await t.slack.viewSubmission({
      userId: dave.id,
      view: denyView as never,
      values: { 'jit.deny.reason': 'Use the staging tenant <!channel>' },
    });
    expect(res.status).toBe(200);
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('denied'));
    const carolNotice = await waitForDm(t, carol, 'Denied by Dave Reviewer');
    // Typed text is escaped: it cannot ping the channel.
    expect(collectText(carolNotice.blocks)).toContain('&lt;!channel&gt;');
    expect(collectText(carolNotice.blocks)).not.toContain('<!channel>');
    await eventually(() => {
      const updated = t.fake.message(
        t.fake.dmChannelFor(alice.id),
        dmContaining(t, alice, 'Access request')!.ts,
      );
      expect(collectText(updated?.blocks)).toContain('Denied by Dave Reviewer');
    });
    expect(t.hooks.calls).toHaveLength(0);
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
  });

  it('lets the holder end access early, revoking at once', async () => {
    await requestAccess(t, carol, { approvers: [alice.email] });
    await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
    const active = await waitForDm(t, carol, 'is active until');
    await click(t, carol, active, 'jit.grant.end');
    const grant = await eventually(async () => {
      const [g] = await t.store.repos.grants.list({});
      expect(g?.status).toBe('revoked');
      return g!;
    });
    expect(grant.endReason).toBe('ended-by-holder');
    expect(t.hooks.calls.at(-1)?.body).toMatchObject({ event: 'grant.revoked' });
    await waitForDm(t, carol, 'You ended it');
    // Its expiry job no longer does anything.
    await t.runner.advance(5 * HOUR);
    expect(t.hooks.calls.filter((c) => (c.body as { event: string }).event === 'grant.revoked')).toHaveLength(
      1,
    );
  });
});
