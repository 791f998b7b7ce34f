/**
 * Closing a resource closes everything on it: when its owners switch JIT access off, or their window
 * ends, every request still waiting for a decision on it (access or extension) is closed at once —
 * the approvers' cards are edited in place to say the owners closed access (no buttons left), the
 * requester is told why, it is audited once — and every open grant is revoked. Through the real
 * Bolt app with signed requests and the fake Slack Web API.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsIds } from '../../src/bot/slack/ids.js';
import type { AccessRequest } from '../../src/domain/model.js';
import { collectText, type FakeMessage } from '../support/fake-slack.js';
import { click, eventually, formAction, hasButton, requestAccess, waitForDm } from '../support/flows.js';
import { openSettings, saveSettings } from '../support/settings-flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, bob, carol, dave, erin } = USERS;
const MIN = 60_000;
const START = new Date('2026-12-03T09:00:00Z');

const POLICY = `
defaults:
  approvalWindow: PT2H
  remindBefore: PT5M
groups:
  support: [bob@example.com, carol@example.com]
resources:
  - id: acme-prod
    name: Acme Corp — production tenant
    approvers: [alice@example.com, dave@example.com]
    owners: [erin@example.com]
    requesters: [support]
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
`;

let t: TestSystem;

beforeEach(async () => {
  t = await startTestSystem({ policy: POLICY, start: START });
});

afterEach(async () => {
  await t.close();
});

const APPROVE = 'jit.request.approve';
const CLOSED_LINE = "the resource's owners closed access to it";
const person = (u: typeof bob) => ({ email: u.email, name: u.realName, tz: u.tz });

/** Carol holds an active grant of acme-prod and has asked for an extension; Bob waits for a decision. */
async function waitingRequests() {
  await requestAccess(t, carol, { approvers: [alice.email] });
  await click(t, alice, await waitForDm(t, alice, `${carol.realName} requests access`), APPROVE);
  const grant = await eventually(async () => {
    const [active] = await t.store.repos.grants.list({ status: 'active' });
    expect(active).toBeDefined();
    return active!;
  });
  await t.system.service.submit({
    requester: person(carol),
    resourceId: 'acme-prod',
    approvers: [dave.email],
    duration: 'PT1H',
    justification: 'A little longer',
    submissionKey: 'extension-view',
    grantId: grant.id,
  });
  await requestAccess(t, bob, { approvers: [alice.email, dave.email] });
  const cards = {
    bobToAlice: await waitForDm(t, alice, `${bob.realName} requests access`),
    bobToDave: await waitForDm(t, dave, `${bob.realName} requests access`),
    extensionToDave: await waitForDm(t, dave, `${carol.realName} requests an extension`),
  };
  for (const card of Object.values(cards)) expect(hasButton(card, APPROVE)).toBe(true);
  await t.delivered();
  return { grant, cards };
}

/** The message as Slack shows it now (edited in place, same ts). */
function now(user: { id: string }, card: FakeMessage): FakeMessage {
  const shown = t.fake.message(t.fake.dmChannelFor(user.id), card.ts as string);
  if (!shown) throw new Error(`message ${String(card.ts)} is gone`);
  return shown;
}

async function closedRequests(): Promise<AccessRequest[]> {
  return eventually(async () => {
    const requests = await t.store.repos.requests.list({ status: 'cancelled' });
    expect(requests).toHaveLength(2);
    return requests;
  });
}

/** Every card about the waiting requests says the owners closed access, with no buttons left. */
async function expectCardsClosed(cards: Record<string, FakeMessage>) {
  await t.delivered();
  const owners = { bobToAlice: alice, bobToDave: dave, extensionToDave: dave };
  for (const [name, card] of Object.entries(cards)) {
    const shown = now(owners[name as keyof typeof owners], card);
    expect(collectText(shown.blocks), name).toContain(CLOSED_LINE);
    expect(hasButton(shown, APPROVE), name).toBe(false);
    expect(hasButton(shown, 'jit.request.deny'), name).toBe(false);
  }
}

