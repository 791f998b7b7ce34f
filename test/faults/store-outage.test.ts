/**
 * The store is unreachable for a moment: the person who acted is told so plainly, nothing is half
 * written, and doing it again once the store is back works (once). A single failed write in the
 * middle of a decision is finished by the sweep, so nobody has to do anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
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

const { alice, carol } = USERS;
const SEC = 1000;
const DATABASE = 'could not reach its database just now. Try again in a minute';

let t: TestSystem;
let faults: StoreFaults;
let current: FaultyStore;
async function start() {
  faults = {};
  t = await startTestSystem({
    wrapStore: (store) => {
      current = faultyStore(store, faults);
      return current;
    },
  });
}
afterEach(async () => {
  faults.down = false;
  await t.close();
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
