/**
 * The whole lifecycle in Microsoft Teams, through the real CloudAdapter over HTTP and the fake Bot
 * Connector: a request (made through the domain until the Teams request form lands), approval cards
 * in the approvers' Teams chats, Approve and Deny (with a reason typed on the card) as signed
 * `adaptiveCard/action` invokes answered with the replacement card, every other copy edited in
 * place, the reminder with Request extension and End access now, expiry with Request again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FORM_NOT_AVAILABLE } from '../../src/bot/teams/actions.js';
import { DENY_REASON_INPUT } from '../../src/domain/views/forms.js';
import { ActionId } from '../../src/domain/views/model.js';
import { activeMarkupOf, readActivity } from '../chat/teams-markup.js';
import type { JsonObject, StoredActivity } from '../support/fake-bot-connector.js';
import { eventually } from '../support/flows.js';
import { cardButtons, pressButton } from '../support/teams-flows.js';
import { startTeamsSystem, type TeamsTestSystem, teamsUser } from '../support/teams-system.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

const TARA = teamsUser('tara', 'Tara Requester', 'Asia/Kolkata');
const TINA = teamsUser('tina', 'Tina Approver', 'Australia/Sydney');
const TOM = teamsUser('tom', 'Tom Approver', 'Europe/Paris');

const TEAMS_POLICY = `
defaults:
  approvalWindow: PT1H
  remindBefore: PT5M
resources:
  - id: teams-box
    name: Teams box
    approvers: [tina@example.com, tom@example.com]
    connector: { type: log }
`;

let s: TeamsTestSystem | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const asCard = (card: JsonObject) => ({
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
});
/** A card as its reader sees it: heading, body, buttons. */
const read = (cardOrActivity: JsonObject) =>
  readActivity(cardOrActivity.type === 'AdaptiveCard' ? asCard(cardOrActivity) : cardOrActivity);
const text = (cardOrActivity: JsonObject) => {
  const seen = read(cardOrActivity);
  return `${seen.title}\n${seen.body}`;
};

async function start(): Promise<TeamsTestSystem> {
  s = await startTeamsSystem({ users: [TARA, TINA, TOM], policy: TEAMS_POLICY });
  return s;
}

async function request(sys: TeamsTestSystem, justification = 'Investigate ticket 42'): Promise<string> {
  return sys.submit({
    requester: 'tara@example.com',
    resourceId: 'teams-box',
    approvers: ['tina@example.com', 'tom@example.com'],
    duration: 'PT4H',
    justification,
  });
}

async function press(
  sys: TeamsTestSystem,
  email: string,
  on: StoredActivity | { card: JsonObject; replyToId: string; conversationId: string },
  verb: string,
  opts: Parameters<typeof pressButton>[5] = {},
) {
  const pressed = await pressButton(sys.connector, sys.botUrl, sys.user(email).id, on, verb, opts);
  expect(pressed.result.status).toBe(200);
  return pressed.answer;
}

async function status(sys: TeamsTestSystem, id: string) {
  return (await sys.t.store.repos.requests.get(id))?.status;
}

