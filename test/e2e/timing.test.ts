/**
 * Time-driven behaviour, end to end: the approval window, auto-approval, reminders, extensions
 * switched off, the sweep after downtime, repeated job runs, and early revocation by an admin.
 * The real Bolt app on a local port, the fake Slack Web API, the webhook receiver, the memory store
 * and the in-process scheduler on a manual clock (`t.runner.advance(ms)` runs due jobs in order).
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
  dmContaining,
  eventually,
  formAction,
  hasButton,
  onlyRequest,
  openForm,
  quickDurationAction,
  requestAccess,
  submitForm,
  waitForDm,
} from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, carol, bob, erin, admin } = USERS;
const MIN = 60_000;
const HOUR = 60 * MIN;
const START = new Date('2026-11-23T09:00:00.000Z');

interface HookBody {
  event: string;
  idempotencyKey: string;
  grant: { id: string; startsAt: string; expiresAt: string };
}

let t: TestSystem;
afterEach(async () => {
  await t?.close();
});

const hookBodies = () => t.hooks.calls.map((c) => c.body as HookBody);
const hookEvents = () => hookBodies().map((b) => b.event);
const dmsTo = (user: { id: string }) => t.fake.messagesIn(t.fake.dmChannelFor(user.id));
const dmsContaining = (user: { id: string }, needle: string) =>
  dmsTo(user).filter((m) => collectText(m.blocks ?? []).includes(needle) || m.text.includes(needle));
/** A card as Slack shows it now (with every edit applied). */
const current = (user: { id: string }, message: FakeMessage) =>
  t.fake.message(t.fake.dmChannelFor(user.id), message.ts);

async function activeGrantOf(requestId: string) {
  return eventually(async () => {
    const g = await t.store.repos.grants.findByRequestId(requestId);
    expect(g?.status).toBe('active');
    return g!;
  });
}

/**
 * `requester` sends a request for acme-prod (or `opts.resource`); resolves once every card and the
 * requester's status message went out and were remembered, so later edits can find them.
 */
async function ask(requester: typeof carol, opts: Parameters<typeof requestAccess>[2] = {}) {
  const before = new Set((await t.store.repos.requests.list({})).map((r) => r.id));
  await requestAccess(t, requester, opts);
  return eventually(async () => {
    const request = (await t.store.repos.requests.list({})).find((r) => !before.has(r.id));
    expect(request).toBeDefined();
    const cards = await t.store.repos.messages.find({ subjectId: request!.id, purpose: 'approval-card' });
    expect(cards).toHaveLength(request!.approvers.length);
    expect(
      await t.store.repos.messages.find({ subjectId: request!.id, purpose: 'requester-status' }),
    ).toHaveLength(1);
    return request!;
  });
}

/** `requester` asks for acme-prod; Alice approves at once; returns the active grant. */
async function approvedGrant(requester: typeof carol, duration = '4 hours') {
  const request = await ask(requester, { approvers: [alice.email], duration });
  const card = await eventually(() => {
    const found = dmsTo(alice).find(
      (m) =>
        hasButton(m, 'jit.request.approve') && m.blocks?.some((b) => JSON.stringify(b).includes(request.id)),
    );
    expect(found).toBeDefined();
    return found!;
  });
  await click(t, alice, card, 'jit.request.approve');
  return activeGrantOf(request.id);
}

function element(view: FakeView, actionId: string): JsonObject {
  const found = findElement(view.blocks, actionId);
  if (!found) throw new Error(`no ${actionId} in the view`);
  return found.element;
}

