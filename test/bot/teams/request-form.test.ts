/**
 * The request form in Teams, end to end: the real process (CloudAdapter on `POST /api/messages`,
 * authentication on) and the fake Bot Connector. A person types "request access" in their personal
 * chat, gets the form as an Adaptive Card, fills it with the card's buttons (each an
 * `adaptiveCard/action` invoke answered with the card re-rendered, and the message updated in
 * place), and sends it; the approvers' cards go out through the outbox to their Teams chats.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TeamsIdentity } from '../../../src/bot/teams/identity.js';
import { requestFormCard } from '../../../src/bot/teams/request-form.js';
import { FormInput } from '../../../src/bot/teams/request-form-data.js';
import { ActionId } from '../../../src/domain/views/model.js';
import { createLogger } from '../../../src/log.js';
import {
  type FakeBotConnector,
  type FakeTeamsUser,
  startFakeBotConnector,
} from '../../support/fake-bot-connector.js';
import { eventually, settle } from '../../support/flows.js';
import { startTestSystem, type TestSystem } from '../../support/system.js';
import { buttonsOf, type Card, choicesOf, input, TeamsChat, textsOf } from '../../support/teams-client.js';

const person = (id: string, name: string, tz: string): FakeTeamsUser => ({
  id: `29:1${id}`,
  aadObjectId: `aad-${id}`,
  name,
  email: `${id}@example.com`,
  userPrincipalName: `${id}@example.com`,
  tz,
});
// Only on Teams (the fake Slack has none of them): the outbox reaches them there.
const TOM = person('tom', 'Tom Requester', 'Pacific/Auckland');
const TINA = person('tina', 'Tina Approver', 'Europe/Paris');
const TED = person('ted', 'Ted Approver', 'America/Chicago');
/** Teams knows neither a mail nor a UPN for this account. */
const NOMAIL: FakeTeamsUser = { ...person('nomail', 'No Mail', 'UTC'), userPrincipalName: '' };
delete NOMAIL.email;

const POLICY = `
defaults:
  approvalWindow: PT1H
  durations: [PT4H, PT8H, P1D]
  custom: { min: PT1H, max: P3D }
resources:
  - id: tenant-prod
    name: Tenant production
    approvers: [tina@example.com, ted@example.com]
    connector: { type: log }
  - id: sandbox
    name: Sandbox
    approvers: [tina@example.com]
    policy: { approval: auto }
    connector: { type: log }
  - id: orphan
    name: Orphan box
    approvers: [tom@example.com]
    connector: { type: log }
  - id: secret
    name: Secret vault
    approvers: [tina@example.com]
    requesters: [tina@example.com]
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

/** The app serving Teams; `unauthenticated` as for the Agents Playground (no app id, no tokens). */
async function start(
  opts: { unauthenticated?: boolean } = {},
): Promise<{ t: TestSystem; tom: TeamsChat; tina: TeamsChat; ted: TeamsChat }> {
  connector = await startFakeBotConnector({
    users: [TOM, TINA, TED, NOMAIL],
    ...(opts.unauthenticated ? {} : { auth: { appId: 'teams-form-app' } }),
  });
  // 2026-03-02 09:00 UTC: 22:00 in Auckland (NZDT, UTC+13).
  t = await startTestSystem({ policy: POLICY, teams: connector, start: new Date('2026-03-02T09:00:00Z') });
  const url = `http://127.0.0.1:${t.system.port}/api/messages`;
  const chats = [TOM, TINA, TED].map((u) => new TeamsChat(connector as FakeBotConnector, url, u));
  for (const chat of chats) await chat.install();
  const [tom, tina, ted] = chats as [TeamsChat, TeamsChat, TeamsChat];
  return { t, tom, tina, ted };
}

/** The form state a card's buttons carry back. */
function formOf(card: Card): Record<string, unknown> {
  const send = card.actions?.find((a) => a.verb === 'form.submit');
  const data = send?.data as { form?: Record<string, unknown> } | undefined;
  if (!data?.form) throw new Error('the card has no Send button with the form state');
  return data.form;
}