describe('Teams: approving and denying on the card', () => {
  it('approves: the clicked card is replaced by the answer, the other approver’s card is edited in place, the requester is told, access is granted', async () => {
    const sys = await start();
    const id = await request(sys);
    const tinaCard = await sys.recorded(id, 'approval-card', 'tina@example.com');
    const tomCard = await sys.recorded(id, 'approval-card', 'tom@example.com');
    expect(read(tinaCard.activity).buttons).toEqual(['Approve', 'Deny']);
    // Approve is confirmed on the card itself before it goes.
    expect(cardButtons(tinaCard.activity).find((b) => b.verb === ActionId.approve)?.title).toBe('Approve');

    const answer = await press(sys, 'tina@example.com', tinaCard, ActionId.approve);
    expect(answer.kind).toBe('card');
    if (answer.kind !== 'card') return;
    expect(read(answer.card).buttons).toEqual([]);
    expect(text(answer.card)).toContain('Approved by Tina Approver');
    expect(await status(sys, id)).toBe('approved');

    await sys.t.delivered();
    await eventually(() => {
      for (const card of [tinaCard, tomCard]) {
        const now = sys.connector.activity(card.conversationId, card.id);
        expect(read(now?.activity ?? {}).buttons).toEqual([]);
        expect(text(now?.activity ?? {})).toContain('Approved by Tina Approver');
      }
    });
    await sys.latest('tara@example.com', 'Approved by Tina Approver');
    const grant = await eventually(async () => {
      const [g] = await sys.t.store.repos.grants.list({});
      expect(g?.status).toBe('active');
      return g;
    });
    expect(grant?.holder.email).toBe('tara@example.com');

    // Tom's client still shows the buttons: his click answers with what happened, and changes nothing.
    const late = await press(sys, 'tom@example.com', tomCard, ActionId.approve);
    expect(late).toEqual({
      kind: 'message',
      text: expect.stringContaining('Tina Approver already approved this request'),
    });
    expect(await sys.t.store.repos.grants.list({})).toHaveLength(1);
  });

  it('denies with a reason typed on the card; Back shows the card again; the reason stays inert text', async () => {
    const sys = await start();
    const id = await request(sys);
    const tinaCard = await sys.recorded(id, 'approval-card', 'tina@example.com');
    const at = { replyToId: tinaCard.id, conversationId: tinaCard.conversationId };

    const form = await press(sys, 'tina@example.com', tinaCard, ActionId.deny);
    expect(form.kind).toBe('card');
    if (form.kind !== 'card') return;
    expect(text(form.card)).toContain("Deny Tara Requester's request for Teams box?");
    expect(JSON.stringify(form.card.body)).toContain(`"id":"${DENY_REASON_INPUT}"`);
    expect(read(form.card).buttons).toEqual(['Deny', 'Back']);
    expect(await status(sys, id)).toBe('pending');

    const back = await press(sys, 'tina@example.com', { card: form.card, ...at }, 'jit.request.deny.back');
    expect(back.kind === 'card' && read(back.card).buttons).toEqual(['Approve', 'Deny']);

    const again = await press(sys, 'tina@example.com', tinaCard, ActionId.deny);
    if (again.kind !== 'card') throw new Error('no deny form');
    const reason = 'Not during the freeze <at>Everyone</at> see [this](https://evil.example) \\*';
    const denied = await press(
      sys,
      'tina@example.com',
      { card: again.card, ...at },
      'jit.request.deny.submit',
      {
        inputs: { [DENY_REASON_INPUT]: reason },
      },
    );
    if (denied.kind !== 'card') throw new Error(`not a card: ${JSON.stringify(denied)}`);
    expect(text(denied.card)).toContain(`Denied by Tina Approver`);
    expect(text(denied.card)).toContain(`Reason: ${reason}`);
    expect(activeMarkupOf(asCard(denied.card))).toEqual({ mentions: [], links: [] });
    const stored = await sys.t.store.repos.requests.get(id);
    expect(stored).toMatchObject({ status: 'denied', reason });

    const notice = await sys.latest('tara@example.com', 'Denied by Tina Approver');
    expect(text(notice.activity)).toContain(reason);
    expect(activeMarkupOf(notice.activity)).toEqual({ mentions: [], links: [] });
    expect(await sys.t.store.repos.grants.list({})).toHaveLength(0);
  });

  it('refuses a deny reason longer than the card allows, and changes nothing', async () => {
    const sys = await start();
    const id = await request(sys);
    const tinaCard = await sys.recorded(id, 'approval-card', 'tina@example.com');
    const answer = await press(sys, 'tina@example.com', tinaCard, 'jit.request.deny.submit', {
      data: { value: id, [DENY_REASON_INPUT]: 'x'.repeat(1001) },
    });
    expect(answer).toEqual({ kind: 'message', text: 'The reason is too long: at most 1000 characters.' });
    expect(await status(sys, id)).toBe('pending');
  });

  it('lets the requester cancel from their status card; an approver’s later click is told it was cancelled', async () => {
    const sys = await start();
    const id = await request(sys);
    const tinaCard = await sys.recorded(id, 'approval-card', 'tina@example.com');
    const mine = await sys.recorded(id, 'requester-status', 'tara@example.com');
    expect(read(mine.activity).buttons).toEqual(['Cancel request']);
    const answer = await press(sys, 'tara@example.com', mine, ActionId.cancel);
    expect(answer.kind === 'card' && text(answer.card)).toContain('Cancelled at');
    expect(await status(sys, id)).toBe('cancelled');
    await eventually(() =>
      expect(
        read(sys.connector.activity(tinaCard.conversationId, tinaCard.id)?.activity ?? {}).buttons,
      ).toEqual([]),
    );
    const late = await press(sys, 'tina@example.com', tinaCard, ActionId.approve);
    expect(late).toEqual({
      kind: 'message',
      text: expect.stringContaining('Tara Requester cancelled this request'),
    });
  });
});

