/**
 * `/access-settings`: a resource's owners switch JIT access on or off and set its window, through
 * the real Bolt app with signed requests and the fake Slack Web API. Everyone else sees the form
 * read-only; a past date is refused inline; switching off and the window's end revoke open grants
 * through the connector; a grant approved inside the window never outlives it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsIds } from '../../src/bot/slack/ids.js';
import { collectText, type FakeView, findElement, type JsonObject } from '../support/fake-slack.js';
import {
  click,
  eventually,
  formAction,
  openForm,
  quickDurationAction,
  requestAccess,
  submitForm,
  waitForDm,
} from '../support/flows.js';
import { openSettings as openSettingsAs, saveSettings as saveSettingsAs } from '../support/settings-flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, bob, carol, dave, erin } = USERS;
const MIN = 60_000;
const START = new Date('2026-12-03T09:00:00Z');

const POLICY = `
defaults:
  approvalWindow: PT1H
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
  - id: client-tenant
    name: Client tenant
    approvers: [alice@example.com]
    owners: [erin@example.com]
    ownerControlled: true
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
`;

let t: TestSystem;

beforeEach(async () => {
  t = await startTestSystem({ policy: POLICY, start: START });
});

afterEach(async () => {
  await t.close();
});

type User = { id: string; email: string };

const openSettings = (user: User, text: string) => openSettingsAs(t, user, text);
const text = (view: FakeView) => collectText(view.blocks);
const save = (user: User, view: FakeView, values: Record<string, string>) =>
  saveSettingsAs(t, user, view, values);

/** Bob holds an active grant of acme-prod, approved by Alice. */
async function bobHoldsAcme(duration = '4 hours') {
  await requestAccess(t, bob, { duration, approvers: [alice.email] });
  const card = await waitForDm(t, alice, 'Approve');
  const cardText = collectText(card.blocks);
  await click(t, alice, card, 'jit.request.approve');
  const grant = await eventually(async () => {
    const [active] = await t.store.repos.grants.list({ resourceId: 'acme-prod', status: 'active' });
    expect(active).toBeDefined();
    return active!;
  });
  return { grant, cardText };
}

const hookEvents = () => t.hooks.calls.map((c) => (c.body as { event: string }).event);

describe('/access-settings for everyone but the owners', () => {
  it('shows the settings read-only with the owners-only sentence and no Save Changes button', async () => {
    const view = await openSettings(alice, 'acme-prod');
    expect(text(view)).toContain("Only this resource's owners can change this setting");
    expect(text(view)).toContain(
      'Just-in-time access to Acme Corp — production tenant is on, with no end date',
    );
    expect(view.submit).toBeUndefined();
    expect(findElement(view.blocks, SettingsIds.jit)).toBeUndefined();
  });

  it('refuses a save forged with an owner’s form, audits the refusal and changes nothing', async () => {
    const ownerView = await openSettings(erin, 'acme-prod');
    const answer = await save(alice, ownerView, { [SettingsIds.jit]: 'off' });
    expect(answer.response_action).toBe('update');
    expect(collectText((answer.view?.blocks ?? []) as JsonObject[])).toContain(
      "Nothing was saved. Only this resource's owners can change this setting.",
    );
    expect(await t.store.repos.settings.get('acme-prod')).toBeNull();
    const refusals = await t.store.repos.audit.list({ type: 'action.refused', actor: alice.email });
    expect(refusals.map((e) => e.details)).toEqual([{ action: 'change-settings', code: 'NOT_OWNER' }]);
  });
});