const summaryOf = (card: Card) => {
  const texts = textsOf(card);
  return texts[texts.indexOf('Summary') + 1];
};

describe('the personal chat’s commands', () => {
  it('answers "help", and anything it does not know, with what it can do', async () => {
    const { tom } = await start();
    for (const text of ['help', 'HELP', 'what now?']) {
      const res = await tom.say(text);
      expect(res.status).toBe(200);
      const answer = tom.messages().at(-1);
      expect(answer?.text, text).toContain('request access');
      expect(answer?.text).toContain('help');
      expect(answer?.attachments).toBeUndefined();
    }
    expect(tom.messages().at(-1)?.text).toMatch(/^I did not understand that/);
  });

  it('answers "request access" with the form as an Adaptive Card 1.5, listing only what the person may request', async () => {
    const { t, tom } = await start();
    for (const text of ['request access', 'Request Access', '  REQUEST   ACCESS  ']) {
      const { card } = await tom.open(text);
      expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
      expect(textsOf(card)[0]).toBe('Request access');
      // A plain drop-down (the default style): three resources need no type-ahead.
      expect(input(card, FormInput.resource)).toMatchObject({ type: 'Input.ChoiceSet' });
      expect(input(card, FormInput.resource)?.['choices.data']).toBeUndefined();
      expect(choicesOf(card, FormInput.resource)).toEqual([
        { title: 'Tenant production', value: 'tenant-prod' },
        { title: 'Sandbox', value: 'sandbox' },
        { title: 'Orphan box', value: 'orphan' },
      ]);
      // Nothing about approvers or durations until a resource is chosen.
      expect(input(card, FormInput.approvers)).toBeUndefined();
      expect(buttonsOf(card)).toEqual(['Use this resource', 'Send request']);
    }
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
  });

  it('preselects the resource named after the command, and says so when none matches', async () => {
    const { tom } = await start();
    const { card } = await tom.open('request access Tenant production');
    expect(input(card, FormInput.resource)?.value).toBe('tenant-prod');
    // Named as Teams showed them to the bot when they installed it (their stored chat reference).
    expect(choicesOf(card, FormInput.approvers)).toEqual([
      { title: 'Tina Approver (tina@example.com)', value: 'tina@example.com' },
      { title: 'Ted Approver (ted@example.com)', value: 'ted@example.com' },
    ]);
    expect(input(card, FormInput.approvers)).toMatchObject({ isMultiSelect: true });
    expect(buttonsOf(card)).toEqual([
      'Use this resource',
      '4 hours',
      '8 hours',
      '1 day',
      'Use template',
      'Send request',
      'Update summary',
    ]);
    expect(choicesOf(card, FormInput.customUnit).map((c) => c.title)).toEqual(['Hour', 'Day', 'Week']);
    expect(textsOf(card)).toContain('Between 1 hour and 3 days.');
    expect(choicesOf(card, FormInput.template).map((c) => c.title)).toContain('Investigate Reported Issue');
    expect(summaryOf(card)).toBe('Tenant production: choose a duration; approvers: none chosen yet');

    // A mention of the bot before the command (as Teams writes one) changes nothing.
    const mentioned = (await tom.open('<at>JIT Access</at> request access sandbox')).card;
    expect(input(mentioned, FormInput.resource)?.value).toBe('sandbox');

    const secret = (await tom.open('request access secret')).card;
    expect(textsOf(secret)).toContain(
      'There is no resource called “secret” that you can request. Choose one below.',
    );
    expect(input(secret, FormInput.resource)?.value).toBeUndefined();
  });

  it('says "No administrators found" for a resource whose only approver is the requester', async () => {
    const { tom } = await start();
    const { card } = await tom.open('request access orphan');
    expect(textsOf(card)).toContain('No administrators found');
    expect(input(card, FormInput.approvers)).toBeUndefined();
  });
});