describe('Teams: the grant, from reminder to expiry', () => {
  it('reminds the holder; Request extension asks for the form; an extension approved in Teams moves the expiry; End access now ends it', async () => {
    const sys = await start();
    const id = await request(sys);
    await press(
      sys,
      'tina@example.com',
      await sys.recorded(id, 'approval-card', 'tina@example.com'),
      ActionId.approve,
    );
    const grant = await eventually(async () => {
      const [g] = await sys.t.store.repos.grants.list({ status: ['active'] });
      if (!g) throw new Error('not active yet');
      return g;
    });
    const expiresAt = grant.expiresAt?.getTime() ?? 0;

    await sys.t.runner.advance(4 * HOUR - 5 * MIN + 1);
    const reminder = await sys.recorded(grant.id, 'reminder', 'tara@example.com');
    expect(read(reminder.activity).buttons).toEqual(['Request extension', 'End access now']);

    // Someone else pressing it (a forwarded or tampered card) is refused by the domain.
    const other = await press(sys, 'tom@example.com', reminder, ActionId.extend);
    expect(other.kind).toBe('message');
    expect(other.kind === 'message' && other.text).not.toBe(FORM_NOT_AVAILABLE);
    // The holder is answered with the request form, for an extension of this grant.
    const form = await press(sys, 'tara@example.com', reminder, ActionId.extend);
    expect(form.kind === 'card' && text(form.card)).toContain('Extend your access to Teams box');
    const formJson = form.kind === 'card' ? JSON.stringify(form.card) : '';
    expect(formJson).toContain('"kind":"extension"');
    expect(formJson).toContain(`"grantId":"${grant.id}"`);

    const extension = await sys.submit({
      requester: 'tara@example.com',
      resourceId: 'teams-box',
      approvers: ['tom@example.com'],
      duration: 'PT4H',
      justification: 'Still investigating',
      grantId: grant.id,
    });
    const extCard = await sys.recorded(extension, 'approval-card', 'tom@example.com');
    expect(read(extCard.activity).title).toBe('Extension request');
    const approved = await press(sys, 'tom@example.com', extCard, ActionId.approve);
    expect(approved.kind === 'card' && text(approved.card)).toContain('Approved by Tom Approver');
    await eventually(async () => {
      const g = await sys.t.store.repos.grants.get(grant.id);
      expect(g?.expiresAt?.getTime()).toBe(expiresAt + 4 * HOUR);
    });
    await sys.latest('tara@example.com', 'was extended');

    const ended = await press(sys, 'tara@example.com', reminder, ActionId.endAccess);
    expect(ended.kind).toBe('card');
    await eventually(async () =>
      expect((await sys.t.store.repos.grants.get(grant.id))?.status).toBe('revoked'),
    );
    await sys.latest('tara@example.com', 'You ended it');
    // Pressed again on the same card: it says what happened.
    expect(await press(sys, 'tara@example.com', reminder, ActionId.endAccess)).toEqual({
      kind: 'message',
      text: 'This access has already ended.',
    });
  });

  it('expires an undecided request: cards say so, a late click is told, and Request again goes to the form', async () => {
    const sys = await start();
    const id = await request(sys);
    const tinaCard = await sys.recorded(id, 'approval-card', 'tina@example.com');
    await sys.t.runner.advance(HOUR + 1);
    expect(await status(sys, id)).toBe('expired');
    await sys.t.delivered();
    await eventually(() =>
      expect(text(sys.connector.activity(tinaCard.conversationId, tinaCard.id)?.activity ?? {})).toContain(
        'Expired at',
      ),
    );
    expect(await press(sys, 'tina@example.com', tinaCard, ActionId.approve)).toEqual({
      kind: 'message',
      text: 'This request expired before anyone decided.',
    });
    const offer = await sys.latest('tara@example.com', 'Request again');
    expect(read(offer.activity).buttons).toEqual(['Request again']);
    // Request again answers with the request form, prefilled from the expired request.
    const again = await press(sys, 'tara@example.com', offer, ActionId.requestAgain);
    expect(again.kind === 'card' && text(again.card)).toMatch(
      /Teams box for 4 hours, .*approvers: Tina Approver, Tom Approver/,
    );
    // The justification typed the first time is there again.
    expect(again.kind === 'card' && JSON.stringify(again.card)).toContain('"value":"Investigate ticket 42"');
  });
});
