/**
 * Teams' "my access" and "dashboard" cards refresh by themselves, end to end: the real process
 * (CloudAdapter on `POST /api/messages`, tokens checked both ways) and the fake Bot Connector. After
 * a change, `home.refresh` edits the latest card of each kind in place (the same activity, its page
 * and filters kept); it sends no new message, sends nothing when a card would look the same, and
 * gives up a card that is gone without trying it again and again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FilterInput, OUT_OF_DATE } from '../../src/bot/teams/home-card.js';
import { FormInput } from '../../src/bot/teams/request-form-data.js';
import { ActionId } from '../../src/domain/views/model.js';
import { adaptiveCardProblems } from '../support/adaptive-cards.js';
import type { JsonObject } from '../support/fake-bot-connector.js';
import { eventually } from '../support/flows.js';
import { refreshed } from '../support/home.js';
import { buttonsOf, type Card, elementsOf, input, TeamsChat, textsOf } from '../support/teams-client.js';
import { pressButton } from '../support/teams-flows.js';
import { startTeamsSystem, type TeamsTestSystem, teamsUser } from '../support/teams-system.js';

const ALEX = teamsUser('alexw', 'Alex Wilber', 'Europe/Oslo');
const MEGAN = teamsUser('meganb', 'Megan Bowen', 'America/New_York');
const ADELE = teamsUser('adelev', 'Adele Vance', 'UTC');

const boxes = Array.from(
  { length: 12 },
  (_, i) => `
  - id: box-${i + 1}
    name: Box ${i + 1}
    approvers: [meganb@example.com]
    policy: { approval: auto }
    connector: { type: log }`,
).join('');
const POLICY = `
defaults:
  approvalWindow: PT1H
  durations: [PT4H, P1D]
resources:
  - id: tenant-prod
    name: Tenant production
    approvers: [meganb@example.com]
    connector: { type: log }${boxes}
`;

let s: TeamsTestSystem | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function start() {
  s = await startTeamsSystem({
    users: [ALEX, MEGAN, ADELE],
    policy: POLICY,
    start: new Date('2026-12-03T09:00:00Z'),
  });
  const chat = (u: typeof ALEX) => new TeamsChat(s!.connector, s!.botUrl, u);
  return { s, alex: chat(ALEX), megan: chat(MEGAN), adele: chat(ADELE) };
}

/** The card of message `id` in `chat` as Teams holds it now, and how many versions it has had. */
function now(chat: TeamsChat, id: string): { card: Card; versions: number; texts: string } {
  const stored = chat.fake.activity(chat.conversationId, id);
  if (!stored) throw new Error(`no message ${id} in ${chat.user.name}'s chat`);
  const card = (stored.activity.attachments as JsonObject[])[0]?.content as Card;
  // Every card a refresh leaves behind passes the adaptivecards library's strict check.
  expect(adaptiveCardProblems(card)).toEqual([]);
  return { card, versions: stored.versions.length, texts: textsOf(card).join('\n') };
}

/** The titles of the buttons a person sees (a confirmed action shows its `Action.ShowCard`). */
const shownButtons = (card: Card) =>
  elementsOf(card)
    .filter((e) => e.type === 'Action.Execute' || e.type === 'Action.ShowCard')
    .map((e) => String(e.title));

/** How many home cards ("my access", "dashboard") the bot has posted as new messages. */
const homeCardsSent = (sys: TeamsTestSystem) =>
  sys.connector.calls.filter(
    (c) =>
      c.operation === 'send' &&
      ['My access', 'Grants dashboard'].includes(String((c.body as JsonObject | undefined)?.summary)),
  ).length;

/** The updates the bot made to message `id` (successful or not). */
const updatesOf = (sys: TeamsTestSystem, id: string) =>
  sys.connector.calls.filter((c) => c.operation === 'update' && c.activityId === id);

/** Alex asks for Tenant production through the Teams request form, choosing Megan. */
async function alexRequests(alex: TeamsChat): Promise<void> {
  const { id } = await alex.open('request access tenant-prod');
  await alex.press(id, '4 hours');
  const sent = await alex.press(id, 'Send request', {
    [FormInput.approvers]: 'meganb@example.com',
    [FormInput.justification]: 'Investigate the outage',
  });
  expect(textsOf(sent.card as Card)[0]).toBe('Request sent');
}