describe('a resource that its owners control (ownerControlled: true)', () => {
  it('cannot be requested until an owner switches it on; then the approvers are told and it can', async () => {
    // The requester is told why, in the form and on submit.
    let form = await openForm(t, bob, 'client-tenant');
    expect(text(form)).toContain(
      'controlled by its owners, who have not switched on just-in-time access yet',
    );
    form = await formAction(t, bob, form, quickDurationAction(form, '4 hours'));
    const refused = await submitForm(t, bob, form, {
      'jit.form.justification': 'Fix the tenant',
      'jit.form.approvers': [alice.email],
    });
    expect(JSON.stringify(refused.body)).toContain('controlled by its owners');
    expect(await t.store.repos.requests.list({})).toEqual([]);

    // The owner sees it off, with the warning, and switches it on.
    let view = await openSettings(erin, 'client-tenant');
    expect(text(view)).toContain('is switched off');
    expect(text(view)).toContain('active sessions may be interrupted');
    view = await formAction(t, erin, view, SettingsIds.jit, { values: { [SettingsIds.jit]: 'on' } });
    expect(text(view)).not.toContain('active sessions may be interrupted');
    expect(text(view)).toContain('When you save: Client tenant can be requested with no end date.');
    const answer = await save(erin, view, { [SettingsIds.jit]: 'on' });
    expect(collectText((answer.view?.blocks ?? []) as JsonObject[])).toContain(
      'Saved. Just-in-time access to Client tenant is on, with no end date',
    );

    // Stored, audited with who and when, and the approvers are told.
    expect(await t.store.repos.settings.get('client-tenant')).toMatchObject({
      jitEnabled: true,
      updatedBy: erin.email,
      updatedAt: START,
      version: 1,
    });
    const audited = await t.store.repos.audit.list({ type: 'resource.settings_changed' });
    expect(audited.map((e) => [e.actor, e.resourceId, e.at])).toEqual([[erin.email, 'client-tenant', START]]);
    const told = await waitForDm(t, alice, 'Access settings changed');
    expect(collectText(told.blocks)).toContain('Erin Outsider');

    await requestAccess(t, bob, { resource: 'client-tenant', approvers: [alice.email] });
    expect((await t.store.repos.requests.list({})).map((r) => r.resourceId)).toEqual(['client-tenant']);
  });
});

describe('the window', () => {
  it('refuses a date and time in the past inline, previews the end exactly, and clamps grants to it', async () => {
    let view = await openSettings(erin, 'acme-prod');
    view = await formAction(t, erin, view, SettingsIds.window, { values: { [SettingsIds.window]: 'until' } });
    expect(text(view)).toContain('Choose an expiration date and time');
    const past = {
      [SettingsIds.window]: 'until',
      [SettingsIds.date]: '2026-12-03',
      [SettingsIds.time]: '08:00',
    };
    view = await formAction(t, erin, view, SettingsIds.time, { values: past });
    expect(text(view)).toContain('Choose a date and time in the future.');
    const refused = await save(erin, view, past);
    expect(refused.response_action).toBe('errors');
    expect(Object.values(refused.errors ?? {})).toEqual(['Choose a date and time in the future.']);
    expect(await t.store.repos.settings.get('acme-prod')).toBeNull();

    const future = { ...past, [SettingsIds.time]: '11:00' };
    view = await formAction(t, erin, view, SettingsIds.time, { values: future });
    expect(text(view)).toContain(
      'When you save: access to Acme Corp — production tenant will end at Thu 3 Dec 11:00 UTC (2026-12-03T11:00:00Z).',
    );
    await save(erin, view, future);
    expect((await t.store.repos.settings.get('acme-prod'))?.windowEndsAt).toEqual(
      new Date('2026-12-03T11:00:00Z'),
    );

    // Bob asks for 4 hours: the approval card says access ends with the window; so does the grant.
    const { grant, cardText } = await bobHoldsAcme('4 hours');
    expect(cardText).toContain("Thu 3 Dec 11:00 GMT if approved now (the end of the owners' access window)");
    expect(grant.expiresAt).toEqual(new Date('2026-12-03T11:00:00Z'));
    // The holder is told the end, in their own zone (Asia/Tokyo), and why it comes then.
    const active = await waitForDm(t, bob, "the end of its owners' access window");
    expect(collectText(active.blocks)).toMatch(
      /active until Thu 3 Dec 20:00 (JST|GMT\+9), the end of its owners/,
    );

    // At the window's end the grant is revoked, and a new request is refused with the reason.
    await t.runner.advance(2 * 60 * MIN);
    await eventually(async () => expect(hookEvents()).toEqual(['grant.activated', 'grant.revoked']));
    let form = await openForm(t, carol, 'acme-prod');
    // In Carol's own zone (Europe/Berlin).
    expect(text(form)).toMatch(
      /allowed access only until Thu 3 Dec 12:00 (CET|GMT\+1), and that window has ended/,
    );
    form = await formAction(t, carol, form, quickDurationAction(form, '4 hours'));
    const late = await submitForm(t, carol, form, {
      'jit.form.justification': 'Too late',
      'jit.form.approvers': [alice.email],
    });
    expect(JSON.stringify(late.body)).toContain('that window has ended');
  });

  it.each([
    ['its job', false],
    ['the sweep, when the job was lost', true],
  ])('revokes a grant made before the window was set when the window ends (%s)', async (_how, lost) => {
    const { grant } = await bobHoldsAcme('4 hours');
    let view = await openSettings(erin, 'acme-prod');
    view = await formAction(t, erin, view, SettingsIds.window, { values: { [SettingsIds.window]: 'until' } });
    await save(erin, view, {
      [SettingsIds.window]: 'until',
      [SettingsIds.date]: '2026-12-03',
      [SettingsIds.time]: '10:00',
    });
    expect((await t.store.repos.grants.get(grant.id))?.status).toBe('active');
    if (lost) await t.runner.cancel('resource.window_end', 'acme-prod');
    await t.runner.advance(60 * MIN);
    const ended = await eventually(async () => {
      const g = await t.store.repos.grants.get(grant.id);
      expect(g?.status).toBe('revoked');
      return g!;
    });
    expect(ended).toMatchObject({ endReason: 'closed-by-owner', endedBy: 'system' });
    expect(hookEvents()).toEqual(['grant.activated', 'grant.revoked']);
    await waitForDm(t, bob, 'The access window its owners set has ended');
  });
});