describe('the form card', () => {
  it('re-renders in place on each change: resource, quick duration, template, custom amount — and sends nothing', async () => {
    const { t, tom } = await start();
    const { id } = await tom.open('request access');

    let res = await tom.press(id, 'Use this resource', { [FormInput.resource]: 'tenant-prod' });
    expect(res.status).toBe(200);
    let card = res.card as Card;
    // The invoke's answer and the message in the chat are the same card.
    expect(tom.cardOf(id)).toEqual(card);
    expect(input(card, FormInput.resource)?.value).toBe('tenant-prod');
    expect(summaryOf(card)).toBe('Tenant production: choose a duration; approvers: none chosen yet');

    res = await tom.press(id, '4 hours', { [FormInput.approvers]: 'tina@example.com' });
    card = res.card as Card;
    expect(buttonsOf(card)).toContain('✓ 4 hours');
    expect(buttonsOf(card)).not.toContain('4 hours');
    // In Tom's zone: 09:00 UTC + 4 h = 13:00 UTC = 02:00 the next day in Auckland.
    expect(summaryOf(card)).toBe(
      'Tenant production for 4 hours, until Tue 3 Mar 02:00 GMT+13 your time; approvers: Tina Approver',
    );
    expect(input(card, FormInput.approvers)?.value).toBe('tina@example.com');

    res = await tom.press(id, 'Use template', { [FormInput.template]: 'Investigate Reported Issue' });
    card = res.card as Card;
    expect(input(card, FormInput.justification)?.value).toBe('Investigate Reported Issue');
    expect(buttonsOf(card)).toContain('✓ 4 hours');

    res = await tom.press(id, 'Update summary', {
      [FormInput.customAmount]: '2',
      [FormInput.customUnit]: 'day',
    });
    card = res.card as Card;
    expect(summaryOf(card)).toMatch(
      /^Tenant production for 2 days, until .*your time; approvers: Tina Approver$/,
    );
    // A typed amount wins: no quick button stays marked.
    expect(buttonsOf(card).filter((b) => b.startsWith('✓'))).toEqual([]);
    expect(input(card, FormInput.customAmount)?.value).toBe(2);
    expect(input(card, FormInput.customUnit)?.value).toBe('day');

    // A different resource resets approvers and duration.
    res = await tom.press(id, 'Use this resource', { [FormInput.resource]: 'sandbox' });
    card = res.card as Card;
    expect(textsOf(card)).toContain(
      'Approved automatically under this resource’s policy; a justification is still required.',
    );
    expect(summaryOf(card)).toBe('Sandbox: choose a duration; approved automatically');

    // One message, edited each time; nothing sent, nothing stored.
    expect(tom.messages()).toHaveLength(1);
    const versions = connector?.activity(tom.conversationId, id)?.versions ?? [];
    expect(versions).toHaveLength(6);
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
  });

  it('shows field errors under their fields on a submission with mistakes, and sends nothing', async () => {
    const { t, tom, tina } = await start();
    const { id } = await tom.open('request access tenant-prod');
    let res = await tom.press(id, 'Send request');
    let card = res.card as Card;
    const texts = textsOf(card);
    expect(texts).toContain('Nothing was sent yet: fix what is marked below, then send again.');
    expect(texts).toContain('Choose at least one approver.');
    expect(texts).toContain('Choose a duration.');
    expect(texts).toContain('Say why you need access.');
    // The error sits right under its field.
    const body = card.body ?? [];
    const approvers = body.findIndex((e) => e.id === FormInput.approvers);
    expect(body[approvers + 2]).toMatchObject({ type: 'TextBlock', color: 'Attention' });

    res = await tom.press(id, 'Send request', {
      [FormInput.approvers]: 'tina@example.com',
      [FormInput.customAmount]: '5',
      [FormInput.customUnit]: 'day',
      [FormInput.justification]: 'Incident 7',
    });
    card = res.card as Card;
    expect(textsOf(card).filter((x) => /3 days/.test(x) && x !== 'Between 1 hour and 3 days.')).not.toEqual(
      [],
    );
    expect(input(card, FormInput.justification)?.value).toBe('Incident 7');

    await settle(100);
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(tina.messages()).toHaveLength(0);
  });

  it('sends a valid request through the domain: the card becomes "Request sent" and each approver gets a card in Teams', async () => {
    const { t, tom, tina, ted } = await start();
    const { id } = await tom.open('request access tenant-prod');
    await tom.press(id, '8 hours');
    const before = tom.cardOf(id);
    const inputs = {
      [FormInput.approvers]: 'tina@example.com,ted@example.com',
      [FormInput.justification]: 'Customer ticket <at>everyone</at> *now*',
      [FormInput.ticket]: 'INC-42',
    };
    const res = await tom.press(id, 'Send request', inputs);
    const card = res.card as Card;
    expect(textsOf(card)[0]).toBe('Request sent');
    expect(textsOf(card).join('\n')).toContain(
      'Your request for access to Tenant production for 8 hours was sent to tina@example.com, ted@example.com.',
    );
    expect(buttonsOf(card)).toEqual([]);
    expect(tom.cardOf(id)).toEqual(card);

    const [request] = await t.store.repos.requests.list({});
    expect(request).toMatchObject({
      resourceId: 'tenant-prod',
      requester: { email: 'tom@example.com', name: 'Tom Requester' },
      approvers: ['tina@example.com', 'ted@example.com'],
      duration: 'PT8H',
      justification: 'Customer ticket <at>everyone</at> *now*',
      ticket: 'INC-42',
      status: 'pending',
    });
    expect(request?.submissionKey).toMatch(/^teams:aad-tom:/);

    await t.delivered();
    for (const approver of [tina, ted]) {
      const approval = await eventually(() => approver.lastCard());
      expect(textsOf(approval.card).join('\n')).toContain('Tenant production');
      expect(JSON.stringify(approval.card)).toContain(ActionId.approve);
      // Typed text is inert in the card.
      expect(JSON.stringify(approval.card)).not.toContain('<at>everyone</at>');
    }
    // The requester's status message, with Cancel, follows the "Request sent" card.
    expect(JSON.stringify(tom.messages().at(-1))).toContain(ActionId.cancel);

    // Pressing Send again on the card as it was (a replay, a double click) sends nothing new.
    const again = await tom.press(id, 'Send request', inputs, before);
    expect(textsOf(again.card as Card)[0]).toBe('Request sent');
    expect(await t.store.repos.requests.list({})).toHaveLength(1);
  });

  it('approves an auto-approval resource on submit and says so', async () => {
    const { t, tom } = await start();
    const { id } = await tom.open('request access sandbox');
    const res = await tom.press(id, 'Send request', {
      [FormInput.justification]: 'Try a migration',
      [FormInput.customAmount]: '3',
      [FormInput.customUnit]: 'hour',
    });
    expect(textsOf(res.card as Card)[0]).toBe('Request approved');
    const [request] = await t.store.repos.requests.list({});
    expect(request).toMatchObject({ resourceId: 'sandbox', duration: 'PT3H', status: 'approved' });
  });
});

