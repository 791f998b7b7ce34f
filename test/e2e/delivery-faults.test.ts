/**
 * Messages are never lost: Slack fails in every way it can (503 for longer than any client retry,
 * 429 with Retry-After, channel_not_found, account_inactive, a call that hangs past its timeout)
 * during a submission, a decision, a reminder and an expiry notice. Every message arrives once
 * Slack is back, none arrives twice, and what cannot be delivered is recorded.
 *
 * The real Bolt app, the fake Slack Web API, the memory store and the in-process scheduler on a
 * manual clock: retries happen when the test moves time (`t.runner.advance`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectText } from '../support/fake-slack.js';
import { click, eventually, hasButton, onlyRequest, requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, carol } = USERS;
const SEC = 1000;
const MIN = 60 * SEC;
const START = new Date('2026-11-23T09:00:00.000Z');

/** What sending a message needs; the form (views.*) and the clicker's lookup (users.info) keep working. */
const MESSAGING = ['users.lookupByEmail', 'conversations.open', 'chat.postMessage', 'chat.update'];

let t: TestSystem;
afterEach(async () => {
  await t.close();
});

const dms = (user: { id: string }, needle: string) =>
  t.fake
    .messagesIn(t.fake.dmChannelFor(user.id))
    .filter((m) => collectText(m.blocks ?? []).includes(needle) || m.text.includes(needle));

/** Moves time in steps of `step` for `total`, so every retry due meanwhile runs at its time. */
async function pass(total: number, step = SEC) {
  for (let done = 0; done < total; done += step) {
    await t.runner.advance(step);
    await t.delivered();
  }
}

async function pending() {
  return t.store.repos.outbox.list({ status: 'pending', limit: 1000 });
}

async function approvedAndActive() {
  await requestAccess(t, carol, { approvers: [alice.email] });
  const card = await waitForDm(t, alice, 'Approve');
  await click(t, alice, card, 'jit.request.approve');
  await waitForDm(t, carol, 'is active until');
  await t.delivered();
  return eventually(async () => {
    const g = await t.store.repos.grants.findByRequestId((await onlyRequest(t)).id);
    expect(g?.status).toBe('active');
    return g!;
  });
}

