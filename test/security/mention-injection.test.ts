/**
 * Threat: a requester (or approver) types mentions and links into a field the bot shows to
 * others, to ping a channel, impersonate a mention or plant a phishing link in a trusted card:
 * `<!channel>`, `<!here>`, `<@U…>`, `<#C…>`, `<https://evil|click>`, Markdown links, bare URLs,
 * `@here`, and Teams' `<at>…</at>`. Typed fields: the justification, the ticket reference, the
 * deny reason, the reason given when revoking access, and the words after /request-access.
 * Expected refusal: the text is shown character for character but is inert on both platforms: no
 * mention and no link in the Slack messages (escaped mrkdwn, verbatim) nor in the Teams Adaptive
 * Card (escaped Markdown, no mention entities), read by each platform's own rules
 * (test/chat/slack-markup.ts, test/chat/teams-markup.ts).
 * Typed in Teams too: the justification and ticket in the Teams form, the deny reason typed on a
 * Teams card, and the words after "request access" in the Teams chat, each read on both platforms.
 * The renderers' own guarantee for any view is in test/chat/contract.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FormInput } from '../../src/bot/teams/request-form-data.js';
import { DENY_REASON_INPUT } from '../../src/domain/views/forms.js';
import { readMessage, activeMarkupOf as slackMarkup } from '../chat/slack-markup.js';
import { readActivity, activeMarkupOf as teamsMarkup } from '../chat/teams-markup.js';
import {
  type FakeBotConnector,
  type FakeTeamsUser,
  startFakeBotConnector,
} from '../support/fake-bot-connector.js';
import type { FakeMessage } from '../support/fake-slack.js';
import {
  click,
  dmContaining,
  eventually,
  onlyRequest,
  requestAccess,
  settle,
  waitForDm,
} from '../support/flows.js';
import { buttons, modalFromHome, openHome, sectionOf } from '../support/home.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';
import { type Card, TeamsChat, textsOf } from '../support/teams-client.js';
import { teamsUser } from '../support/teams-system.js';

const { alice, carol } = USERS;

const TINA: FakeTeamsUser = {
  id: '29:1tina',
  aadObjectId: 'aad-tina',
  name: 'Tina Teams',
  email: 'tina@example.com',
  userPrincipalName: 'tina@example.com',
  tz: 'Australia/Sydney',
};
/** A requester who uses Teams. */
const TOM: FakeTeamsUser = teamsUser('tom', 'Tom Teams', 'Pacific/Auckland');

const POLICY = `
defaults: { approvalWindow: PT1H }
resources:
  - id: both-box
    name: Both box
    approvers: [alice@example.com, tina@example.com]
    requesters: [carol@example.com, tom@example.com]
    connector: { type: log }
`;

const HOSTILE = [
  '<!channel>',
  '<!here>',
  '<@UALICE>',
  '<#C0GENERAL>',
  '<https://evil.example/login|click>',
  '[click](https://evil.example/md)',
  'https://evil.example/bare',
  '@here',
  '<at>Alice Approver</at>',
];
const TYPED = `Please ${HOSTILE.join(' ')} thanks`;
const TICKET = '<!here> <@UALICE> [x](https://evil.example/t)';

let t: TestSystem | undefined;
let connector: FakeBotConnector | undefined;
afterEach(async () => {
  await t?.close();
  await connector?.close();
  t = undefined;
  connector = undefined;
});

async function start() {
  connector = await startFakeBotConnector({ users: [TINA, TOM], auth: { appId: 'security-app' } });
  t = await startTestSystem({ policy: POLICY, teams: connector });
  const installed = await connector.send(
    `http://127.0.0.1:${t.system.port}/api/messages`,
    connector.installationUpdate(TINA.id),
  );
  expect(installed.status).toBe(200);
  return { t, connector };
}

function expectInertOnSlack(message: FakeMessage | undefined, shows: string[]) {
  expect(message).toBeDefined();
  expect(slackMarkup(message!)).toEqual({ mentions: [], links: [] });
  const seen = readMessage(message!);
  for (const text of shows) expect(`${seen.title}\n${seen.body}`).toContain(text);
}

