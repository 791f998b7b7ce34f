/**
 * Every refusal of a Teams card click, through the real CloudAdapter over HTTP: who is not an
 * approver, one's own request, tampered card data (unknown verb, another or a malformed id, a
 * name typed into the data), a person Teams gives no email for, and unsigned or badly signed
 * invokes (401). Then authentication off (the Agents Playground's mode) and the two platforms in
 * one process: a Slack request decided in Teams, and a Teams request decided in Slack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NOT_RECOGNISED, UNKNOWN_PERSON } from '../../src/bot/teams/actions.js';
import { ActionId } from '../../src/domain/views/model.js';
import { readActivity } from '../chat/teams-markup.js';
import type { FakeTeamsUser, JsonObject, Signing } from '../support/fake-bot-connector.js';
import { collectText } from '../support/fake-slack.js';
import { click, eventually, requestAccess, waitForDm } from '../support/flows.js';
import { USERS } from '../support/system.js';
import { pressButton } from '../support/teams-flows.js';
import { startTeamsSystem, type TeamsTestSystem, teamsUser } from '../support/teams-system.js';

const TARA = teamsUser('tara', 'Tara Requester');
const TINA = teamsUser('tina', 'Tina Approver');
const TOM = teamsUser('tom', 'Tom Approver');
const OTTO = teamsUser('otto', 'Otto Outsider');
/** Teams knows neither a mail nor a UPN for this account. */
const NOBODY: FakeTeamsUser = { ...teamsUser('nobody', 'No Email'), email: undefined, userPrincipalName: '' };

const POLICY = `
defaults: { approvalWindow: PT1H }
resources:
  - id: teams-box
    name: Teams box
    approvers: [tina@example.com, tom@example.com]
    connector: { type: log }
  - id: mixed
    name: Mixed box
    approvers: [tina@example.com, alice@example.com]
    connector: { type: log }
`;

const NOT_AN_APPROVER = 'Only the approvers chosen for this request can decide it.';

let s: TeamsTestSystem | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function start(opts: { authenticated?: boolean } = {}) {
  s = await startTeamsSystem({
    users: [TARA, TINA, TOM, OTTO, NOBODY],
    install: [TARA, TINA, TOM, OTTO],
    policy: POLICY,
    ...opts,
  });
  return s;
}

async function pending(sys: TeamsTestSystem, approvers = ['tina@example.com'], resourceId = 'teams-box') {
  const id = await sys.submit({
    requester: 'tara@example.com',
    resourceId,
    approvers,
    duration: 'PT4H',
    justification: 'Investigate ticket 42',
  });
  return { id, card: await sys.recorded(id, 'approval-card', approvers[0] ?? '') };
}