describe('the approval window', () => {
  beforeEach(async () => {
    t = await startTestSystem({ start: START });
  });

  it('expires an undecided request: every approver card says so without buttons, and the requester is offered "Request again"', async () => {
    await ask(carol, {
      approvers: [alice.email, dave.email],
      justification: 'Deploy Changes: release 7.2',
      ticket: 'CHG-7',
    });
    const aliceCard = await waitForDm(t, alice, 'Approve');
    const daveCard = await waitForDm(t, dave, 'Approve');
    const deadline = new Date(START.getTime() + HOUR);
    expect((await onlyRequest(t)).decideBy).toEqual(deadline);

    await t.runner.advance(HOUR - 1);
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(dmContaining(t, carol, 'Request again')).toBeUndefined();

    await t.runner.advance(1);
    expect(await onlyRequest(t)).toMatchObject({
      status: 'expired',
      decidedAt: deadline,
      decidedBy: 'system',
    });

    // Every card is edited in place: the outcome in the approver's own zone, no buttons.
    for (const [user, card] of [
      [alice, aliceCard],
      [dave, daveCard],
    ] as const) {
      const now = current(user, card);
      const text = collectText(now?.blocks);
      expect(text).toContain(`Expired at ${formatTime(deadline, user.tz)}: nobody decided in time.`);
      expect(text).toContain('Deploy Changes: release 7.2');
      expect(text).not.toContain('Request expires');
      expect(hasButton(now, 'jit.request.approve')).toBe(false);
      expect(hasButton(now, 'jit.request.deny')).toBe(false);
    }

    // The requester is told in a new message, which offers "Request again"; the old status loses Cancel.
    const notice = await waitForDm(t, carol, 'nobody decided in time');
    expect(collectText(notice.blocks)).toContain(`Expired at ${formatTime(deadline, carol.tz)}`);
    expect(hasButton(notice, 'jit.request.again')).toBe(true);
    const status = dmsTo(carol).find((m) => m.text.startsWith('Your request for'))!;
    expect(hasButton(status, 'jit.request.cancel')).toBe(false);

    // Nothing was granted, and the approvers got no further message.
    expect(t.hooks.calls).toHaveLength(0);
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(dmsTo(alice)).toHaveLength(1);
    expect(dmsTo(dave)).toHaveLength(1);
  });

  it('"Request again" opens the form prefilled with the expired request, ready to send', async () => {
    await ask(carol, {
      approvers: [alice.email, dave.email],
      duration: '8 hours',
      justification: 'Deploy Changes: release 7.2',
      ticket: 'CHG-7',
    });
    await t.runner.advance(HOUR);
    const notice = await waitForDm(t, carol, 'nobody decided in time');

    const mark = t.fake.checkpoint();
    await click(t, carol, notice, 'jit.request.again');
    const opened = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
    expect(opened.response.ok, JSON.stringify(opened.response)).toBe(true);
    const view = t.fake.view((opened.response.view as { id: string }).id)!;

    expect(element(view, 'jit.form.resource').initial_option).toMatchObject({ value: 'acme-prod' });
    const approvers = element(view, 'jit.form.approvers').initial_options as Array<{ value: string }>;
    expect(approvers.map((o) => o.value)).toEqual([alice.email, dave.email]);
    const durations = view.blocks.find((b) => b.block_id === 'durations')?.elements as JsonObject[];
    const highlighted = durations.filter((b) => b.style === 'primary');
    expect(highlighted.map((b) => (b.text as { text: string }).text)).toEqual(['8 hours']);
    expect(element(view, 'jit.form.justification').initial_value).toBe('Deploy Changes: release 7.2');
    expect(element(view, 'jit.form.ticket').initial_value).toBe('CHG-7');
    expect(collectText(view.blocks)).toContain('approvers: Alice Approver, Dave Reviewer');

    // Sent unchanged, it is a new request with the same content.
    const res = await submitForm(t, carol, view, {});
    expect(res.body, JSON.stringify(res.body)).toBe('');
    const again = await eventually(async () => {
      const pending = await t.store.repos.requests.list({ status: 'pending' });
      expect(pending).toHaveLength(1);
      return pending[0]!;
    });
    expect(again).toMatchObject({
      resourceId: 'acme-prod',
      approvers: [alice.email, dave.email],
      duration: 'PT8H',
      justification: 'Deploy Changes: release 7.2',
      ticket: 'CHG-7',
    });
    await eventually(() => {
      expect(dmsTo(alice)).toHaveLength(2);
      expect(dmsTo(alice).filter((m) => hasButton(m, 'jit.request.approve'))).toHaveLength(1);
    });
  });

  it('tells an approver who clicks Approve or Deny after expiry that the request expired, and grants nothing', async () => {
    await ask(carol, { approvers: [alice.email, dave.email] });
    const aliceCard = await waitForDm(t, alice, 'Approve');
    const daveCard = await waitForDm(t, dave, 'Approve');
    await t.runner.advance(HOUR);
    expect((await onlyRequest(t)).status).toBe('expired');

    // Slack may still show the old card (e.g. a client that missed the edit): its buttons are refused.
    const mark = t.fake.checkpoint();
    await click(t, alice, aliceCard, 'jit.request.approve');
    await click(t, dave, daveCard, 'jit.request.deny');
    for (const user of [alice, dave]) {
      await eventually(() =>
        expect(t.fake.ephemeralsTo(user.id).map((e) => e.text)).toContain(
          'This request expired before anyone decided.',
        ),
      );
    }
    expect(t.fake.callsTo('views.open').filter((c) => c.seq >= mark)).toHaveLength(0);
    expect((await onlyRequest(t)).status).toBe('expired');
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
    const refusals = (await t.store.repos.audit.list({ requestId: (await onlyRequest(t)).id })).filter(
      (e) => e.type === 'action.refused',
    );
    expect(refusals.map((e) => [e.actor, e.details?.code])).toEqual(
      expect.arrayContaining([
        [alice.email, 'REQUEST_EXPIRED'],
        [dave.email, 'REQUEST_EXPIRED'],
      ]),
    );
  });

  it('still accepts an approval a millisecond before the deadline, and the expiry job then changes nothing', async () => {
    await ask(carol, { approvers: [alice.email, dave.email] });
    const aliceCard = await waitForDm(t, alice, 'Approve');
    await t.runner.advance(HOUR - 1);
    await click(t, alice, aliceCard, 'jit.request.approve');
    const request = await eventually(async () => {
      const r = await onlyRequest(t);
      expect(r.status).toBe('approved');
      return r;
    });
    expect(request.decidedAt).toEqual(new Date(START.getTime() + HOUR - 1));
    const grant = await activeGrantOf(request.id);
    expect(grant.startsAt).toEqual(new Date(START.getTime() + HOUR - 1));
    await waitForDm(t, carol, 'is active until');

    await t.runner.advance(1);
    expect((await onlyRequest(t)).status).toBe('approved');
    expect(collectText(current(alice, aliceCard)?.blocks)).toContain('Approved by Alice Approver');
    expect(dmContaining(t, carol, 'nobody decided in time')).toBeUndefined();
  });

  it('counts a click at the deadline itself as too late and expires the request then, even before its job has run', async () => {
    await ask(carol, { approvers: [alice.email] });
    const aliceCard = await waitForDm(t, alice, 'Approve');
    const deadline = new Date(START.getTime() + HOUR);
    t.clock.set(deadline); // the clock moves; no job runs
    await click(t, alice, aliceCard, 'jit.request.approve');
    await eventually(() =>
      expect(t.fake.ephemeralsTo(alice.id).map((e) => e.text)).toContain(
        'This request expired before anyone decided.',
      ),
    );
    expect(await onlyRequest(t)).toMatchObject({ status: 'expired', decidedAt: deadline });
    await eventually(() => {
      expect(collectText(current(alice, aliceCard)?.blocks)).toContain('nobody decided in time');
      expect(hasButton(current(alice, aliceCard), 'jit.request.approve')).toBe(false);
    });
    const notice = await waitForDm(t, carol, 'nobody decided in time');
    expect(hasButton(notice, 'jit.request.again')).toBe(true);

    // The job, when it runs, finds nothing left to do.
    await t.delivered();
    const mark = t.fake.checkpoint();
    await t.runner.runDue();
    expect(t.fake.callsTo('chat.postMessage').filter((c) => c.seq >= mark)).toHaveLength(0);
    expect(t.fake.callsTo('chat.update').filter((c) => c.seq >= mark)).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
  });
});