describe('messages that are never lost', () => {
  beforeEach(async () => {
    t = await startTestSystem({ start: START });
  });

  it('delivers every approval card once after Slack answers 503 for 20 seconds during a submission', async () => {
    t.fake.setOutage({ error: 'service_unavailable', status: 503, methods: MESSAGING });
    await requestAccess(t, carol, { approvers: [alice.email, dave.email] });
    await eventually(async () => {
      const waiting = await pending();
      expect(waiting.filter((i) => i.attempts > 0)).toHaveLength(3); // two cards, carol's status
    });
    await pass(20 * SEC);
    expect(dms(alice, 'Approve')).toHaveLength(0);
    expect((await pending()).length).toBeGreaterThanOrEqual(3);

    t.fake.setOutage(null);
    await pass(2 * MIN, 5 * SEC);
    expect(dms(alice, 'Approve')).toHaveLength(1);
    expect(dms(dave, 'Approve')).toHaveLength(1);
    expect(dms(carol, 'was sent to')).toHaveLength(1);
    expect(await pending()).toEqual([]);

    // The cards were remembered, so the decision edits both in place.
    const card = dms(alice, 'Approve')[0]!;
    await click(t, alice, card, 'jit.request.approve');
    await waitForDm(t, carol, 'is active until');
    await t.delivered();
    for (const user of [alice, dave]) {
      const [only] = dms(user, 'Access request');
      expect(collectText(only?.blocks)).toContain('Approved by Alice Approver');
      expect(hasButton(only, 'jit.request.approve')).toBe(false);
    }
    expect(await t.store.repos.audit.list({ type: 'message.undeliverable' })).toEqual([]);
  });

  it('waits as long as Retry-After says when Slack rate-limits a card', async () => {
    t.fake.failNext('chat.postMessage', 'ratelimited', 1, { retryAfterSec: 30 });
    await requestAccess(t, carol, { approvers: [alice.email] });
    await eventually(async () => expect((await pending()).some((i) => i.attempts === 1)).toBe(true));
    await pass(29 * SEC);
    expect(dms(alice, 'Approve').length + dms(carol, 'was sent to').length).toBe(1);
    await pass(2 * SEC);
    expect(dms(alice, 'Approve')).toHaveLength(1);
    expect(dms(carol, 'was sent to')).toHaveLength(1);
  });

  it('edits every card and tells everyone once after Slack fails with channel_not_found during a decision', async () => {
    await requestAccess(t, carol, { approvers: [alice.email, dave.email] });
    const card = await waitForDm(t, alice, 'Approve');
    await waitForDm(t, dave, 'Approve');
    await t.delivered();
    t.fake.setOutage({ error: 'channel_not_found', methods: ['chat.update', 'chat.postMessage'] });
    await click(t, alice, card, 'jit.request.approve');
    // The decision is stored and answered at once; the messages wait for Slack.
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('approved'));
    await pass(30 * SEC);
    expect(dms(carol, 'Approved by')).toHaveLength(0);

    t.fake.setOutage(null);
    await pass(5 * MIN, 10 * SEC);
    const daveCard = dms(dave, 'Access request')[0];
    expect(collectText(daveCard?.blocks)).toContain('Approved by Alice Approver');
    expect(dms(dave, 'Request approved')).toHaveLength(1);
    expect(dms(carol, 'Request approved')).toHaveLength(1);
    expect(dms(alice, 'Request approved')).toHaveLength(0); // she decided it
    expect(dms(carol, 'is active until')).toHaveLength(1);
  });

  it('sends the reminder once, after a 15-second outage at reminder time, and records it only when delivered', async () => {
    const grant = await approvedAndActive();
    const remindAt = grant.expiresAt!.getTime() - 5 * MIN - t.clock.now().getTime();
    await t.runner.advance(remindAt - SEC);
    t.fake.setOutage({ error: 'service_unavailable', status: 503, methods: MESSAGING });
    await pass(15 * SEC);
    expect(dms(carol, 'Access ending soon')).toHaveLength(0);
    expect(await t.store.repos.audit.list({ grantId: grant.id, type: 'grant.reminded' })).toEqual([]);

    t.fake.setOutage(null);
    await pass(MIN, 5 * SEC);
    expect(dms(carol, 'Access ending soon')).toHaveLength(1);
    expect(await t.store.repos.audit.list({ grantId: grant.id, type: 'grant.reminded' })).toHaveLength(1);
  });

  it('tells the holder once that access ended, after Slack answers account_inactive at expiry', async () => {
    const grant = await approvedAndActive();
    await t.runner.advance(grant.expiresAt!.getTime() - t.clock.now().getTime() - 6 * MIN);
    await t.delivered();
    t.fake.setOutage({ error: 'account_inactive', methods: MESSAGING });
    await t.runner.advance(6 * MIN);
    await eventually(async () => expect((await t.store.repos.grants.get(grant.id))?.status).toBe('expired'));
    expect(dms(carol, 'has ended')).toHaveLength(0);

    t.fake.setOutage(null);
    await pass(5 * MIN, 10 * SEC);
    // One new message says so, and the reminder and the "Access granted" message are edited to say so too.
    const posted = t.fake
      .callsTo('chat.postMessage')
      .filter((c) => c.response.ok && String(c.args.text).includes('has ended'));
    expect(posted).toHaveLength(1);
    expect(dms(carol, 'has ended')).toHaveLength(3);
    expect(dms(carol, 'Access ended')).toHaveLength(3);
  });

  it('tries again after a call that hangs past its timeout, and the card arrives once', async () => {
    t.fake.setOutage({
      error: 'service_unavailable',
      status: 503,
      methods: ['chat.postMessage'],
      hangMs: 1500,
    });
    await requestAccess(t, carol, { approvers: [alice.email] });
    await eventually(
      async () =>
        expect((await pending()).filter((i) => i.lastError?.includes('Slack unreachable'))).not.toEqual([]),
      8000,
    );
    t.fake.setOutage(null);
    await pass(MIN, 5 * SEC);
    expect(dms(alice, 'Approve')).toHaveLength(1);
    expect(dms(carol, 'was sent to')).toHaveLength(1);
  });
});

describe('messages that cannot be delivered', () => {
  beforeEach(async () => {
    t = await startTestSystem({ start: START, outbox: { giveUpAfterMs: 10 * MIN } });
  });

  it('gives up after the bounded time, records the message as undeliverable and tells the requester', async () => {
    t.fake.setOutage({ error: 'service_unavailable', status: 503, methods: ['chat.postMessage'] });
    await requestAccess(t, carol, { approvers: [alice.email, dave.email] });
    await eventually(async () => expect((await pending()).length).toBe(3));
    await pass(11 * MIN, 30 * SEC);
    const undeliverable = await t.store.repos.audit.list({ type: 'message.undeliverable' });
    expect(undeliverable.map((e) => `${e.details?.recipient} ${e.details?.message}`).sort()).toEqual([
      'alice@example.com approval-card',
      'carol@example.com requester-status',
      'dave@example.com approval-card',
    ]);
    t.fake.setOutage(null);
    await pass(2 * MIN, 10 * SEC);
    // Told once per approver found unreachable; the last notice says nobody has the request.
    // Told as each approver is found unreachable (each notice once); the last says nobody has it.
    const told = dms(carol, 'Approver not reachable');
    expect(told.map((m) => collectText(m.blocks))).toEqual([
      expect.stringMatching(
        /Could not reach (Alice Approver|Dave Reviewer) on Slack; still trying to reach the others\./,
      ),
      expect.stringContaining(
        'None of your approvers could be reached on Slack (Alice Approver, Dave Reviewer)',
      ),
    ]);
    expect(hasButton(told.at(-1), 'jit.request.cancel')).toBe(true);
    expect(dms(alice, 'Approve')).toHaveLength(0);
    expect(await pending()).toEqual([]);
  });
});