describe('what the card carries back is not trusted', () => {
  it('refuses a resource the person may not request, forged into the card, and sends nothing', async () => {
    const { t, tom } = await start();
    const { id, card } = await tom.open('request access tenant-prod');
    const form = formOf(card);
    const res = await tom.execute(id, 'form.submit', {
      form: { ...form, resourceId: 'secret' },
      [FormInput.approvers]: 'tina@example.com',
      [FormInput.justification]: 'Let me in',
      [FormInput.customAmount]: '2',
      [FormInput.customUnit]: 'hour',
    });
    expect(textsOf(res.card as Card)).toContain('You are not allowed to request access to Secret vault.');
    expect(input(res.card as Card, FormInput.resource)?.value).toBeUndefined();
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
  });

  it('takes the requester from the verified sender, never from the card', async () => {
    const { t, tom, ted } = await start();
    const { card } = await tom.open('request access tenant-prod');
    const form = formOf(card);
    // Ted replays Tom's card data (with a requester field added) from his own chat.
    const res = await ted.execute('1', 'form.submit', {
      form,
      requester: 'tom@example.com',
      email: 'tom@example.com',
      [FormInput.approvers]: 'tina@example.com',
      [FormInput.justification]: 'Mine',
      [FormInput.customAmount]: '2',
      [FormInput.customUnit]: 'hour',
    });
    expect(textsOf(res.card as Card)[0]).toBe('Request sent');
    const [request] = await t.store.repos.requests.list({});
    expect(request?.requester.email).toBe('ted@example.com');
    expect(request?.submissionKey).toMatch(/^teams:aad-ted:/);
  });

  it('answers an unreadable card with a message, and sends nothing', async () => {
    const { t, tom } = await start();
    const { id } = await tom.open('request access');
    for (const data of [
      null,
      {},
      { form: { kind: 'access', formId: 'x' } },
      { form: { kind: 'sideways', formId: '12345678' } },
    ]) {
      const res = await tom.execute(id, 'form.submit', data);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        statusCode: 200,
        type: 'application/vnd.microsoft.activity.message',
        value: 'This form could not be read, so nothing was sent. Type “request access” to start again.',
      });
    }
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
  });
});

