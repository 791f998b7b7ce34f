/**
 * The store is unreachable for a moment: the person who acted is told so plainly, nothing is half
 * written, and doing it again once the store is back works (once). A single failed write in the
 * middle of a decision is finished by the sweep, so nobody has to do anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FormInput } from '../../src/bot/teams/request-form-data.js';
import { ActionId } from '../../src/domain/views/model.js';
import { type FakeBotConnector, startFakeBotConnector } from '../support/fake-bot-connector.js';
import { collectText, type FakeView } from '../support/fake-slack.js';
import { type FaultyStore, faultyStore, type StoreFaults } from '../support/faulty-store.js';
import {
  click,
  eventually,
  formAction,
  onlyRequest,
  openForm,
  quickDurationAction,
  requestAccess,
  submitForm,
  waitForDm,
} from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';
import { type Card, TeamsChat, textsOf } from '../support/teams-client.js';
import { teamsUser } from '../support/teams-system.js';

const { alice, carol } = USERS;
const SEC = 1000;
const DATABASE = 'could not reach its database just now. Try again in a minute';

let t: TestSystem;
let faults: StoreFaults;
let current: FaultyStore;
let connector: FakeBotConnector | undefined;
async function start(opts: { teams?: FakeBotConnector; policy?: string } = {}) {
  faults = {};
  t = await startTestSystem({
    ...opts,
    wrapStore: (store) => {
      current = faultyStore(store, faults);
      return current;
    },
  });
}
afterEach(async () => {
  faults.down = false;
  await t.close();
  await connector?.close();
  connector = undefined;
});

const dms = (user: { id: string }, needle: string) =>
  t.fake.messagesIn(t.fake.dmChannelFor(user.id)).filter((m) => collectText(m.blocks ?? []).includes(needle));

describe('a store that is unreachable for a moment', () => {
  it('takes the instance out of the load balancer while the store is down (/readyz 503), without it being killed (/healthz 200)', async () => {
    await start();
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${t.system.port}${path}`);
      return { status: res.status, body: await res.json() };
    };
    expect(await get('/readyz')).toEqual({ status: 200, body: { ok: true } });
    faults.down = true;
    expect(await get('/readyz')).toEqual({ status: 503, body: { ok: false } });
    expect(await get('/healthz')).toEqual({ status: 200, body: { ok: true } });
    faults.down = false;
    expect(await get('/readyz')).toEqual({ status: 200, body: { ok: true } });
  });

  it('tells the requester in the form that nothing was sent, and the same form sent again works once', async () => {
    await start();
    let view: FakeView = await openForm(t, carol, 'acme-prod');
    view = await formAction(t, carol, view, quickDurationAction(view, '4 hours'));
    const values = { 'jit.form.justification': 'Investigate ticket 42', 'jit.form.approvers': [alice.email] };

    faults.down = true;
    const refused = await submitForm(t, carol, view, values);
    expect(refused.status).toBe(200);
    const shown = collectText((refused.body as { view?: { blocks?: unknown[] } }).view?.blocks ?? []);
    expect(shown).toContain('Your request was not sent.');
    expect(shown).toContain(DATABASE);
    faults.down = false;
    expect(await t.store.repos.requests.list({})).toEqual([]);
    expect(await t.store.repos.audit.list({})).toEqual([]);
    expect(await t.store.repos.outbox.list({})).toEqual([]);

    // Carol sends the same form again (Slack keeps it open): one request, one card.
    const again = await submitForm(t, carol, view, values);
    expect(again.status).toBe(200);
    await waitForDm(t, alice, 'Approve');
    await t.delivered();
    expect(await t.store.repos.requests.list({})).toHaveLength(1);
    expect(dms(alice, 'Approve')).toHaveLength(1);
  });

  it('tells an approver whose click failed, leaves the request pending, and the click again approves it once', async () => {
    await start();
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    await t.delivered();

    faults.down = true;
    await click(t, alice, card, 'jit.request.approve');
    const told = await eventually(() => {
      const text = t.fake
        .ephemeralsTo(alice.id)
        .map((e) => e.text)
        .join('\n');
      expect(text).toContain(DATABASE);
      return text;
    });
    expect(told).not.toContain('Something went wrong');
    faults.down = false;
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(await t.store.repos.grants.list({})).toEqual([]);

    await click(t, alice, card, 'jit.request.approve');
    await waitForDm(t, carol, 'is active until');
    await t.delivered();
    expect((await onlyRequest(t)).status).toBe('approved');
    expect(await t.store.repos.grants.list({})).toHaveLength(1);
    expect(dms(carol, 'is active until')).toHaveLength(1);
    expect(await t.store.repos.audit.list({ type: 'request.approved' })).toHaveLength(1);
  });

  it('finishes a decision whose next write failed after the decision was stored: the approver is not told of a failure, and the sweep grants, audits and tells everyone once', async () => {
    await start();
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    await t.delivered();
    // The decision (a write), then the grant it means (the next write, which fails).
    const failing = current.writes.length + 2;
    faults.failWrite = failing;
    await click(t, alice, card, 'jit.request.approve');
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('approved'));
    await t.delivered();
    expect(current.writes.slice(failing - 2, failing)).toEqual(['requests.decide', 'grants.insert']);
    // Alice was not told of a failure: her decision stands. Nobody has heard of it yet.
    expect(t.fake.ephemeralsTo(alice.id)).toEqual([]);
    expect(dms(carol, 'Request approved')).toEqual([]);
    expect(await t.store.repos.grants.list({})).toEqual([]);

    // The next sweep finishes it: audited once, everyone told, access granted.
    await t.runner.advance(30 * SEC);
    await waitForDm(t, carol, 'is active until');
    await t.delivered();
    expect(await t.store.repos.audit.list({ type: 'request.approved' })).toHaveLength(1);
    expect(dms(carol, 'Request approved')).toHaveLength(1);
    expect((await onlyRequest(t)).unsettled).toBeUndefined();
  });
});

describe('a store that is unreachable for a moment, in Teams', () => {
  const TOM = teamsUser('tom', 'Tom Teams');
  const TINA = teamsUser('tina', 'Tina Teams');
  const POLICY = `
resources:
  - id: box
    name: Box
    approvers: [tina@example.com]
    requesters: [tom@example.com]
    connector: { type: log }
`;

  it('tells the requester on the card that nothing was sent, and tells an approver whose click failed; pressing again works once', async () => {
    connector = await startFakeBotConnector({ users: [TOM, TINA], auth: { appId: 'outage-app' } });
    await start({ teams: connector, policy: POLICY });
    const url = `http://127.0.0.1:${t.system.port}/api/messages`;
    const tom = new TeamsChat(connector, url, TOM);
    const tina = new TeamsChat(connector, url, TINA);
    await tom.install();
    await tina.install();
    const { id } = await tom.open('request access box');
    await tom.press(id, '4 hours');
    const inputs = { [FormInput.approvers]: 'tina@example.com', [FormInput.justification]: 'Outage test' };

    faults.down = true;
    const refused = await tom.press(id, 'Send request', inputs);
    expect(refused.status).toBe(200);
    expect(JSON.stringify(refused.body)).toContain(DATABASE);
    faults.down = false;
    expect(await t.store.repos.requests.list({})).toEqual([]);
    expect(await t.store.repos.outbox.list({})).toEqual([]);

    const sent = await tom.press(id, 'Send request', inputs);
    expect(textsOf(sent.card as Card)[0]).toBe('Request sent');
    await t.delivered();
    expect(await t.store.repos.requests.list({})).toHaveLength(1);
    const card = await eventually(() => tina.lastCard());

    faults.down = true;
    // Approve sits behind a confirmation (Action.ShowCard); its Execute carries the request id.
    const approve = { value: (await onlyRequest(t)).id };
    expect(JSON.stringify(card.card)).toContain(ActionId.approve);
    const click = await tina.execute(card.id, ActionId.approve, approve);
    expect(click.status).toBe(200);
    expect(JSON.stringify(click.body)).toContain(DATABASE);
    faults.down = false;
    expect((await onlyRequest(t)).status).toBe('pending');

    await tina.execute(card.id, ActionId.approve, approve);
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('approved'));
    await t.delivered();
    expect(await t.store.repos.grants.list({})).toHaveLength(1);
    expect(await t.store.repos.audit.list({ type: 'request.approved' })).toHaveLength(1);
  });
});