describe('switching JIT access off', () => {
  it('closes every waiting request at once: cards edited, requesters told why, audited once, never twice', async () => {
    const { grant, cards } = await waitingRequests();
    let view = await openSettings(t, erin, 'acme-prod');
    view = await formAction(t, erin, view, SettingsIds.jit, { values: { [SettingsIds.jit]: 'off' } });
    await saveSettings(t, erin, view, { [SettingsIds.jit]: 'off' });

    const closed = await closedRequests();
    for (const r of closed) {
      expect(r).toMatchObject({ closedReason: 'closed-by-owner', decidedBy: erin.email });
      expect(r.reason).toContain('The owners of Acme Corp — production tenant have switched off');
    }
    await expectCardsClosed(cards);
    // The requesters are told why, in the words the request form uses.
    const why = 'have switched off just-in-time access, so it cannot be requested now';
    expect(collectText((await waitForDm(t, bob, why)).blocks)).toContain('Closed at');
    await waitForDm(t, carol, why);
    // The grant is revoked too.
    await eventually(async () =>
      expect(await t.store.repos.grants.get(grant.id)).toMatchObject({
        status: 'revoked',
        endReason: 'closed-by-owner',
      }),
    );
    const audited = await t.store.repos.audit.list({ type: 'request.cancelled' });
    expect(audited.map((e) => [e.requestId, e.actor, e.details]).sort()).toEqual(
      closed.map((r) => [r.id, erin.email, { reason: 'closed-by-owner' }]).sort(),
    );

    // A stale Approve click is refused; the sweep, run again and again, adds nothing.
    const outbox = (await t.store.repos.outbox.list({ limit: 1000 })).length;
    const posts = t.fake.callsTo('chat.postMessage').length;
    await click(t, alice, cards.bobToAlice, APPROVE);
    await eventually(() =>
      expect(
        t.fake
          .ephemeralsTo(alice.id)
          .map((e) => e.text)
          .join('\n'),
      ).toContain(
        "The resource's owners closed access to it (Thu 3 Dec 09:00 GMT), so this request can no longer be decided.",
      ),
    );
    await t.runner.advance(5 * MIN);
    await t.delivered();
    expect((await t.store.repos.requests.list({ status: 'cancelled' })).length).toBe(2);
    expect(await t.store.repos.grants.list({ resourceId: 'acme-prod' })).toHaveLength(1);
    expect((await t.store.repos.audit.list({ type: 'request.cancelled' })).length).toBe(2);
    expect((await t.store.repos.outbox.list({ limit: 1000 })).length).toBe(outbox);
    expect(t.fake.callsTo('chat.postMessage').length).toBe(posts);
  });
});

describe("the owners' window", () => {
  it.each([
    ['its job', false],
    ['the sweep, when the job was lost', true],
  ])('closes the waiting requests when it ends (%s)', async (_how, lost) => {
    let view = await openSettings(t, erin, 'acme-prod');
    view = await formAction(t, erin, view, SettingsIds.window, { values: { [SettingsIds.window]: 'until' } });
    await saveSettings(t, erin, view, {
      [SettingsIds.window]: 'until',
      [SettingsIds.date]: '2026-12-03',
      [SettingsIds.time]: '10:00',
    });
    const { cards } = await waitingRequests();
    if (lost) await t.runner.cancel('resource.window_end', 'acme-prod');
    await t.runner.advance(60 * MIN);

    const closed = await closedRequests();
    for (const r of closed) expect(r).toMatchObject({ closedReason: 'closed-by-owner', decidedBy: 'system' });
    await expectCardsClosed(cards);
    // In Bob's own zone (Asia/Tokyo).
    const told = await waitForDm(t, bob, 'and that window has ended');
    expect(collectText(told.blocks)).toMatch(/allowed access only until Thu 3 Dec 19:00 (JST|GMT\+9)/);
  });
});

describe('a resource the policy file makes owner-controlled', () => {
  it('is closed by the sweep when the process died right after the reload that made it so', async () => {
    // The new file is in force (ownerControlled, no owner setting stored); what the old file allowed
    // is still open, as when the process died before the reload's own closing ran.
    await t.close();
    t = await startTestSystem({
      policy: POLICY.replace(
        'owners: [erin@example.com]',
        'owners: [erin@example.com]\n    ownerControlled: true',
      ),
      start: START,
    });
    const at = t.clock.now();
    const grant = await t.store.repos.grants.insert({
      id: 'g-old',
      requestId: 'r-old',
      resourceId: 'acme-prod',
      holder: person(carol),
      duration: 'PT4H',
      justification: 'Before the reload',
      status: 'active',
      createdAt: at,
      startsAt: at,
      expiresAt: new Date(at.getTime() + 240 * MIN),
      attempts: 0,
    });
    const waiting = await t.store.repos.requests.insert({
      id: 'r-waiting',
      kind: 'access',
      resourceId: 'acme-prod',
      requester: person(bob),
      approvers: [alice.email],
      duration: 'PT4H',
      justification: 'Before the reload',
      approval: 'manual',
      status: 'pending',
      createdAt: at,
      decideBy: new Date(at.getTime() + 120 * MIN),
      submissionKey: 'before-reload',
    });
    await t.runner.advance(MIN);
    await eventually(async () =>
      expect(await t.store.repos.grants.get(grant.id)).toMatchObject({
        status: 'revoked',
        endReason: 'closed-by-owner',
        endedBy: 'system',
      }),
    );
    expect(await t.store.repos.requests.get(waiting.id)).toMatchObject({
      status: 'cancelled',
      closedReason: 'closed-by-owner',
      decidedBy: 'system',
    });
    await waitForDm(t, bob, 'controlled by its owners, who have not switched on just-in-time access yet');
    expect(t.hooks.calls.map((c) => (c.body as { event: string }).event)).toEqual(['grant.revoked']);
  });
});
