/**
 * The admin and owner surfaces in Teams, end to end: the real process (CloudAdapter on
 * `POST /api/messages`, tokens checked both ways) and the fake Bot Connector. "my access" and
 * "dashboard" answer with the neutral home as Adaptive Cards whose buttons re-render them in place;
 * "access settings" is the owners' form as a card; "access report" hands out a signed link that
 * downloads the CSV from the bot's own server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FilterInput } from '../../src/bot/teams/home-card.js';
import { SettingsInput } from '../../src/bot/teams/settings-card.js';
import { ONLY_OWNERS } from '../../src/domain/owner-settings.js';
import { DENY_REASON_INPUT, REVOKE_REASON_INPUT } from '../../src/domain/views/forms.js';
import { adaptiveCardProblems } from '../support/adaptive-cards.js';
import { eventually } from '../support/flows.js';
import { buttonsOf, type Card, elementsOf, input, TeamsChat, textsOf } from '../support/teams-client.js';
import { startTeamsSystem, type TeamsTestSystem, teamsUser } from '../support/teams-system.js';

const ADA = teamsUser('ada', 'Ada Admin', 'Europe/Oslo');
const HAL = teamsUser('hal', 'Hal Holder', 'America/Chicago');
const AMY = teamsUser('amy', 'Amy Approver', 'Europe/Paris');
const OWEN = teamsUser('owen', 'Owen Owner', 'Asia/Tokyo');
const NILS = teamsUser('nils', 'Nils Nobody', 'UTC');
const START = new Date('2026-12-03T09:00:00Z');

const hook = 'connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }';
const boxes = Array.from(
  { length: 11 },
  (_, i) => `
  - id: box-${i + 1}
    name: Box ${i + 1}
    group: Lab
    approvers: [amy@example.com]
    policy: { approval: auto }
    ${hook}`,
).join('');
const POLICY = `
defaults:
  approvalWindow: PT1H
  durations: [PT4H, P1D]
admins: [ada@example.com]
resources:
  - id: tenant-prod
    name: Tenant production
    group: Acme
    approvers: [amy@example.com]
    owners: [owen@example.com]
    ${hook}
  - id: sandbox
    name: Sandbox
    approvers: [amy@example.com]
    policy: { approval: auto }
    ${hook}${boxes}
`;

let s: TeamsTestSystem | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** A chat whose commands are typed once the outbox has sent what it had (its cards come first). */
class Chat extends TeamsChat {
  override async open(text: string) {
    await s?.t.delivered();
    const opened = await super.open(text);
    expect(adaptiveCardProblems(opened.card)).toEqual([]);
    return opened;
  }

  /** Every card a press answers with passes the adaptivecards library's strict check too. */
  override async execute(messageId: string, verb: string, data: unknown) {
    const pressed = await super.execute(messageId, verb, data);
    if (pressed.card) expect(adaptiveCardProblems(pressed.card)).toEqual([]);
    return pressed;
  }
}

async function start() {
  s = await startTeamsSystem({ users: [ADA, HAL, AMY, OWEN, NILS], policy: POLICY, start: START });
  const chat = (u: typeof ADA) => new Chat(s!.connector, s!.botUrl, u);
  return { s, ada: chat(ADA), hal: chat(HAL), amy: chat(AMY), owen: chat(OWEN), nils: chat(NILS) };
}

async function activeGrant(sys: TeamsTestSystem, resourceId: string) {
  return eventually(async () => {
    const [grant] = await sys.t.store.repos.grants.list({ status: 'active', resourceId });
    if (!grant) throw new Error(`no active grant of ${resourceId}`);
    return grant;
  });
}

/** Every element, the buttons inside a confirmation (`Action.ShowCard`) included. */
function everything(card: Card): Array<Record<string, unknown>> {
  return elementsOf(card).flatMap((e) =>
    e.type === 'Action.ShowCard' ? [e, ...everything(e.card as Card)] : [e],
  );
}

/** The titles of the buttons a person sees (a confirmed action shows its `Action.ShowCard`). */
const visibleButtons = (card: Card) =>
  elementsOf(card)
    .filter((e) => e.type === 'Action.Execute' || e.type === 'Action.ShowCard')
    .map((e) => String(e.title));

