/**
 * One process serving Slack and Teams: a request made in Slack reaches an approver who is only on
 * Teams (through the outbox, as an Adaptive Card in their 1:1 chat), the decision edits that card
 * in place, and an approver the bot cannot reach on either platform is reported to the requester.
 * The Teams approver decides by pressing Approve on the Teams card (a signed `adaptiveCard/action`
 * invoke); more of both directions is in ./teams-refusals.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ActionId } from '../../src/domain/views/model.js';
import { parseAddress } from '../chat/teams-harness.js';
import { readActivity } from '../chat/teams-markup.js';
import {
  type FakeBotConnector,
  type FakeTeamsUser,
  startFakeBotConnector,
} from '../support/fake-bot-connector.js';
import { collectText } from '../support/fake-slack.js';
import { eventually, onlyRequest, requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';
import { pressButton } from '../support/teams-flows.js';

const TINA: FakeTeamsUser = {
  id: '29:1tina',
  aadObjectId: 'aad-tina',
  name: 'Tina Teams',
  email: 'tina@example.com',
  userPrincipalName: 'tina@example.com',
  tz: 'Australia/Sydney',
};

const POLICY = `
defaults:
  approvalWindow: PT1H
resources:
  - id: teams-box
    name: Teams box
    approvers: [tina@example.com, nowhere@example.com]
    requesters: [carol@example.com]
    connector: { type: log }
`;

let t: TestSystem | undefined;
let connector: FakeBotConnector | undefined;
afterEach(async () => {
  await t?.close();
  await connector?.close();
  t = undefined;
  connector = undefined;
});

async function start(): Promise<{ t: TestSystem; connector: FakeBotConnector }> {
  connector = await startFakeBotConnector({ users: [TINA], auth: { appId: 'cross-platform-app' } });
  t = await startTestSystem({ policy: POLICY, teams: connector });
  const installed = await connector.send(
    `http://127.0.0.1:${t.system.port}/api/messages`,
    connector.installationUpdate(TINA.id),
  );
  expect(installed.status).toBe(200);
  return { t, connector };
}

describe('Slack and Teams in one process', () => {
  it('sends the approval card of a Slack request to a Teams approver, and edits it there once decided', async () => {
    const { t, connector } = await start();
    await requestAccess(t, USERS.carol, { resource: 'teams-box', approvers: ['tina@example.com'] });
    await t.delivered();

    const chat = connector.personalConversationId(TINA.id);
    const [card] = connector.activitiesIn(chat);
    const seen = readActivity(card?.activity ?? {});
    expect(seen.buttons).toEqual(['Approve', 'Deny']);
    expect(`${seen.title}\n${seen.body}`).toContain('Teams box');
    // Universal Actions carrying the neutral action ids.
    expect(JSON.stringify(card?.activity.attachments)).toContain(ActionId.approve);
    expect(JSON.stringify(card?.activity.attachments)).toContain(ActionId.deny);
    const { id } = await onlyRequest(t);
    const [record] = await t.store.repos.messages.find({ subjectId: id, purpose: 'approval-card' });
    expect(record?.platform).toBe('teams');
    expect(parseAddress(record?.address ?? '')).toEqual({ conversationId: chat, activityId: card?.id });

    const pressed = await pressButton(
      connector,
      `http://127.0.0.1:${t.system.port}/api/messages`,
      TINA.id,
      card as NonNullable<typeof card>,
      ActionId.approve,
    );
    expect(pressed.answer.kind).toBe('card');
    await t.delivered();
    await eventually(async () => {
      const after = connector.activity(chat, card?.id ?? '');
      expect(after?.versions.length).toBeGreaterThan(1);
      expect(readActivity(after?.activity ?? {}).buttons).toEqual([]);
    });
    expect(connector.activitiesIn(chat)).toHaveLength(1);
    // The requester, in Slack, hears the outcome.
    await waitForDm(t, USERS.carol, 'approved');
    expect(connector.calls.every((c) => c.status < 400)).toBe(true);
  });

  it('tells the Slack requester when an approver is on neither Slack nor Teams', async () => {
    const { t } = await start();
    await requestAccess(t, USERS.carol, { resource: 'teams-box', approvers: ['nowhere@example.com'] });
    await t.delivered();
    const notice = await waitForDm(t, USERS.carol, 'nowhere@example.com');
    expect(`${notice.text}\n${collectText(notice.blocks ?? [])}`).toMatch(/Slack or Microsoft Teams/);
  });
});