describe('Teams: refused clicks change nothing', () => {
  it('refuses whoever is not an approver, and the requester on their own request, with the domain’s words, and audits it', async () => {
    const sys = await start();
    const { id, card } = await pending(sys);
    const cases: Array<[string, string, string]> = [
      ['otto@example.com', ActionId.approve, NOT_AN_APPROVER],
      ['otto@example.com', ActionId.deny, NOT_AN_APPROVER],
      ['tom@example.com', ActionId.approve, NOT_AN_APPROVER],
      ['tara@example.com', ActionId.approve, 'You cannot decide your own request.'],
      ['tara@example.com', ActionId.deny, 'You cannot decide your own request.'],
    ];
    for (const [who, verb, said] of cases) {
      const { result, answer } = await pressButton(sys.connector, sys.botUrl, sys.user(who).id, card, verb);
      expect(result.status).toBe(200);
      expect(answer, `${who} ${verb}`).toEqual({ kind: 'message', text: said });
    }
    expect((await sys.t.store.repos.requests.get(id))?.status).toBe('pending');
    const refused = (await sys.t.store.repos.audit.list({ requestId: id })).filter(
      (e) => e.type === 'action.refused',
    );
    expect(refused.map((e) => [e.actor, e.details?.code])).toEqual([
      ['otto@example.com', 'NOT_AN_APPROVER'],
      ['otto@example.com', 'NOT_AN_APPROVER'],
      ['tom@example.com', 'NOT_AN_APPROVER'],
      ['tara@example.com', 'SELF_APPROVAL'],
      ['tara@example.com', 'SELF_APPROVAL'],
    ]);
    await sys.t.delivered();
    expect(
      readActivity(sys.connector.activity(card.conversationId, card.id)?.activity ?? {}).buttons,
    ).toEqual(['Approve', 'Deny']);
  });

  it('refuses tampered card data: an unknown verb, a malformed id, a request that is not there, another request than the card’s, a name typed into the data', async () => {
    const sys = await start();
    const { id, card } = await pending(sys);
    // Another request Tina may decide.
    const alsoTinas = await sys.submit({
      requester: 'tara@example.com',
      resourceId: 'mixed',
      approvers: ['tina@example.com', USERS.alice.email],
      duration: 'PT4H',
      justification: 'Another one',
    });
    const tina = sys.user('tina@example.com').id;
    const cases: Array<[string, unknown, string, string]> = [
      ['unknown verb', { value: id }, 'jit.request.approve.all', NOT_RECOGNISED],
      ['malformed id', { value: '../../requests' }, ActionId.approve, NOT_RECOGNISED],
      ['no id', {}, ActionId.approve, NOT_RECOGNISED],
      ['not a mapping', 'approve', ActionId.approve, NOT_RECOGNISED],
      // The card pressed was sent about `id`: another id, even of a request Tina may decide, is refused.
      [
        'no such request',
        { value: '00000000-0000-0000-0000-000000000000' },
        ActionId.approve,
        NOT_RECOGNISED,
      ],
      ['another request of Tina’s', { value: alsoTinas }, ActionId.approve, NOT_RECOGNISED],
      ['another request of Tina’s, denied', { value: alsoTinas }, ActionId.deny, NOT_RECOGNISED],
      [
        'another request of Tina’s, with a reason',
        { value: alsoTinas, 'jit.deny.reason': 'x' },
        'jit.request.deny.submit',
        NOT_RECOGNISED,
      ],
    ];
    for (const [what, data, verb, said] of cases) {
      const { answer } = await pressButton(sys.connector, sys.botUrl, tina, card, verb, { data });
      expect(answer, what).toEqual({ kind: 'message', text: said });
    }
    // Who clicked is the signed activity's sender, never what the data says.
    const posing = await pressButton(
      sys.connector,
      sys.botUrl,
      sys.user('otto@example.com').id,
      card,
      ActionId.approve,
      {
        data: { value: id, email: 'tina@example.com', actor: 'tina@example.com', from: { id: tina } },
      },
    );
    expect(posing.answer).toEqual({ kind: 'message', text: NOT_AN_APPROVER });
    // A button that is not a Universal Action.
    const submit = sys.connector.cardAction(tina, { verb: ActionId.approve, data: { value: id } });
    (submit.value as JsonObject).action = {
      type: 'Action.Submit',
      verb: ActionId.approve,
      data: { value: id },
    };
    const submitted = await sys.connector.send(sys.botUrl, submit);
    expect(submitted.body).toMatchObject({ statusCode: 200, value: NOT_RECOGNISED });

    for (const request of [id, alsoTinas]) {
      expect((await sys.t.store.repos.requests.get(request))?.status).toBe('pending');
    }
  });

  it('refuses a person Teams gives no email for', async () => {
    const sys = await start();
    const { id, card } = await pending(sys);
    const { answer } = await pressButton(sys.connector, sys.botUrl, NOBODY.id, card, ActionId.approve);
    expect(answer).toEqual({ kind: 'message', text: UNKNOWN_PERSON });
    expect((await sys.t.store.repos.requests.get(id))?.status).toBe('pending');
  });

  it('says something went wrong, with a reference, when Teams cannot say who clicked, and changes nothing', async () => {
    const sys = await start();
    const { id, card } = await pending(sys);
    // Past the identity cache, so Teams is asked again.
    sys.t.clock.advance(3 * 60_000);
    sys.connector.setFault({ status: 503, operations: ['getMember'] });
    const failed = await pressButton(
      sys.connector,
      sys.botUrl,
      sys.user('tina@example.com').id,
      card,
      ActionId.approve,
    );
    expect(failed.result.status).toBe(200);
    expect(failed.answer).toEqual({
      kind: 'message',
      text: expect.stringMatching(/^Something went wrong \(reference [0-9a-f]{8}\)\. Try again/),
    });
    expect((await sys.t.store.repos.requests.get(id))?.status).toBe('pending');
    sys.connector.setFault(null);
    const again = await pressButton(
      sys.connector,
      sys.botUrl,
      sys.user('tina@example.com').id,
      card,
      ActionId.approve,
    );
    expect(again.answer.kind).toBe('card');
    expect((await sys.t.store.repos.requests.get(id))?.status).toBe('approved');
  });

  it('answers 401 to an invoke that is unsigned, forged, expired, for another bot or from another service, and changes nothing', async () => {
    const sys = await start();
    const { id, card } = await pending(sys);
    const tina = sys.user('tina@example.com').id;
    const signings: Signing[] = ['missing', 'forged', 'expired', 'wrong-audience', 'wrong-service-url'];
    for (const signing of signings) {
      const { result } = await pressButton(sys.connector, sys.botUrl, tina, card, ActionId.approve, {
        signing,
      });
      expect(result.status, signing).toBe(401);
    }
    expect((await sys.t.store.repos.requests.get(id))?.status).toBe('pending');
    expect((await sys.t.store.repos.audit.list({ requestId: id })).map((e) => e.type)).toEqual([
      'request.created',
    ]);
  });
});