/** The Action.Execute whose data acts on `value` with the neutral action `act`. */
function buttonFor(card: Card, act: string, value: string) {
  const found = everything(card).find(
    (e) =>
      e.type === 'Action.Execute' &&
      (e.data as { act?: string; value?: string } | undefined)?.act === act &&
      (e.data as { value?: string }).value === value,
  );
  if (!found) throw new Error(`no ${act} button for ${value}`);
  return found as { verb: string; data: Record<string, unknown> };
}

/** The Adaptive Card an activity holds. */
const cardIn = (activity: Record<string, unknown>) =>
  ((activity.attachments as Array<{ content: Card }> | undefined)?.[0]?.content ?? {}) as Card;

const sandboxFor = (sys: TeamsTestSystem, email: string, resourceId = 'sandbox') =>
  sys.submit({
    requester: email,
    resourceId,
    approvers: ['amy@example.com'],
    duration: 'PT4H',
    justification: 'Investigate the incident',
  });

describe('"my access" in the personal chat', () => {
  it('shows a holder their grant with time left, their pending request, and re-renders on Cancel', async () => {
    const { s, hal } = await start();
    await sandboxFor(s, HAL.email!);
    await activeGrant(s, 'sandbox');
    const pendingId = await sandboxFor(s, HAL.email!, 'tenant-prod');

    const { id, card } = await hal.open('my access');
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    const texts = textsOf(card);
    expect(texts).toContain('My access');
    expect(texts).toContain('Sandbox');
    expect(texts.join('\n')).toMatch(/4 h 00 min left|3 h 59 min left/);
    expect(texts).toContain('My pending requests');
    expect(visibleButtons(card)).toEqual(
      expect.arrayContaining(['Request access', 'Request extension', 'End access now', 'Cancel request']),
    );
    // No dashboard on "my access".
    expect(texts).not.toContain('Grants dashboard');

    const cancel = buttonFor(card, 'jit.request.cancel', pendingId);
    const res = await hal.execute(id, cancel.verb, cancel.data);
    expect(textsOf(res.card as Card)).toContain('Request cancelled.');
    expect(hal.cardOf(id)).toEqual(res.card);
    expect((await s.t.store.repos.requests.get(pendingId))?.status).toBe('cancelled');
  });

  it('shows an approver the requests waiting for them, with Approve right there', async () => {
    const { s, amy } = await start();
    const requestId = await sandboxFor(s, HAL.email!, 'tenant-prod');
    const { id, card } = await amy.open('my access');
    expect(textsOf(card).join('\n')).toContain('Hal Holder');
    const approve = buttonFor(card, 'jit.request.approve', requestId);
    expect(buttonFor(card, 'jit.request.deny', requestId)).toBeTruthy();
    const res = await amy.execute(id, approve.verb, approve.data);
    expect(textsOf(res.card as Card)).toContain('Approved.');
    expect((await s.t.store.repos.requests.get(requestId))?.status).toBe('approved');

    // Deny asks for an optional reason first, on the card itself.
    const second = await sandboxFor(s, NILS.email!, 'tenant-prod');
    const { id: homeId, card: again } = await amy.open('my access');
    const deny = buttonFor(again, 'jit.request.deny', second);
    const form = (await amy.execute(homeId, deny.verb, deny.data)).card as Card;
    expect(input(form, DENY_REASON_INPUT)).toMatchObject({ type: 'Input.Text' });
    const denied = await amy.press(homeId, /Deny/, { [DENY_REASON_INPUT]: 'Use staging' }, form);
    expect(textsOf(denied.card as Card)).toContain('Denied.');
    const request = await s.t.store.repos.requests.get(second);
    expect(request?.status).toBe('denied');
    expect(request?.reason).toBe('Use staging');
  });
});

