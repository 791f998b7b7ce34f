/**
 * Slack answers that a person is not there (`user_not_found`, `users_not_found`) or the request
 * is not allowed for a while (429 on every method): handled, reported, never silently dropped.
 * (503, 429 with Retry-After on one call, channel_not_found, account_inactive and hanging calls
 * are in test/e2e/delivery-faults.test.ts; the Teams connector's answers in
 * test/bot/teams/platform.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectText } from '../support/fake-slack.js';
import { requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, carol } = USERS;
const SEC = 1000;

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

const dms = (user: { id: string }, needle: string) =>
  t.fake.messagesIn(t.fake.dmChannelFor(user.id)).filter((m) => collectText(m.blocks ?? []).includes(needle));

describe('chat API faults', () => {
  it('gives up at once on an approver Slack says does not exist (user_not_found), records it and tells the requester', async () => {
    t.fake.failNext('users.lookupByEmail', 'users_not_found', 1);
    t.fake.failNext('conversations.open', 'user_not_found', 1);
    await requestAccess(t, carol, { approvers: [alice.email, dave.email] });
    const told = await waitForDm(t, carol, 'Approver not reachable');
    expect(collectText(told.blocks)).toMatch(
      /Could not reach (Alice Approver|Dave Reviewer|alice@example\.com)/,
    );
    await t.delivered();
    const undeliverable = await t.store.repos.audit.list({ type: 'message.undeliverable' });
    expect(undeliverable).toHaveLength(1);
    expect(String(undeliverable[0]?.details?.error)).toMatch(/not_found|nobody with email/);
    // The other approver got the card.
    expect(dms(alice, 'Approve').length + dms(dave, 'Approve').length).toBe(1);
  });

  it('waits out a rate limit (429, Retry-After 20 s) on opening chats and posting, and then delivers every message once', async () => {
    t.fake.setOutage({
      error: 'ratelimited',
      status: 429,
      retryAfterSec: 20,
      methods: ['conversations.open', 'chat.postMessage'],
    });
    await requestAccess(t, carol, { approvers: [alice.email] });
    await t.runner.advance(10 * SEC);
    expect(dms(alice, 'Approve')).toHaveLength(0);
    t.fake.setOutage(null);
    for (let i = 0; i < 6; i++) {
      await t.runner.advance(10 * SEC);
      await t.delivered();
    }
    expect(dms(alice, 'Approve')).toHaveLength(1);
    expect(dms(carol, 'was sent to')).toHaveLength(1);
    expect(await t.store.repos.audit.list({ type: 'message.undeliverable' })).toEqual([]);
  });
});