describe('Teams home cards refresh in place', () => {
  it('gives Megan the waiting decision and Alex the grant without anyone pressing their home cards', async () => {
    const { s, alex, megan } = await start();
    const alexHome = await alex.open('my access');
    expect(textsOf(alexHome.card).join('\n')).toContain('You have no request waiting for a decision.');
    const meganHome = await megan.open('my access');
    expect(textsOf(meganHome.card).join('\n')).toContain('No request is waiting for your decision.');
    const meganDash = await megan.open('dashboard');
    expect(textsOf(meganDash.card).join('\n')).toContain('No access matches.');

    await alexRequests(alex);
    await refreshed(s.t);

    // Megan's "my access" card gained the decision, with Approve and Deny, in the same activity.
    const waiting = now(megan, meganHome.id);
    expect(waiting.versions).toBe(2);
    expect(waiting.texts).toContain('Waiting for my decision');
    expect(waiting.texts).toContain('Alex Wilber requests access to Tenant production for 4 hours');
    expect(JSON.stringify(waiting.card)).toContain('Investigate the outage');
    expect(JSON.stringify(waiting.card)).toContain(ActionId.approve);
    // Alex's card shows the pending request with Cancel.
    const pending = now(alex, alexHome.id);
    expect(pending.texts).toContain('Tenant production');
    expect(shownButtons(pending.card)).toContain('Cancel request');
    // Her dashboard shows no grant yet, as before: nothing was sent to it.
    expect(now(megan, meganDash.id).versions).toBe(1);
    // A refresh edits; it never posts: the only home cards sent are the three they opened.
    expect(homeCardsSent(s)).toBe(3);

    // Megan approves on the approval card the outbox sent her.
    const [request] = await s.t.store.repos.requests.list({});
    const approval = await s.recorded(request!.id, 'approval-card', MEGAN.email!);
    const pressed = await pressButton(s.connector, s.botUrl, MEGAN.id, approval, ActionId.approve);
    expect(pressed.result.status).toBe(200);
    await eventually(async () => expect((await s.t.store.repos.grants.list({}))[0]?.status).toBe('active'));
    await refreshed(s.t);

    const granted = now(alex, alexHome.id);
    expect(granted.texts).toMatch(/Active until .* \((3 h 59|4 h 00) min left\)/);
    expect(granted.texts).toContain('Approved by Megan Bowen');
    expect(shownButtons(granted.card)).toEqual(
      expect.arrayContaining(['Request extension', 'End access now']),
    );
    expect(shownButtons(granted.card)).not.toContain('Cancel request');
    const decided = now(megan, meganHome.id);
    expect(decided.texts).toContain('No request is waiting for your decision.');
    const dashboard = now(megan, meganDash.id);
    expect(dashboard.versions).toBe(2);
    expect(dashboard.texts).toContain('Alex Wilber (alexw@example.com) · Tenant production');
    // One update per card and change: none was sent twice.
    expect(updatesOf(s, meganDash.id)).toHaveLength(1);
    expect(updatesOf(s, meganHome.id)).toHaveLength(2);

    expect(homeCardsSent(s)).toBe(3);

    // The refreshed card still works: its buttons carry the state it was refreshed at.
    const extend = await alex.press(alexHome.id, 'Request extension');
    expect(extend.status).toBe(200);
    expect(textsOf(extend.card as Card).join('\n')).toContain('Tenant production');
  });

  it("keeps the dashboard's filter and page through a refresh, on a new instance after a restart too", async () => {
    const { s, megan } = await start();
    for (let i = 1; i <= 11; i++) {
      await s.submit({
        requester: ADELE.email!,
        resourceId: `box-${i}`,
        approvers: [MEGAN.email!],
        duration: 'PT4H',
        justification: 'Load test',
      });
    }
    await eventually(async () =>
      expect(await s.t.store.repos.grants.list({ status: 'active' })).toHaveLength(11),
    );
    const dash = await megan.open('dashboard');
    let res = await megan.press(dash.id, 'Apply filters', { [FilterInput.status]: 'active' });
    res = await megan.press(dash.id, 'Next', {}, res.card as Card);
    expect(textsOf(res.card as Card).join('\n')).toContain('Showing 11–11 of 11.');
    await refreshed(s.t);

    await s.t.restart();
    await s.submit({
      requester: ADELE.email!,
      resourceId: 'box-12',
      approvers: [MEGAN.email!],
      duration: 'PT4H',
      justification: 'One more',
    });
    await eventually(async () =>
      expect(await s.t.store.repos.grants.list({ status: 'active' })).toHaveLength(12),
    );
    await refreshed(s.t);

    // Still the second page of active grants, now of 12.
    const after = now(megan, dash.id);
    expect(after.versions).toBeGreaterThan(3);
    expect(after.texts).toContain('Filtered: active. Showing 11–11 of 12.');
    expect(input(after.card, FilterInput.status)?.value).toBe('active');
    // Previous goes back to the first page of the same filter.
    // The app listens on a new port now.
    const meganAgain = new TeamsChat(s.connector, `http://127.0.0.1:${s.t.system.port}/api/messages`, MEGAN);
    const back = await meganAgain.press(dash.id, 'Previous', {}, after.card);
    expect(textsOf(back.card as Card).join('\n')).toContain('Filtered: active. Showing 1–10 of 12.');
    expect(input(back.card as Card, FilterInput.status)?.value).toBe('active');
  });

  it('refreshes only the latest "my access" card: the older one says it is out of date', async () => {
    const { s, alex } = await start();
    const first = await alex.open('my access');
    const second = await alex.open('my access');
    const old = now(alex, first.id);
    expect(old.texts).toContain(OUT_OF_DATE);
    expect(buttonsOf(old.card)).toEqual([]);

    await alexRequests(alex);
    await refreshed(s.t);
    expect(now(alex, second.id).texts).toContain('Tenant production');
    expect(now(alex, first.id).versions).toBe(2); // sent, then marked out of date: never refreshed
  });

  it('does not refresh a card while it shows a form in its place, and again once it is back', async () => {
    const { s, alex, megan } = await start();
    await alexRequests(alex);
    const home = await megan.open('my access');
    const deny = await megan.press(home.id, 'Deny');
    expect(textsOf(deny.card as Card)[0]).toBe('Deny request');
    const versions = now(megan, home.id).versions;

    await s.submit({
      requester: ADELE.email!,
      resourceId: 'tenant-prod',
      approvers: [MEGAN.email!],
      duration: 'PT4H',
      justification: 'Second request',
    });
    await refreshed(s.t);
    expect(now(megan, home.id).versions).toBe(versions); // the deny form stays as she left it

    const back = await megan.press(home.id, 'Back', {}, deny.card as Card);
    expect(textsOf(back.card as Card)).toContain(
      'Adele Vance requests access to Tenant production for 4 hours',
    );
  });

  it('gives up a card whose message is gone, without trying it again, until a new one is opened', async () => {
    const { s, alex } = await start();
    const home = await alex.open('my access');
    s.connector.deleteActivity(alex.conversationId, home.id);

    await alexRequests(alex);
    await refreshed(s.t);
    expect(updatesOf(s, home.id).map((c) => c.status)).toEqual([404]);
    await s.submit({
      requester: ALEX.email!,
      resourceId: 'box-1',
      approvers: [MEGAN.email!],
      duration: 'PT4H',
      justification: 'Another change',
    });
    await refreshed(s.t);
    expect(updatesOf(s, home.id)).toHaveLength(1);
    // No "my access" card was sent again in its place.
    expect(alex.messages().filter((m) => m.summary === 'My access')).toEqual([]);

    const fresh = await alex.open('my access');
    await s.submit({
      requester: ALEX.email!,
      resourceId: 'box-2',
      approvers: [MEGAN.email!],
      duration: 'PT4H',
      justification: 'Third change',
    });
    await refreshed(s.t);
    expect(now(alex, fresh.id).texts).toContain('Box 2');
  });

  it('survives Teams throttling a refresh: the job fails, nothing is posted, and the next change catches up', async () => {
    const { s, alex } = await start();
    const home = await alex.open('my access');
    s.connector.setFault({ status: 429, retryAfterSec: 1, operations: ['update'] });
    await s.submit({
      requester: ALEX.email!,
      resourceId: 'tenant-prod',
      approvers: [MEGAN.email!],
      duration: 'PT4H',
      justification: 'During the throttling',
    });
    await refreshed(s.t);
    expect(updatesOf(s, home.id).map((c) => c.status)).toContain(429);
    expect(now(alex, home.id).versions).toBe(1);

    s.connector.setFault(null);
    await s.submit({
      requester: ALEX.email!,
      resourceId: 'box-3',
      approvers: [MEGAN.email!],
      duration: 'PT4H',
      justification: 'After the throttling',
    });
    await refreshed(s.t);
    const caught = now(alex, home.id);
    expect(caught.texts).toContain('Tenant production');
    expect(caught.texts).toContain('Box 3');
  });
});