describe('auto-approval', () => {
  beforeEach(async () => {
    t = await startTestSystem({ start: START });
  });

  it('grants staging-db on submit without an approval card, still requires a justification, and informs its approvers', async () => {
    let view = await openForm(t, erin, 'staging-db');
    expect(collectText(view.blocks)).toContain('Approved automatically');
    expect(findElement(view.blocks, 'jit.form.approvers')).toBeUndefined();
    view = await formAction(t, erin, view, quickDurationAction(view, '1 hour'));

    // No justification: an inline error, and nothing happens.
    const refused = await submitForm(t, erin, view, { 'jit.form.justification': '   ' });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({
      response_action: 'errors',
      errors: { 'justification.0': 'Say why you need access.' },
    });
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
    expect(dmsTo(alice)).toHaveLength(0);

    const sent = await submitForm(t, erin, view, { 'jit.form.justification': 'Check the nightly migration' });
    expect(sent.body, JSON.stringify(sent.body)).toBe('');
    const request = await eventually(async () => {
      const r = await onlyRequest(t);
      expect(r.status).toBe('approved');
      return r;
    });
    expect(request).toMatchObject({ approval: 'auto', decidedBy: 'system', approvers: [] });
    const grant = await activeGrantOf(request.id);
    expect(grant.startsAt).toEqual(START);
    expect(grant.expiresAt).toEqual(new Date(START.getTime() + HOUR));
    expect(t.hooks.calls).toHaveLength(1);
    expect(t.hooks.calls[0]!.signatureValid).toBe(true);
    expect(t.hooks.calls[0]!.body).toMatchObject({
      event: 'grant.activated',
      grant: { id: grant.id, resourceId: 'staging-db', user: { email: erin.email, name: 'Erin Outsider' } },
    });

    // The resource's approver is informed, and gets nothing to decide.
    const informed = await waitForDm(t, alice, 'automatically');
    const text = collectText(informed.blocks);
    expect(text).toContain('Erin Outsider was granted access to Staging database automatically');
    expect(text).toContain('Check the nightly migration');
    expect(dmsTo(alice).some((m) => hasButton(m, 'jit.request.approve'))).toBe(false);
    expect(t.fake.allMessages().some((m) => hasButton(m, 'jit.request.approve'))).toBe(false);

    // The requester sees the access as active, with its end in their own zone.
    const active = await waitForDm(t, erin, 'is active until');
    expect(collectText(active.blocks)).toContain(formatTime(grant.expiresAt!, erin.tz));
  });
});

