/**
 * Chat APIs that fail: Slack answering that a person is not there (`user_not_found`,
 * `users_not_found`) or rate-limiting for a while; the Teams Bot Connector (the fake in
 * test/support/fake-bot-connector.ts) answering 429 with Retry-After, 503, and 403. Handled,
 * reported, never silently dropped. (Slack's 503, one 429, channel_not_found, account_inactive and
 * hanging calls are in test/e2e/delivery-faults.test.ts; the Teams answers' classification in
 * test/bot/teams/platform.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeBotConnector,
  type FakeTeamsUser,
  startFakeBotConnector,
} from '../support/fake-bot-connector.js';
import { collectText } from '../support/fake-slack.js';
import { requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, carol } = USERS;
const SEC = 1000;

let t: TestSystem;
let connector: FakeBotConnector | undefined;
afterEach(async () => {
  await t.close();
  await connector?.close();
  connector = undefined;
});

const dms = (user: { id: string }, needle: string) =>
  t.fake.messagesIn(t.fake.dmChannelFor(user.id)).filter((m) => collectText(m.blocks ?? []).includes(needle));

describe('Slack API faults', () => {
  beforeEach(async () => {
    t = await startTestSystem();
  });

  // Each answer on its own: the front end and the outbox share what Slack said about a person, so
  // an approver Slack does not know while the form is submitted is not asked about again.
  it.each([
    ['users.lookupByEmail', 'users_not_found'],
    ['conversations.open', 'user_not_found'],
  ])(
    'gives up at once on an approver Slack says does not exist (%s: %s), records it and tells the requester',
    async (method, error) => {
      t.fake.failNext(method, error, 1);
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
    },
  );

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

const TINA: FakeTeamsUser = {
  id: '29:1tina',
  aadObjectId: 'aad-tina',
  name: 'Tina Teams',
  email: 'tina@example.com',
  userPrincipalName: 'tina@example.com',
  tz: 'UTC',
};

describe('Microsoft Teams connector faults', () => {
  beforeEach(async () => {
    connector = await startFakeBotConnector({ users: [TINA], auth: { appId: 'faults-app' } });
    t = await startTestSystem({
      policy: `
defaults: { approvalWindow: PT1H }
resources:
  - id: teams-box
    name: Teams box
    approvers: [tina@example.com]
    connector: { type: log }
`,
      teams: connector,
    });
    const installed = await connector.send(
      `http://127.0.0.1:${t.system.port}/api/messages`,
      connector.installationUpdate(TINA.id),
    );
    expect(installed.status).toBe(200);
  });
  const cards = () => connector!.activitiesIn(connector!.personalConversationId(TINA.id));

  it('waits as long as a 429’s Retry-After says, rides out 503s, and then delivers the card once', async () => {
    connector!.setFault({ status: 429, retryAfterSec: 30 });
    await requestAccess(t, carol, { resource: 'teams-box', approvers: ['tina@example.com'] });
    await t.delivered();
    await t.runner.advance(29 * SEC);
    expect(cards()).toHaveLength(0);
    connector!.setFault({ status: 503 });
    await t.runner.advance(60 * SEC);
    expect(cards()).toHaveLength(0);
    const [waiting] = await t.store.repos.outbox.list({ recipient: 'tina@example.com' });
    expect(waiting?.status).toBe('pending');
    expect(waiting?.attempts).toBeGreaterThan(1);

    connector!.setFault(null);
    for (let i = 0; i < 12; i++) {
      await t.runner.advance(10 * SEC);
      await t.delivered();
    }
    expect(cards()).toHaveLength(1);
    expect(await t.store.repos.audit.list({ type: 'message.undeliverable' })).toEqual([]);
  });

  it('gives up on a card Teams refuses (403), records it and tells the requester', async () => {
    connector!.setFault({ status: 403, code: 'Forbidden' });
    await requestAccess(t, carol, { resource: 'teams-box', approvers: ['tina@example.com'] });
    await t.delivered();
    const told = await waitForDm(t, carol, 'Approver not reachable');
    expect(collectText(told.blocks)).toContain('None of your approvers could be reached');
    const [record] = await t.store.repos.audit.list({ type: 'message.undeliverable' });
    expect(record?.details?.recipient).toBe('tina@example.com');
    expect(cards()).toHaveLength(0);
  });
});
