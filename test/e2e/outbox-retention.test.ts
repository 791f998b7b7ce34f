/**
 * What the outbox keeps of a message once it is delivered, and for how long. A sent item keeps its
 * key, lane, status, recipient and times, not the message's data; the card it sent is still
 * edited by later moves (they read where it went from the message records); a move that runs again
 * after that sends nothing twice; and once the retention (`OUTBOX_RETENTION`) has passed, the sweep
 * deletes the done items and leaves pending ones alone.
 *
 * The real Bolt app, the fake Slack Web API, the memory store and the in-process scheduler on a
 * manual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { plan } from '../../src/core/deliveries.js';
import { collectText } from '../support/fake-slack.js';
import { click, eventually, hasButton, onlyRequest, requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, bob, carol } = USERS;
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const START = new Date('2026-11-23T09:00:00.000Z');
const MESSAGING = ['users.lookupByEmail', 'conversations.open', 'chat.postMessage', 'chat.update'];

let t: TestSystem;
afterEach(async () => {
  await t?.close();
});

/** A card as Slack shows it now (every edit applied). */
const shown = (user: { id: string }, ts: string) => t.fake.message(t.fake.dmChannelFor(user.id), ts);
const sentCalls = () =>
  t.fake.callsTo('chat.postMessage').length +
  t.fake.callsTo('chat.update').filter((c) => c.response.ok).length;

/** Moves time in steps, delivering what falls due at each. */
async function pass(total: number, step: number) {
  for (let done = 0; done < total; done += step) {
    await t.runner.advance(step);
    await t.delivered();
  }
}

describe('the outbox once a message is delivered', () => {
  it('keeps only the kind of a delivered card, and the card is still edited when the request is decided', async () => {
    t = await startTestSystem({ start: START });
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    await t.delivered();
    const request = await onlyRequest(t);
    const items = await t.store.repos.outbox.list({ subjectId: request.id });
    expect(items.map((i) => [i.status, i.recipient, i.purpose, i.message])).toEqual([
      ['sent', alice.email, 'approval-card', { view: 'approval-card' }],
      ['sent', carol.email, 'requester-status', { view: 'requester-status' }],
    ]);
    for (const item of items) {
      expect(item.reqId).toBeUndefined();
      expect(item.purgeAt?.getTime()).toBe((item.sentAt?.getTime() ?? 0) + 30 * DAY);
    }

    await click(t, alice, card, 'jit.request.approve');
    await t.delivered();
    await eventually(() => {
      const now = shown(alice, card.ts);
      expect(hasButton(now, 'jit.request.approve')).toBe(false);
      expect(collectText(now?.blocks)).toContain('Approved');
    });
  });

  it('sends nothing twice when a move queues its messages again after they were delivered', async () => {
    t = await startTestSystem({ start: START });
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    await click(t, alice, card, 'jit.request.approve');
    await waitForDm(t, carol, 'is active until');
    await t.delivered();
    const before = { calls: sentCalls(), items: await t.store.repos.outbox.list({ limit: 1000 }) };
    expect(before.items.every((i) => i.status === 'sent' && Object.keys(i.message).length === 1)).toBe(true);

    // The submission and the decision, queued again (as the sweep does when it finishes a move
    // whose last step it cannot know was done): every key is there, so nothing new is queued.
    const request = await onlyRequest(t);
    const resource = { id: request.resourceId, name: request.resourceId };
    await t.system.outbox.enqueue([
      ...plan({ type: 'request.submitted', request: { ...request, status: 'pending' }, resource }),
      ...plan({ type: 'request.decided', request, resource }),
    ]);
    await pass(5 * MIN, MIN);
    expect(sentCalls()).toBe(before.calls);
    expect(await t.store.repos.outbox.list({ limit: 1000 })).toEqual(before.items);
  });

  it('deletes done items once their retention has passed, and keeps the pending ones until they go out', async () => {
    t = await startTestSystem({ start: START, outbox: { retentionMs: HOUR } });
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    await t.delivered();
    const first = await onlyRequest(t);
    const delivered = await t.store.repos.outbox.list({ subjectId: first.id });
    expect(delivered.map((i) => i.status)).toEqual(['sent', 'sent']);

    // Slack is down while Bob asks: his request's messages wait, retrying.
    t.fake.setOutage({ error: 'service_unavailable', status: 503, methods: MESSAGING });
    await requestAccess(t, bob, { approvers: [alice.email] });
    const waiting = await eventually(async () => {
      const items = await t.store.repos.outbox.list({ status: 'pending', limit: 100 });
      expect(items.filter((i) => i.attempts > 0)).toHaveLength(2);
      return items;
    });

    await pass(90 * MIN, 5 * MIN);
    // Past the retention (an hour here) and the next purge: Carol's delivered items are gone; every
    // waiting one is still there, still waiting.
    const ids = new Set((await t.store.repos.outbox.list({ limit: 1000 })).map((i) => i.id));
    expect(delivered.filter((i) => ids.has(i.id))).toEqual([]);
    expect(waiting.filter((i) => !ids.has(i.id))).toEqual([]);
    const still = await t.store.repos.outbox.list({ status: 'pending', limit: 100 });
    expect(still.map((i) => i.id)).toEqual(expect.arrayContaining(waiting.map((i) => i.id)));

    // Slack is back: Bob's card goes out once, and Carol's card, whose items were deleted, is still
    // edited now that her request has expired (where it went is in the message records).
    t.fake.setOutage(null);
    await pass(10 * MIN, MIN);
    expect(await t.store.repos.outbox.count({ status: 'pending' })).toBe(0);
    const aliceSees = t.fake.messagesIn(t.fake.dmChannelFor(alice.id));
    expect(aliceSees.filter((m) => collectText(m.blocks).includes('Bob'))).toHaveLength(1);
    expect((await t.store.repos.requests.get(first.id))?.status).toBe('expired');
    expect(hasButton(shown(alice, card.ts), 'jit.request.approve')).toBe(false);
  });
});