describe('reminders', () => {
  it('go to the holder at expiresAt minus remindBefore', async () => {
    t = await startTestSystem({ start: START });
    const grant = await approvedGrant(carol, '4 hours');
    const remindAt = grant.expiresAt!.getTime() - 5 * MIN;
    expect(t.runner.pending()).toContainEqual({ name: 'grant.remind', id: grant.id, at: new Date(remindAt) });

    await t.runner.advance(remindAt - t.clock.now().getTime() - 1);
    expect(dmContaining(t, carol, 'Access ending soon')).toBeUndefined();
    await t.runner.advance(1);
    const reminder = await waitForDm(t, carol, 'Access ending soon');
    expect(collectText(reminder.blocks)).toContain(
      `Your access to Acme Corp — production tenant ends at ${formatTime(grant.expiresAt!, carol.tz)}.`,
    );
    expect(hasButton(reminder, 'jit.grant.extend')).toBe(true);
    expect(hasButton(reminder, 'jit.grant.end')).toBe(true);
  });

  it("use a duration entry's own remindBefore instead of the policy's", async () => {
    t = await startTestSystem({
      start: START,
      policy: `
defaults:
  approvalWindow: PT1H
  remindBefore: PT5M
  durations: [{ duration: PT2H, remindBefore: PT20M }, PT4H]
groups:
  support: [bob@example.com, carol@example.com]
resources:
  - id: acme-prod
    name: Acme Corp — production tenant
    approvers: [alice@example.com, dave@example.com]
    requesters: [support]
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
`,
    });
    const short = await approvedGrant(carol, '2 hours');
    const long = await approvedGrant(bob, '4 hours');
    const shortRemind = short.expiresAt!.getTime() - 20 * MIN;
    const longRemind = long.expiresAt!.getTime() - 5 * MIN;
    expect(t.runner.pending()).toEqual(
      expect.arrayContaining([
        { name: 'grant.remind', id: short.id, at: new Date(shortRemind) },
        { name: 'grant.remind', id: long.id, at: new Date(longRemind) },
      ]),
    );

    await t.runner.advance(shortRemind - t.clock.now().getTime() - 1);
    expect(dmContaining(t, carol, 'Access ending soon')).toBeUndefined();
    await t.runner.advance(1);
    const carolReminder = await waitForDm(t, carol, 'Access ending soon');
    expect(collectText(carolReminder.blocks)).toContain(formatTime(short.expiresAt!, carol.tz));

    await t.runner.advance(longRemind - t.clock.now().getTime() - 1);
    expect(dmContaining(t, bob, 'Access ending soon')).toBeUndefined();
    await t.runner.advance(1);
    await waitForDm(t, bob, 'Access ending soon');
  });

  it('offer no "Request extension" when extensions are off, and a forged extend click or extension form is refused', async () => {
    t = await startTestSystem({
      start: START,
      policy: `
defaults:
  approvalWindow: PT1H
  remindBefore: PT5M
resources:
  - id: vault
    name: Secrets vault
    approvers: [alice@example.com]
    policy: { extensions: false, durations: [PT1H] }
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
`,
    });
    await ask(carol, { resource: 'vault', duration: '1 hour', approvers: [alice.email] });
    await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
    const grant = await activeGrantOf((await onlyRequest(t)).id);

    await t.runner.advance(55 * MIN);
    const reminder = await waitForDm(t, carol, 'Access ending soon');
    expect(hasButton(reminder, 'jit.grant.extend')).toBe(false);
    expect(hasButton(reminder, 'jit.grant.end')).toBe(true);
    expect(collectText(reminder.blocks)).toContain('Extensions are turned off for this resource.');

    // A hand-made click on a button that was never shown.
    const mark = t.fake.checkpoint();
    const channel = t.fake.dmChannelFor(carol.id);
    const res = await t.slack.blockAction({
      userId: carol.id,
      actionId: 'jit.grant.extend',
      value: grant.id,
      channel: { id: channel },
      container: { type: 'message', message_ts: reminder.ts, channel_id: channel, is_ephemeral: false },
    });
    expect(res.status).toBe(200);
    await eventually(() =>
      expect(t.fake.ephemeralsTo(carol.id).map((e) => e.text)).toContainEqual(
        expect.stringMatching(/^Extensions are turned off for .+\.$/),
      ),
    );
    expect(t.fake.callsTo('views.open').filter((c) => c.seq >= mark)).toHaveLength(0);

    // A request form whose metadata was rewritten into an extension of this grant.
    const form = await openForm(t, carol, 'vault');
    const forged = {
      ...form,
      private_metadata: JSON.stringify({
        kind: 'extension',
        grantId: grant.id,
        duration: 'PT1H',
        av: 0,
        cv: 0,
        jv: 0,
      }),
    };
    const submitted = await submitForm(t, carol, forged, {
      'jit.form.approvers': [alice.email],
      'jit.form.justification': 'More time please',
    });
    expect(submitted.body).toMatchObject({
      response_action: 'errors',
      errors: { 'justification.0': 'Extensions are turned off for Secrets vault.' },
    });
    expect(await t.store.repos.requests.list({ grantId: grant.id })).toHaveLength(0);
    expect((await t.store.repos.grants.get(grant.id))?.expiresAt).toEqual(grant.expiresAt);
    expect(dmContaining(t, alice, 'Extension request')).toBeUndefined();
  });
});

