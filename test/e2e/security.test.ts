/**
 * The refusals and the robustness promises, end to end: signatures, replays and Slack retries,
 * concurrent decisions, people who may not decide, and tampered payloads. Every assertion is on
 * what someone would notice (DMs, cards, ephemerals, webhook calls) plus what the store holds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatTime } from '../../src/domain/views/time.js';
import {
  collectText,
  type FakeMessage,
  type FakeView,
  findElement,
  type JsonObject,
} from '../support/fake-slack.js';
import {
  click,
  eventually,
  formAction,
  hasButton,
  onlyRequest,
  openForm,
  quickDurationAction,
  requestAccess,
  settle,
  submitForm,
  waitForDm,
} from '../support/flows.js';
import { buildViewState } from '../support/slack-requests.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, bob, carol, erin } = USERS;
type User = (typeof USERS)[keyof typeof USERS];

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

// ------------------------------------------------------------------ helpers

/** The newest ephemeral shown to `user` containing `needle`, waiting for it to arrive. */
function ephemeralTo(user: User, needle: string) {
  return eventually(() => {
    const found = t.fake.ephemeralsTo(user.id).find((e) => e.text.includes(needle));
    expect(found, `ephemerals to ${user.id}: ${JSON.stringify(t.fake.ephemeralsTo(user.id))}`).toBeDefined();
    return found!;
  });
}

/** The current version of a message (after the app edited it in place). */
function current(message: FakeMessage): FakeMessage {
  const now = t.fake.message(message.channel, message.ts);
  if (!now) throw new Error(`message ${message.ts} vanished`);
  return now;
}

async function refusals(actor: string) {
  return (await t.store.repos.audit.list({ type: 'action.refused', actor })).map((e) => e.details?.code);
}

function webhookEvents(): string[] {
  return t.hooks.calls.map((c) => (c.body as { event: string }).event);
}

/** Deny dialogs the app opened: none for someone who may not decide. */
function denyDialogs() {
  return t.fake
    .callsTo('views.open')
    .filter((c) => (c.args.view as JsonObject | undefined)?.callback_id === 'jit.deny.form');
}

/** Messages the bot posted to `user`'s DM. */
function dmsTo(user: User): FakeMessage[] {
  return t.fake.messagesIn(t.fake.dmChannelFor(user.id));
}

/** The open form with 4 hours chosen, ready to submit. */
async function filledForm(user: User, resource = 'acme-prod'): Promise<FakeView> {
  const view = await openForm(t, user, resource);
  return formAction(t, user, view, quickDurationAction(view, '4 hours'));
}

/** A request by Carol for acme-prod, sent to `approvers`; returns the approvers' cards. */
async function pendingRequest(approvers: User[]) {
  await requestAccess(t, carol, { approvers: approvers.map((a) => a.email) });
  const cards = new Map<User, FakeMessage>();
  for (const approver of approvers) cards.set(approver, await waitForDm(t, approver, 'Approve'));
  return { request: await onlyRequest(t), cards };
}

/** Lets anything still running after an ack finish, so "nothing happened" is a real observation. */
const quiet = () => settle(200);

// ------------------------------------------------------------------ signatures