describe('mention and link injection in typed fields', () => {
  it('shows a hostile justification and ticket inert on the Slack and the Teams approval cards', async () => {
    const { t, connector } = await start();
    await requestAccess(t, carol, {
      resource: 'both-box',
      approvers: [alice.email, TINA.email!],
      justification: TYPED,
      ticket: TICKET,
      duration: '4 hours',
    });
    await t.delivered();

    expectInertOnSlack(await waitForDm(t, alice, 'Approve'), [TYPED, TICKET]);
    // The requester's own status message too.
    expectInertOnSlack(dmContaining(t, carol, 'was sent to'), [TYPED]);

    const [card] = connector.activitiesIn(connector.personalConversationId(TINA.id));
    expect(card).toBeDefined();
    expect(teamsMarkup(card!.activity)).toEqual({ mentions: [], links: [] });
    const seen = readActivity(card!.activity);
    for (const text of [TYPED, TICKET]) expect(`${seen.title}\n${seen.body}`).toContain(text);
  });

  it('shows a hostile deny reason inert to the requester in Slack and on the Teams card it edits', async () => {
    const { t, connector } = await start();
    await requestAccess(t, carol, {
      resource: 'both-box',
      approvers: [alice.email, TINA.email!],
      duration: '4 hours',
    });
    await t.delivered();
    const card = await waitForDm(t, alice, 'Approve');
    const mark = t.fake.checkpoint();
    await click(t, alice, card, 'jit.request.deny');
    const open = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
    const denyView = t.fake.view((open.response.view as { id: string }).id)!;
    const res = await t.slack.viewSubmission({
      userId: alice.id,
      view: denyView as never,
      values: { 'jit.deny.reason': TYPED },
    });
    expect(res.status).toBe(200);
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('denied'));
    await t.delivered();

    expectInertOnSlack(await waitForDm(t, carol, 'Denied by Alice Approver'), [TYPED]);
    expectInertOnSlack(t.fake.message(card.channel, card.ts), ['Denied by Alice Approver']);
    await eventually(() => {
      const [teamsCard] = connector.activitiesIn(connector.personalConversationId(TINA.id));
      const seen = readActivity(teamsCard!.activity);
      expect(seen.buttons).toEqual([]);
      expect(teamsMarkup(teamsCard!.activity)).toEqual({ mentions: [], links: [] });
    });
  });

  it('shows a hostile revoke reason, typed by an approver on the Home dashboard, inert to the holder', async () => {
    const { t } = await start();
    await requestAccess(t, carol, { resource: 'both-box', approvers: [alice.email], duration: '4 hours' });
    await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
    await waitForDm(t, carol, 'is active until');
    const [grant] = await t.store.repos.grants.list({});
    const view = await openHome(t, alice);
    const [revoke] = buttons(sectionOf(view, 'dashboard'), 'jit.grant.revoke');
    const modal = await modalFromHome(t, alice, 'jit.grant.revoke', revoke ?? {});
    const res = await t.slack.viewSubmission({
      userId: alice.id,
      view: modal as never,
      values: { 'jit.revoke.reason': TYPED },
    });
    expect(res.status).toBe(200);
    await eventually(async () => expect((await t.store.repos.grants.get(grant!.id))?.status).toBe('revoked'));
    await t.delivered();
    expectInertOnSlack(await waitForDm(t, carol, 'Alice Approver revoked it'), [TYPED]);
  });

  it('keeps the words typed after /request-access inert in what the bot answers', async () => {
    const { t } = await start();
    const mark = t.fake.checkpoint();
    const res = await t.slack.slashCommand({ command: '/request-access', text: TYPED, userId: carol.id });
    expect(res.status).toBe(200);
    await settle(300);
    // Whatever the bot answered (an ephemeral, a response_url message, a form), none of it is active.
    const answers = t.fake.calls.filter((c) => c.seq >= mark);
    expect(answers.length).toBeGreaterThan(0);
    for (const call of answers) {
      const args = call.args as { text?: unknown; blocks?: unknown; view?: { blocks?: unknown } };
      expect(slackMarkup({ text: args.text, blocks: args.blocks ?? args.view?.blocks ?? [] })).toEqual({
        mentions: [],
        links: [],
      });
    }
    if (typeof res.body === 'object' && res.body) {
      expect(slackMarkup(res.body as { text?: unknown; blocks?: unknown })).toEqual({
        mentions: [],
        links: [],
      });
    }
  });
});