describe('downtime', () => {
  beforeEach(async () => {
    t = await startTestSystem({ start: START });
  });

  it('revokes on start-up a grant whose expiry passed while the app was down', async () => {
    const grant = await approvedGrant(carol, '4 hours');
    await waitForDm(t, carol, 'is active until');
    // Down for 5 hours: neither the reminder nor the expiry job ran, and the new scheduler has neither.
    t.clock.advance(5 * HOUR);
    await t.restart();
    const restartedAt = t.clock.now();

    const ended = (await t.store.repos.grants.get(grant.id))!;
    expect(ended).toMatchObject({ status: 'expired', endReason: 'expired', endedAt: restartedAt });
    expect(hookEvents()).toEqual(['grant.activated', 'grant.revoked']);
    expect(t.hooks.calls[1]!.signatureValid).toBe(true);
    const told = await waitForDm(t, carol, 'has ended');
    expect(collectText(told.blocks)).toContain(`It expired at ${formatTime(restartedAt, carol.tz)}.`);
    // A reminder after the end would be nonsense.
    expect(dmContaining(t, carol, 'Access ending soon')).toBeUndefined();
    expect(t.runner.pending().filter((j) => j.id === grant.id)).toEqual([]);
  });

  it('expires on start-up a request whose approval window passed while the app was down', async () => {
    await ask(carol, { approvers: [alice.email, dave.email] });
    const aliceCard = await waitForDm(t, alice, 'Approve');
    t.clock.advance(2 * HOUR);
    await t.restart();

    expect(await onlyRequest(t)).toMatchObject({ status: 'expired', decidedAt: t.clock.now() });
    await eventually(() => {
      const card = current(alice, aliceCard);
      expect(collectText(card?.blocks)).toContain('nobody decided in time');
      expect(hasButton(card, 'jit.request.approve')).toBe(false);
    });
    const notice = await waitForDm(t, carol, 'nobody decided in time');
    expect(hasButton(notice, 'jit.request.again')).toBe(true);
  });

  it('still revokes a grant whose jobs were lost in a restart, by the periodic sweep soon after its expiry', async () => {
    const grant = await approvedGrant(carol, '4 hours');
    await t.restart(); // before expiry: the fresh scheduler knows nothing of this grant
    expect(t.runner.pending()).toEqual([]);

    await t.runner.advance(4 * HOUR - 1);
    expect((await t.store.repos.grants.get(grant.id))?.status).toBe('active');
    await t.runner.advance(30_000);
    const ended = (await t.store.repos.grants.get(grant.id))!;
    expect(ended.status).toBe('expired');
    expect(ended.endedAt!.getTime() - grant.expiresAt!.getTime()).toBeLessThanOrEqual(30_000);
    expect(hookEvents()).toEqual(['grant.activated', 'grant.revoked']);
    await waitForDm(t, carol, 'has ended');
  });
});