describe('"dashboard" in the personal chat', () => {
  it('shows an admin every grant, says what page it is on, turns pages and filters in place', async () => {
    const { s, ada } = await start();
    await sandboxFor(s, HAL.email!);
    for (let i = 1; i <= 11; i++) await sandboxFor(s, HAL.email!, `box-${i}`);
    await eventually(async () =>
      expect(await s.t.store.repos.grants.list({ status: 'active' })).toHaveLength(12),
    );

    const { id, card } = await ada.open('dashboard');
    expect(textsOf(card)[0]).toBe('Grants dashboard');
    expect(textsOf(card).join('\n')).toContain('Showing 1–10 of 12.');
    expect(buttonsOf(card).filter((b) => b === 'Details')).toHaveLength(10);
    expect(input(card, FilterInput.resource)).toMatchObject({ type: 'Input.ChoiceSet' });
    expect(input(card, FilterInput.expiresBy)).toMatchObject({ type: 'Input.Date' });

    let res = await ada.press(id, 'Next');
    expect(textsOf(res.card as Card).join('\n')).toContain('Showing 11–12 of 12.');
    expect(buttonsOf(res.card as Card).filter((b) => b === 'Details')).toHaveLength(2);
    res = await ada.press(id, 'Previous', {}, res.card as Card);
    expect(textsOf(res.card as Card).join('\n')).toContain('Showing 1–10 of 12.');

    res = await ada.press(
      id,
      'Apply filters',
      { [FilterInput.resource]: 'resource:sandbox' },
      res.card as Card,
    );
    const filtered = res.card as Card;
    expect(textsOf(filtered).join('\n')).toContain('Hal Holder (hal@example.com) · Sandbox');
    expect(buttonsOf(filtered).filter((b) => b === 'Details')).toHaveLength(1);
    expect(input(filtered, FilterInput.resource)?.value).toBe('resource:sandbox');
    expect(ada.cardOf(id)).toEqual(filtered);
  });

  it('tells someone with no role that the dashboard is not for them', async () => {
    const { nils } = await start();
    await nils.say('dashboard');
    expect(String(nils.messages().at(-1)?.text)).toContain('The grants dashboard is for admins');
  });

  it('revokes from the dashboard with a reason: the connector is called and the holder told', async () => {
    const { s, ada } = await start();
    await sandboxFor(s, HAL.email!);
    const grant = await activeGrant(s, 'sandbox');
    const { id, card } = await ada.open('dashboard');

    // Details: the timeline in place, with Back.
    const details = buttonFor(card, 'jit.grant.details', grant.id);
    let res = await ada.execute(id, details.verb, details.data);
    expect(textsOf(res.card as Card).join('\n')).toMatch(/Requested by Hal Holder/);
    res = await ada.press(id, 'Back', {}, res.card as Card);
    expect(textsOf(res.card as Card)[0]).toBe('Grants dashboard');

    const revoke = buttonFor(res.card as Card, 'jit.grant.revoke', grant.id);
    res = await ada.execute(id, revoke.verb, revoke.data);
    const confirm = res.card as Card;
    expect(textsOf(confirm)[0]).toBe('Revoke access');
    res = await ada.press(id, 'Revoke', { [REVOKE_REASON_INPUT]: 'Contract ended' }, confirm);
    expect(textsOf(res.card as Card)).toContain("Revoked Hal Holder's access. They have been told.");

    await eventually(async () => {
      const events = s.t.hooks.calls.map((c) => (c.body as { event: string }).event);
      expect(events).toContain('grant.revoked');
    });
    expect((await s.t.store.repos.grants.get(grant.id))?.status).not.toBe('active');
    // Hal is told in his own chat, with the reason.
    const told = await s.latest(HAL.email!, 'Contract ended');
    expect(JSON.stringify(told.activity)).toContain('Sandbox');
  });

  it('refuses a revoke from someone who may not (a forged button), and changes nothing', async () => {
    const { s, nils } = await start();
    await sandboxFor(s, HAL.email!);
    const grant = await activeGrant(s, 'sandbox');
    await nils.say('hello');
    const res = await nils.execute('forged', 'home.revoke', {
      state: '{}',
      view: 'dashboard',
      value: grant.id,
    });
    const body = res.body as { type: string; value: string };
    expect(body.type).toBe('application/vnd.microsoft.activity.message');
    expect(body.value).toBe(
      'Only the holder, an administrator, or an owner or approver of the resource can end this access.',
    );
    expect((await s.t.store.repos.grants.get(grant.id))?.status).toBe('active');
    expect(s.t.hooks.calls.map((c) => (c.body as { event: string }).event)).not.toContain('grant.revoked');
  });
});