describe('Teams: authentication off (the local Agents Playground)', () => {
  it('takes unsigned clicks, still as the person Teams names', async () => {
    const sys = await start({ authenticated: false });
    const { id, card } = await pending(sys);
    const outsider = await pressButton(
      sys.connector,
      sys.botUrl,
      sys.user('otto@example.com').id,
      card,
      ActionId.approve,
      {
        signing: 'missing',
      },
    );
    expect(outsider.answer).toEqual({ kind: 'message', text: NOT_AN_APPROVER });
    const approver = await pressButton(
      sys.connector,
      sys.botUrl,
      sys.user('tina@example.com').id,
      card,
      ActionId.approve,
      {
        signing: 'missing',
      },
    );
    expect(approver.answer.kind).toBe('card');
    expect((await sys.t.store.repos.requests.get(id))?.status).toBe('approved');
  });
});

describe('Slack and Teams in one process: decided on the other platform', () => {
  it('a Slack request approved in Teams: the Slack approver’s card is edited, the Slack requester told', async () => {
    const sys = await start();
    const { t } = sys;
    await requestAccess(t, USERS.carol, {
      resource: 'mixed',
      approvers: ['tina@example.com', USERS.alice.email],
    });
    const aliceCard = await waitForDm(t, USERS.alice, 'Approve');
    const [request] = await t.store.repos.requests.list({});
    const tinaCard = await sys.recorded(request?.id ?? '', 'approval-card', 'tina@example.com');
    const { answer } = await pressButton(
      sys.connector,
      sys.botUrl,
      sys.user('tina@example.com').id,
      tinaCard,
      ActionId.approve,
    );
    expect(answer.kind).toBe('card');
    await t.delivered();
    await eventually(() => {
      const now = t.fake.message(aliceCard.channel, aliceCard.ts);
      expect(collectText(now?.blocks ?? [])).toContain('Approved by Tina Approver');
    });
    await waitForDm(t, USERS.carol, 'Approved by Tina Approver');
  });

  it('a Teams request approved in Slack: the Teams approver’s card and the Teams requester’s status are edited', async () => {
    const sys = await start();
    const { id, card: tinaCard } = await pending(sys, ['tina@example.com', USERS.alice.email], 'mixed');
    const status = await sys.recorded(id, 'requester-status', 'tara@example.com');
    const aliceCard = await waitForDm(sys.t, USERS.alice, 'Approve');
    await click(sys.t, USERS.alice, aliceCard, ActionId.approve);
    await eventually(async () => expect((await sys.t.store.repos.requests.get(id))?.status).toBe('approved'));
    await sys.t.delivered();
    await eventually(() => {
      const card = readActivity(sys.connector.activity(tinaCard.conversationId, tinaCard.id)?.activity ?? {});
      expect(card.buttons).toEqual([]);
      expect(card.body).toContain('Approved by Alice Approver');
      const mine = readActivity(sys.connector.activity(status.conversationId, status.id)?.activity ?? {});
      expect(mine.body).toContain('Approved by Alice Approver');
    });
  });
});