describe('repeated job runs', () => {
  beforeEach(async () => {
    t = await startTestSystem({ start: START });
  });

  it('change nothing the second time: request.expire, grant.remind and grant.expire send no second message or webhook', async () => {
    const jobs = t.system.service.jobs;

    // request.expire, early (nothing), due, then again.
    const pending = await ask(bob, { approvers: [alice.email] });
    await jobs['request.expire'](pending.id);
    expect((await t.store.repos.requests.get(pending.id))?.status).toBe('pending');
    await t.runner.advance(HOUR);
    await waitForDm(t, bob, 'nobody decided in time');
    let mark = t.fake.checkpoint();
    await jobs['request.expire'](pending.id);
    await jobs['request.expire'](pending.id);
    expect(t.fake.callsTo('chat.postMessage').filter((c) => c.seq >= mark)).toHaveLength(0);
    expect(t.fake.callsTo('chat.update').filter((c) => c.seq >= mark)).toHaveLength(0);
    expect(dmsContaining(bob, 'nobody decided in time')).toHaveLength(2); // the status, edited, and the notice

    // grant.remind and grant.expire, early (nothing), due, then again.
    const grant = await approvedGrant(carol, '4 hours');
    await jobs['grant.remind'](grant.id);
    await jobs['grant.expire'](grant.id);
    expect(dmContaining(t, carol, 'Access ending soon')).toBeUndefined();
    expect((await t.store.repos.grants.get(grant.id))?.status).toBe('active');

    await t.runner.advance(grant.expiresAt!.getTime() - 5 * MIN - t.clock.now().getTime());
    await waitForDm(t, carol, 'Access ending soon');
    mark = t.fake.checkpoint();
    await jobs['grant.remind'](grant.id);
    await jobs['grant.remind'](grant.id);
    expect(dmsContaining(carol, 'Access ending soon')).toHaveLength(1);
    expect(t.fake.callsTo('chat.postMessage').filter((c) => c.seq >= mark)).toHaveLength(0);

    await t.runner.advance(5 * MIN);
    expect((await t.store.repos.grants.get(grant.id))?.status).toBe('expired');
    await waitForDm(t, carol, 'has ended');
    const hooksBefore = t.hooks.calls.length;
    mark = t.fake.checkpoint();
    await jobs['grant.expire'](grant.id);
    await jobs['grant.expire'](grant.id);
    await jobs['grant.remind'](grant.id);
    await jobs['grant.retry'](grant.id);
    expect(t.hooks.calls).toHaveLength(hooksBefore);
    expect(hookEvents().filter((e) => e === 'grant.revoked')).toHaveLength(1);
    expect(t.fake.callsTo('chat.postMessage').filter((c) => c.seq >= mark)).toHaveLength(0);
    expect(t.fake.callsTo('chat.update').filter((c) => c.seq >= mark)).toHaveLength(0);
    // The reminder and the "Access granted" message, edited, and the notice.
    expect(dmsContaining(carol, 'has ended')).toHaveLength(3);
    const trail = (await t.store.repos.audit.list({ grantId: grant.id })).map((e) => e.type);
    expect(trail.filter((e) => e === 'grant.expired')).toHaveLength(1);
    expect(trail.filter((e) => e === 'grant.reminded')).toHaveLength(1);
  });
});