describe('switching JIT access off', () => {
  it('warns before saving, then revokes every active grant at once and tells the holders and approvers', async () => {
    const { grant } = await bobHoldsAcme('4 hours');
    let view = await openSettings(erin, 'acme-prod');
    expect(text(view)).not.toContain('active sessions may be interrupted');
    view = await formAction(t, erin, view, SettingsIds.jit, { values: { [SettingsIds.jit]: 'off' } });
    expect(text(view)).toContain(
      'Switching JIT access off revokes every active grant on this resource as soon as you save: active sessions may be interrupted. 1 grant is active now.',
    );
    await save(erin, view, { [SettingsIds.jit]: 'off' });

    await eventually(async () => expect(hookEvents()).toEqual(['grant.activated', 'grant.revoked']));
    expect(await t.store.repos.grants.get(grant.id)).toMatchObject({
      status: 'revoked',
      endReason: 'closed-by-owner',
      endedBy: erin.email,
    });
    await waitForDm(t, bob, 'an owner of the resource, switched off access to it');
    for (const approver of [alice, dave]) {
      const told = await waitForDm(t, approver, 'Access settings changed');
      expect(collectText(told.blocks)).toContain('1 active grant is being revoked now');
    }
    const form = await openForm(t, carol, 'acme-prod');
    expect(text(form)).toContain('have switched off just-in-time access');
  });

  it('is finished by the sweep when the process stopped between the save and the revocations', async () => {
    const { grant } = await bobHoldsAcme('4 hours');
    // As if the save was stored and the process died before revoking anything.
    await t.store.repos.settings.save(
      {
        resourceId: 'acme-prod',
        jitEnabled: false,
        updatedBy: erin.email,
        updatedByName: erin.realName,
        updatedAt: t.clock.now(),
        version: 1,
      },
      0,
    );
    await t.runner.advance(MIN);
    await eventually(async () =>
      expect(await t.store.repos.grants.get(grant.id)).toMatchObject({
        status: 'revoked',
        endReason: 'closed-by-owner',
        endedBy: erin.email,
      }),
    );
  });
});