describe('"access settings" in the personal chat', () => {
  it('lets an owner save a window, refusing a past date inline first', async () => {
    const { s, owen } = await start();
    const { id, card } = await owen.open('access settings tenant-prod');
    expect(textsOf(card)[0]).toBe('Access settings');
    expect(input(card, SettingsInput.date)).toMatchObject({ type: 'Input.Date' });
    expect(input(card, SettingsInput.time)).toMatchObject({
      type: 'Input.Time',
      label: 'Expiration time (Asia/Tokyo)',
    });

    const past = {
      [SettingsInput.window]: 'until',
      [SettingsInput.date]: '2026-12-01',
      [SettingsInput.time]: '10:00',
    };
    let res = await owen.press(id, 'Save Changes', past);
    expect(textsOf(res.card as Card)).toContain('Choose a date and time in the future.');
    expect(textsOf(res.card as Card)).toContain('Nothing was saved yet: fix what is marked below.');

    const future = { ...past, [SettingsInput.date]: '2026-12-10', [SettingsInput.time]: '18:00' };
    res = await owen.press(id, 'Update preview', future, res.card as Card);
    // 18:00 in Tokyo is 09:00 UTC.
    expect(textsOf(res.card as Card).join('\n')).toContain('(2026-12-10T09:00:00Z)');
    res = await owen.press(id, 'Save Changes', future, res.card as Card);
    expect(textsOf(res.card as Card).join('\n')).toMatch(/^Saved\./m);
    const access = await s.t.system.service.resourceAccess(s.t.system.service.findResource('tenant-prod')!);
    expect(access.windowEndsAt?.toISOString()).toBe('2026-12-10T09:00:00.000Z');
  });

  it('warns before Save Changes; switching off revokes the grant and closes the waiting request on the approver’s card', async () => {
    const { s, owen } = await start();
    const held = await sandboxFor(s, HAL.email!, 'tenant-prod');
    await s.t.system.service.decide(held, { email: AMY.email!, name: AMY.name }, 'approve');
    const grant = await activeGrant(s, 'tenant-prod');
    const waiting = await sandboxFor(s, NILS.email!, 'tenant-prod');
    const amyCard = await s.recorded(waiting, 'approval-card', AMY.email!);
    expect(visibleButtons(cardIn(amyCard.activity))).toEqual(['Approve', 'Deny']);

    // The card cannot re-render when the toggle changes: the warning is on it before Save Changes.
    const { id, card } = await owen.open('access settings tenant-prod');
    expect(textsOf(card).join('\n')).toContain('active sessions may be interrupted. 1 grant is active now.');
    const res = await owen.press(id, 'Save Changes', { [SettingsInput.jit]: 'off' });
    expect(textsOf(res.card as Card).join('\n')).toMatch(/^Saved\./m);

    expect(await s.t.store.repos.grants.get(grant.id)).toMatchObject({ endReason: 'closed-by-owner' });
    expect(await s.t.store.repos.requests.get(waiting)).toMatchObject({
      status: 'cancelled',
      closedReason: 'closed-by-owner',
      decidedBy: OWEN.email,
    });
    await s.t.delivered();
    await eventually(() => {
      const now = cardIn(s.connector.activity(amyCard.conversationId, amyCard.id)?.activity ?? {});
      expect(textsOf(now).join('\n')).toContain("the resource's owners closed access to it");
      expect(visibleButtons(now)).toEqual([]);
    });
    // Nils is told why, in the words of the request form.
    await s.latest(NILS.email!, 'The owners of Tenant production have switched off just');
  });

  it('shows everyone else the settings read-only, and refuses a forged save', async () => {
    const { s, nils } = await start();
    const { id, card } = await nils.open('access settings tenant-prod');
    expect(textsOf(card)).toContain(ONLY_OWNERS);
    expect(buttonsOf(card)).not.toContain('Save Changes');
    expect(input(card, SettingsInput.jit)).toBeUndefined();
    const res = await nils.execute(id, 'settings.save', {
      resourceId: 'tenant-prod',
      version: 0,
      fixed: true,
      [SettingsInput.jit]: 'off',
      [SettingsInput.window]: 'always',
    });
    const body = res.body as { value: string };
    expect(body.value).toBe(`Nothing was saved. ${ONLY_OWNERS}.`);
    const access = await s.t.system.service.resourceAccess(s.t.system.service.findResource('tenant-prod')!);
    expect(access.enabled).toBe(true);
  });
});

describe('"access report" in the personal chat', () => {
  it('answers with a signed link that downloads the CSV', async () => {
    const { s, ada } = await start();
    await sandboxFor(s, HAL.email!);
    await activeGrant(s, 'sandbox');
    const { card } = await ada.open('access report sandbox');
    const link = elementsOf(card).find((e) => e.type === 'Action.OpenUrl') as { url: string; title: string };
    expect(link.title).toBe('Download CSV');
    const res = await fetch(link.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const csv = await res.text();
    expect(csv).toContain('hal@example.com');
    expect(csv).toContain('Investigate the incident');
  });
});