describe('mention and link injection in text typed in Teams', () => {
  const chat = (t: TestSystem, c: FakeBotConnector, user: FakeTeamsUser) =>
    new TeamsChat(c, `http://127.0.0.1:${t.system.port}/api/messages`, user);
  const expectInertOnTeams = (activity: Parameters<typeof teamsMarkup>[0], shows: string[]) => {
    expect(teamsMarkup(activity)).toEqual({ mentions: [], links: [] });
    const seen = readActivity(activity);
    for (const text of shows) expect(`${seen.title}\n${seen.body}`).toContain(text);
  };

  it('shows a justification and ticket typed in the Teams form inert on the Slack and the Teams approval cards', async () => {
    const { t, connector } = await start();
    const tom = chat(t, connector, TOM);
    await tom.install();
    const { id } = await tom.open('request access both-box');
    await tom.press(id, '4 hours');
    const sent = await tom.press(id, 'Send request', {
      [FormInput.approvers]: `${alice.email},${TINA.email}`,
      [FormInput.justification]: TYPED,
      [FormInput.ticket]: TICKET,
    });
    expect(textsOf(sent.card as Card)[0]).toBe('Request sent');
    await t.delivered();
    expect((await onlyRequest(t)).justification).toBe(TYPED);

    expectInertOnSlack(await waitForDm(t, alice, 'Approve'), [TYPED, TICKET]);
    const [card] = connector.activitiesIn(connector.personalConversationId(TINA.id));
    expectInertOnTeams(card!.activity, [TYPED, TICKET]);
    // Tom's own "Request sent" card and his status message.
    for (const { activity } of connector.activitiesIn(tom.conversationId)) {
      expect(teamsMarkup(activity)).toEqual({ mentions: [], links: [] });
    }
  });

  it('shows a deny reason typed on a Teams card inert to a Slack requester and on the Slack approver’s card', async () => {
    const { t, connector } = await start();
    const tina = chat(t, connector, TINA);
    await requestAccess(t, carol, {
      resource: 'both-box',
      approvers: [alice.email, TINA.email!],
      duration: '4 hours',
    });
    await t.delivered();
    const slackCard = await waitForDm(t, alice, 'Approve');
    const { id } = await eventually(() => tina.lastCard());
    const form = await tina.press(id, 'Deny');
    const denied = await tina.press(id, 'Deny', { [DENY_REASON_INPUT]: TYPED }, form.card as Card);
    expect(textsOf(denied.card as Card).join('\n')).toContain('Denied by Tina Teams');
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('denied'));
    expect((await onlyRequest(t)).reason).toBe(TYPED);
    await t.delivered();

    expectInertOnSlack(await waitForDm(t, carol, 'Denied by Tina Teams'), [TYPED]);
    expectInertOnSlack(t.fake.message(slackCard.channel, slackCard.ts), ['Denied by Tina Teams']);
    // The clicked card, replaced by the answer, shows the reason inert too.
    expectInertOnTeams(
      { attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: denied.card }] },
      [TYPED],
    );
  });

  it('keeps the words typed after "request access" in Teams inert in what the bot answers', async () => {
    const { t, connector } = await start();
    const tom = chat(t, connector, TOM);
    await tom.install();
    const before = connector.activitiesIn(tom.conversationId).length;
    const res = await tom.say(`request access ${TYPED}`);
    expect(res.status).toBe(200);
    await settle(200);
    const answers = connector.activitiesIn(tom.conversationId).slice(before);
    expect(answers.length).toBeGreaterThan(0);
    for (const { activity } of answers) expect(teamsMarkup(activity)).toEqual({ mentions: [], links: [] });
    // The answer does show the words (as text): the check above is of them, not of an empty card.
    expect(answers.map((a) => readActivity(a.activity).body).join('\n')).toContain(
      'There is no resource called “Please <!channel> <!here> <@UALICE> <#C0GENERAL> <https://evil.example/login|click> [click](',
    );
  });
});