describe('ending access early', () => {
  beforeEach(async () => {
    t = await startTestSystem({ start: START });
  });

  it('lets an admin revoke anyone’s grant, and refuses a random user', async () => {
    const grant = await approvedGrant(carol, '4 hours');
    await waitForDm(t, carol, 'is active until');

    // (A resource's approvers may revoke its grants too: test/e2e/home-dashboard.test.ts.)
    await expect(
      t.system.service.endAccess(grant.id, { email: erin.email, name: erin.realName }),
    ).rejects.toMatchObject({ code: 'NOT_HOLDER' });
    expect((await t.store.repos.grants.get(grant.id))?.status).toBe('active');
    expect(hookEvents()).toEqual(['grant.activated']);
    expect(dmContaining(t, carol, 'has ended')).toBeUndefined();
    const refused = (await t.store.repos.audit.list({ grantId: grant.id })).filter(
      (e) => e.type === 'action.refused',
    );
    expect(refused.map((e) => e.actor)).toEqual([erin.email]);

    await t.runner.advance(10 * MIN);
    const revoking = await t.system.service.endAccess(grant.id, { email: admin.email, name: admin.realName });
    // The click is answered at once; the connector call runs as a job right after.
    expect(revoking).toMatchObject({ status: 'revoking', endReason: 'revoked-by-admin' });
    await t.runner.runDue();
    const ended = await t.store.repos.grants.get(grant.id);
    expect(ended).toMatchObject({
      status: 'revoked',
      endReason: 'revoked-by-admin',
      endedBy: admin.email,
      endedAt: t.clock.now(),
    });
    expect(hookBodies().at(-1)).toMatchObject({ event: 'grant.revoked', grant: { id: grant.id } });
    const told = await waitForDm(t, carol, 'has ended');
    expect(collectText(told.blocks)).toContain(
      `Ada Admin revoked it at ${formatTime(t.clock.now(), carol.tz)}.`,
    );

    // Its timers no longer do anything.
    await t.runner.advance(5 * HOUR);
    expect(hookEvents()).toEqual(['grant.activated', 'grant.revoked']);
    expect(dmContaining(t, carol, 'Access ending soon')).toBeUndefined();
  });
});