describe('where Teams cannot vouch for the person, or nobody is checked', () => {
  it('tells a person Teams gives no email for that it cannot tell who they are, and opens no form', async () => {
    const { t } = await start();
    const nobody = new TeamsChat(
      connector as FakeBotConnector,
      `http://127.0.0.1:${t.system.port}/api/messages`,
      NOMAIL,
    );
    const res = await nobody.say('request access');
    expect(res.status).toBe(200);
    expect(nobody.messages().at(-1)?.text).toMatch(/^Teams did not tell me your email address/);
    expect(nobody.messages().at(-1)?.attachments).toBeUndefined();
    expect(await nobody.search('jit.resources', 'tenant')).toEqual([]);
  });

  it('works the same without authentication, as in the Agents Playground: open, change, send', async () => {
    const { t, tom, tina } = await start({ unauthenticated: true });
    const { id } = await tom.open('request access tenant-prod');
    await tom.press(id, '4 hours');
    const res = await tom.press(id, 'Send request', {
      [FormInput.approvers]: 'tina@example.com',
      [FormInput.justification]: 'Playground run',
    });
    expect(textsOf(res.card as Card)[0]).toBe('Request sent');
    expect(textsOf(tom.cardOf(id))[0]).toBe('Request sent');
    await t.delivered();
    expect(textsOf((await eventually(() => tina.lastCard())).card).join('\n')).toContain('Tenant production');
  });
});

describe('the form opened from a card button (Request again, Request extension)', () => {
  it('prefills from an earlier request of the same person, and reuses nothing of someone else’s', async () => {
    const { t } = await start();
    const open = requestFormCard({
      service: t.system.service,
      identity: new TeamsIdentity(),
      conversations: t.store.repos.conversations,
      log: createLogger('silent'),
    });
    const earlier = await t.system.service.submit({
      requester: { email: TOM.email ?? '', name: TOM.name },
      resourceId: 'tenant-prod',
      approvers: ['ted@example.com'],
      duration: 'PT8H',
      justification: 'Quarterly audit',
      ticket: 'AUD-9',
      submissionKey: 'earlier',
    });
    const tom = { email: 'tom@example.com', name: TOM.name, userId: TOM.id, tz: 'Pacific/Auckland' };
    const card = (await open(tom, { again: earlier })) as unknown as Card;
    expect(input(card, FormInput.resource)?.value).toBe('tenant-prod');
    expect(input(card, FormInput.approvers)?.value).toBe('ted@example.com');
    expect(buttonsOf(card)).toContain('✓ 8 hours');
    expect(input(card, FormInput.justification)?.value).toBe('Quarterly audit');
    expect(input(card, FormInput.ticket)?.value).toBe('AUD-9');
    expect(summaryOf(card)).toMatch(
      /^Tenant production for 8 hours, until .* GMT\+13 your time; approvers: Ted Approver$/,
    );

    // Someone else's request is not reused.
    const tina = { email: 'tina@example.com', name: TINA.name, userId: TINA.id };
    const theirs = (await open(tina, { again: earlier })) as unknown as Card;
    expect(input(theirs, FormInput.justification)).toBeUndefined();
    expect(input(theirs, FormInput.resource)?.value).toBeUndefined();
  });
});