describe('request signatures', () => {
  const overFiveMinutesAgo = () => Math.floor(Date.now() / 1000) - 5 * 60 - 30;

  it('answers a slash command with a forged signature or a stale timestamp with 401 and opens nothing', async () => {
    const command = { command: '/request-access', text: 'acme-prod', userId: carol.id };
    const forged = await t.slack.slashCommand(command, { signature: `v0=${'0'.repeat(64)}` });
    const stale = await t.slack.slashCommand(command, { timestamp: overFiveMinutesAgo() });
    expect(forged.status).toBe(401);
    expect(stale.status).toBe(401);
    await quiet();
    expect(t.fake.callsTo('views.open')).toHaveLength(0);
    expect(t.fake.callsTo('users.info')).toHaveLength(0);
    // The same command, correctly signed and on time, opens the form.
    expect((await t.slack.slashCommand(command)).status).toBe(200);
    await t.fake.waitFor('views.open');
  });

  it('answers a view submission with a forged signature or a stale timestamp with 401 and stores no request', async () => {
    const view = await filledForm(carol);
    const input = {
      userId: carol.id,
      view: view as unknown as JsonObject,
      values: { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Forged' },
    };
    const forged = await t.slack.viewSubmission(input, {
      signature: `v0=${'f'.repeat(64)}`,
    });
    const stale = await t.slack.viewSubmission(input, { timestamp: overFiveMinutesAgo() });
    expect(forged.status).toBe(401);
    expect(stale.status).toBe(401);
    await quiet();
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('answers an Approve click with a forged signature or a stale timestamp with 401 and decides nothing', async () => {
    const { cards } = await pendingRequest([alice]);
    const card = cards.get(alice)!;
    const action = { userId: alice.id, actionId: 'jit.request.approve', message: card };
    // A stale request correctly signed for its old timestamp: a captured request replayed too late.
    const staleTs = overFiveMinutesAgo();
    const forged = await t.slack.blockAction(action, { signature: `v0=${'a'.repeat(64)}` });
    const stale = await t.slack.blockAction(action, { timestamp: staleTs });
    expect(forged.status).toBe(401);
    expect(stale.status).toBe(401);
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
    expect(hasButton(current(card), 'jit.request.approve')).toBe(true);
  });

  it('answers a validly signed request dated more than five minutes ahead with 401 and does nothing', async () => {
    const { cards } = await pendingRequest([alice]);
    const card = cards.get(alice)!;
    // Signed correctly, but for a time 10 minutes from now: it could be replayed until then.
    const ahead = Math.floor(Date.now() / 1000) + 10 * 60;
    const mark = t.fake.checkpoint();
    const clicked = await t.slack.blockAction(
      { userId: alice.id, actionId: 'jit.request.approve', message: card },
      { timestamp: ahead },
    );
    const command = await t.slack.slashCommand(
      { command: '/request-access', text: 'acme-prod', userId: carol.id },
      { timestamp: ahead },
    );
    expect(clicked.status).toBe(401);
    expect(command.status).toBe(401);
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(t.fake.callsTo('views.open').filter((c) => c.seq >= mark)).toHaveLength(0);
    // Four minutes ahead is within Slack's own tolerance, so clocks that differ a little still work.
    const near = await t.slack.slashCommand(
      { command: '/request-access', text: 'acme-prod', userId: carol.id },
      { timestamp: Math.floor(Date.now() / 1000) + 4 * 60 },
    );
    expect(near.status).toBe(200);
    await t.fake.waitFor('views.open', (c) => c.seq >= mark);
  });
});

// ------------------------------------------------------------------ replays and retries

describe('replays and Slack retries', () => {
  it('creates one request and one set of approver cards when a view submission is replayed and retried', async () => {
    const view = await filledForm(carol);
    const values = { 'jit.form.approvers': [alice.email, dave.email], 'jit.form.justification': 'Fix it' };
    const first = await submitForm(t, carol, view, values);
    expect(first.status).toBe(200);
    await waitForDm(t, alice, 'Approve');
    const replayed = await submitForm(t, carol, view, values);
    const retried = await submitForm(t, carol, view, values, { retryNum: 1 });
    expect([replayed.status, retried.status]).toEqual([200, 200]);
    await quiet();

    await onlyRequest(t);
    expect(await t.store.repos.audit.list({ type: 'request.created' })).toHaveLength(1);
    for (const approver of [alice, dave]) {
      expect(dmsTo(approver).filter((m) => hasButton(m, 'jit.request.approve'))).toHaveLength(1);
    }
    expect(dmsTo(carol).filter((m) => hasButton(m, 'jit.request.cancel'))).toHaveLength(1);
  });

  it('creates one request when the original submission and Slack’s retry arrive at the same time', async () => {
    const view = await filledForm(carol);
    const values = { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Fix it' };
    const answers = await Promise.all([
      submitForm(t, carol, view, values),
      submitForm(t, carol, view, values, { retryNum: 1 }),
      submitForm(t, carol, view, values, { retryNum: 2 }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await waitForDm(t, alice, 'Approve');
    await quiet();
    await onlyRequest(t);
    expect(dmsTo(alice).filter((m) => hasButton(m, 'jit.request.approve'))).toHaveLength(1);
    expect(dmsTo(carol).filter((m) => hasButton(m, 'jit.request.cancel'))).toHaveLength(1);
  });

  it('makes one decision, one grant and one grant.activated call when an Approve click is replayed', async () => {
    const { request, cards } = await pendingRequest([alice, dave]);
    const card = cards.get(alice)!;
    await click(t, alice, card, 'jit.request.approve');
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('approved'));
    await click(t, alice, card, 'jit.request.approve');
    const retry = await t.slack.blockAction(
      { userId: alice.id, actionId: 'jit.request.approve', message: card },
      { retryNum: 1, retryReason: 'http_timeout' },
    );
    expect(retry.status).toBe(200);
    await waitForDm(t, carol, 'is active until');
    await quiet();

    expect(await t.store.repos.audit.list({ requestId: request.id, type: 'request.approved' })).toHaveLength(
      1,
    );
    expect(await t.store.repos.grants.list({})).toHaveLength(1);
    expect(webhookEvents()).toEqual(['grant.activated']);
    expect(dmsTo(carol).filter((m) => m.text.includes('is active'))).toHaveLength(1);
    // The replays are told what happened instead of deciding again.
    await ephemeralTo(alice, 'Alice Approver already approved this request');
  });

  it('lets exactly one of two approvers clicking Approve at once decide; the other is told who did', async () => {
    const { request, cards } = await pendingRequest([alice, dave]);
    await Promise.all([
      click(t, alice, cards.get(alice)!, 'jit.request.approve'),
      click(t, dave, cards.get(dave)!, 'jit.request.approve'),
    ]);
    const decided = await eventually(async () => {
      const r = await onlyRequest(t);
      expect(r.status).toBe('approved');
      return r;
    });
    const [winner, loser] = decided.decidedBy === alice.email ? [alice, dave] : [dave, alice];
    await ephemeralTo(loser, `${winner.realName} already approved this request`);
    await waitForDm(t, carol, 'is active until');
    await quiet();

    expect(await t.store.repos.audit.list({ requestId: request.id, type: 'request.approved' })).toHaveLength(
      1,
    );
    expect(await refusals(loser.email)).toEqual(['ALREADY_DECIDED']);
    expect(await t.store.repos.grants.list({})).toHaveLength(1);
    expect(webhookEvents()).toEqual(['grant.activated']);
    for (const approver of [alice, dave]) {
      const card = current(cards.get(approver)!);
      expect(hasButton(card, 'jit.request.approve')).toBe(false);
      expect(JSON.stringify(card.blocks)).toContain(`Approved by ${winner.realName}`);
    }
  });
});

// ------------------------------------------------------------------ who may decide

describe('who may decide', () => {
  it('refuses someone who was not chosen as an approver, with an ephemeral and an audit entry, and changes nothing', async () => {
    const { request, cards } = await pendingRequest([alice]);
    const card = cards.get(alice)!;
    // Erin (an outsider), Bob (a colleague of Carol's) and Dave (an approver of the resource who
    // was not chosen for this request) all send Alice's card back with their own user id.
    for (const intruder of [erin, bob, dave]) {
      await click(t, intruder, card, 'jit.request.approve');
      await ephemeralTo(intruder, 'Only the approvers chosen for this request can decide it.');
      await click(t, intruder, card, 'jit.request.deny');
      await eventually(async () => expect(await refusals(intruder.email)).toHaveLength(2));
      expect(await refusals(intruder.email)).toEqual(['NOT_AN_APPROVER', 'NOT_AN_APPROVER']);
    }
    await quiet();

    expect((await onlyRequest(t)).status).toBe('pending');
    expect(denyDialogs()).toHaveLength(0);
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
    expect(hasButton(current(card), 'jit.request.approve')).toBe(true);
    const trail = await t.store.repos.audit.list({ requestId: request.id, type: 'action.refused' });
    expect(trail.map((e) => e.actor)).toEqual([
      erin.email,
      erin.email,
      bob.email,
      bob.email,
      dave.email,
      dave.email,
    ]);
  });

  it('never lets the requester decide their own request, even though she is an approver of the resource', async () => {
    // Carol is an approver of acme-prod in the test policy, and a requester of it.
    const view = await filledForm(carol);
    const approverOptions = (findElement(view.blocks, 'jit.form.approvers')?.element.options ?? []) as Array<{
      value: string;
    }>;
    expect(approverOptions.map((o) => o.value).sort()).toEqual([alice.email, dave.email]);

    // A tampered submission naming herself is refused inline, and nothing is sent.
    const mark = t.fake.checkpoint();
    const res = await submitTampered(carol, view, { 'jit.form.justification': 'Me, myself' }, (state) => {
      setApprovers(view, state, [carol.email]);
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      response_action: 'errors',
      errors: { [approversBlock(view)]: 'You cannot approve your own request.' },
    });
    await quiet();
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.calls.filter((c) => c.seq >= mark && c.method === 'chat.postMessage')).toHaveLength(0);

    // A click on a card of her own request is refused too.
    const { cards } = await pendingRequest([alice]);
    await click(t, carol, cards.get(alice)!, 'jit.request.approve');
    await ephemeralTo(carol, 'You cannot decide your own request.');
    await click(t, carol, cards.get(alice)!, 'jit.request.deny');
    // Every refusal is in the audit trail: the tampered form, the Approve and the Deny.
    await eventually(async () => {
      const refused = await t.store.repos.audit.list({ type: 'action.refused', actor: carol.email });
      expect(refused.map((e) => [e.details?.action, e.details?.code])).toEqual([
        ['request', 'SELF_APPROVAL'],
        ['approve', 'SELF_APPROVAL'],
        ['deny', 'SELF_APPROVAL'],
      ]);
    });
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(denyDialogs()).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
  });

  it('says what happened when a decided card is clicked again', async () => {
    const { cards } = await pendingRequest([alice, dave]);
    await click(t, alice, cards.get(alice)!, 'jit.request.approve');
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('approved'));
    await waitForDm(t, carol, 'is active until');

    // Dave's Slack still shows the old card; he clicks Approve, then Deny.
    await click(t, dave, cards.get(dave)!, 'jit.request.approve');
    // Who decided and when, in Dave's own time zone.
    const { decidedAt } = await onlyRequest(t);
    await ephemeralTo(
      dave,
      `Alice Approver already approved this request (${formatTime(decidedAt!, dave.tz)}).`,
    );
    await click(t, dave, cards.get(dave)!, 'jit.request.deny');
    await eventually(() =>
      expect(
        t.fake.ephemeralsTo(dave.id).filter((e) => e.text.includes('already approved this request')),
      ).toHaveLength(2),
    );
    await quiet();
    expect(denyDialogs()).toHaveLength(0);
    const request = await onlyRequest(t);
    expect(request.status).toBe('approved');
    expect(request.decidedBy).toBe(alice.email);
    expect(webhookEvents()).toEqual(['grant.activated']);
  });

  it('lets the requester cancel: the cards say so without buttons, and a later Approve is told it was cancelled', async () => {
    const { request, cards } = await pendingRequest([alice, dave]);
    const status = await waitForDm(t, carol, 'was sent to');

    // Only the requester may cancel.
    await click(t, alice, status, 'jit.request.cancel');
    await eventually(async () => expect(await refusals(alice.email)).toEqual(['NOT_REQUESTER']));
    expect((await onlyRequest(t)).status).toBe('pending');

    await click(t, carol, status, 'jit.request.cancel');
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('cancelled'));
    await eventually(() => {
      for (const approver of [alice, dave]) {
        const card = current(cards.get(approver)!);
        expect(JSON.stringify(card.blocks)).toContain('Cancelled at');
        expect(hasButton(card, 'jit.request.approve')).toBe(false);
        expect(hasButton(card, 'jit.request.deny')).toBe(false);
      }
      expect(hasButton(current(status), 'jit.request.cancel')).toBe(false);
    });

    await click(t, alice, cards.get(alice)!, 'jit.request.approve');
    const after = await onlyRequest(t);
    await ephemeralTo(
      alice,
      `Carol Support cancelled this request (${formatTime(after.decidedAt!, alice.tz)}).`,
    );
    await quiet();
    expect(after.status).toBe('cancelled');
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
    const trail = (await t.store.repos.audit.list({ requestId: request.id })).map((e) => e.type);
    expect(trail).toContain('request.cancelled');
    expect(trail).not.toContain('request.approved');
  });
});

// ------------------------------------------------------------------ tampered payloads

/** A submission whose state Slack would never produce: what an edited payload carries. */
function submitTampered(
  user: User,
  view: FakeView,
  values: Record<string, string | string[]>,
  tamper: (state: Record<string, Record<string, JsonObject>>) => void,
  viewChanges: Partial<FakeView> = {},
) {
  const state = buildViewState(view as unknown as JsonObject, values);
  tamper(state);
  return t.slack.viewSubmission({
    userId: user.id,
    view: { ...view, ...viewChanges, state: { values: state } } as unknown as JsonObject,
  });
}

function approversBlock(view: FakeView): string {
  const blockId = findElement(view.blocks, 'jit.form.approvers')?.blockId;
  if (!blockId) throw new Error('the form has no approvers select');
  return blockId;
}

function setApprovers(view: FakeView, state: Record<string, Record<string, JsonObject>>, emails: string[]) {
  state[approversBlock(view)] = {
    'jit.form.approvers': {
      type: 'multi_static_select',
      selected_options: emails.map((e) => ({ text: { type: 'plain_text', text: e }, value: e })),
    },
  };
}

describe('tampered payloads', () => {
  it('refuses a button whose value was tampered with, without crashing', async () => {
    const { request, cards } = await pendingRequest([alice]);
    const card = cards.get(alice)!;
    const tampered = [
      '../../x',
      'not a request id',
      '00000000-0000-4000-8000-000000000000',
      'x'.repeat(20_000),
    ];
    for (const [i, value] of tampered.entries()) {
      for (const actionId of ['jit.request.approve', 'jit.request.deny']) {
        const res = await t.slack.blockAction({ userId: alice.id, actionId, message: card, value });
        expect(res.status, `${actionId} with ${value.slice(0, 20)}`).toBe(200);
      }
      await eventually(() => expect(t.fake.ephemeralsTo(alice.id)).toHaveLength(2 * (i + 1)));
    }
    // An id that could be ours but is not is refused by the domain, which audits it.
    expect(t.fake.ephemeralsTo(alice.id).map((e) => e.text)).toContain('This request no longer exists.');
    expect(await refusals(alice.email)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    for (const e of t.fake.ephemeralsTo(alice.id)) expect(e.text).not.toContain('../');
    await quiet();

    // Nothing changed, and the app still works: the real click goes through.
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(denyDialogs()).toHaveLength(0);
    await click(t, alice, card, 'jit.request.approve');
    await eventually(async () =>
      expect((await t.store.repos.requests.get(request.id))?.status).toBe('approved'),
    );
    await waitForDm(t, carol, 'is active until');
    expect(webhookEvents()).toEqual(['grant.activated']);
  });

  it('refuses a submission whose private_metadata was tampered with, inline, and sends nothing', async () => {
    const view = await filledForm(carol);
    const values = { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Tampered' };
    const meta = JSON.parse(view.private_metadata) as Record<string, unknown>;
    const mark = t.fake.checkpoint();

    // Not our metadata at all.
    for (const privateMetadata of ['{not json', JSON.stringify({ ...meta, av: -1 }), 'x'.repeat(3000)]) {
      const res = await submitTampered(carol, view, values, () => {}, { private_metadata: privateMetadata });
      expect(res.body).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
      expect(collectText((res.body as { view: { blocks: unknown[] } }).view.blocks)).toContain(
        'This form could not be read, so nothing was sent. Close it and start again.',
      );
    }

    // A duration the form never offered is not taken as chosen.
    const longer = await submitTampered(carol, view, values, () => {}, {
      private_metadata: JSON.stringify({ ...meta, duration: 'P30D' }),
    });
    expect(longer.body).toEqual({
      response_action: 'errors',
      errors: { [customBlock(view)]: 'Choose a duration.' },
    });

    // An extension of a grant that does not exist.
    const extension = await submitTampered(carol, view, values, () => {}, {
      private_metadata: JSON.stringify({ ...meta, kind: 'extension', grantId: 'someone-elses-grant' }),
    });
    expect(extension.status).toBe(200);
    expect((extension.body as { response_action?: string }).response_action).toBe('errors');

    await quiet();
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.calls.filter((c) => c.seq >= mark && c.method === 'chat.postMessage')).toHaveLength(0);
  });

  it('refuses an extension of someone else’s access named in tampered private_metadata', async () => {
    const { cards } = await pendingRequest([alice]);
    await click(t, alice, cards.get(alice)!, 'jit.request.approve');
    const grant = await eventually(async () => {
      const [g] = await t.store.repos.grants.list({ status: 'active' });
      expect(g).toBeDefined();
      return g!;
    });

    // Bob, Carol's colleague, edits his own form's metadata to extend Carol's grant.
    const view = await filledForm(bob);
    const meta = JSON.parse(view.private_metadata) as Record<string, unknown>;
    const mark = t.fake.checkpoint();
    const res = await submitTampered(
      bob,
      view,
      { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Mine now' },
      () => {},
      { private_metadata: JSON.stringify({ ...meta, kind: 'extension', grantId: grant.id }) },
    );
    expect(res.body).toMatchObject({ response_action: 'errors' });
    expect(Object.values((res.body as { errors: Record<string, string> }).errors)).toEqual([
      'You can only extend your own access.',
    ]);
    await quiet();
    expect(await t.store.repos.requests.list({ requesterEmail: bob.email })).toHaveLength(0);
    expect(t.fake.calls.filter((c) => c.seq >= mark && c.method === 'chat.postMessage')).toHaveLength(0);
    expect((await t.store.repos.grants.get(grant.id))?.expiresAt).toEqual(grant.expiresAt);
  });
});

function customBlock(view: FakeView): string {
  const blockId = findElement(view.blocks, 'jit.form.custom_amount')?.blockId;
  if (!blockId) throw new Error('the form has no custom duration');
  return blockId;
}
