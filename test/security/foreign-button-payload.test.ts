/**
 * Threat: a button payload edited to name another request than the card it was on, or another
 * person's request (the clicker's identity itself is in Slack's signed body and cannot be changed
 * without breaking the signature: see forged-signature.test.ts), or a value we never issued.
 * Expected refusal: the button's value is only a claim; the domain re-checks against the store
 * that the signed clicker may do this to that request. A value we did not make is refused
 * without a crash; a real request the clicker may not decide is NOT_AN_APPROVER; another person's
 * access named in an End access now button is NOT_HOLDER; nothing changes.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../support/fake-slack.js';
import { click, eventually, requestAccess, waitForDm } from '../support/flows.js';
import type { TestSystem } from '../support/system.js';
import { USERS } from '../support/system.js';
import {
  denyDialogs,
  ephemeralTo,
  pendingRequest,
  quiet,
  refusals,
  useSystem,
  webhookEvents,
} from './support.js';

const { alice, dave, bob, carol } = USERS;
const sys = useSystem();

/** Carol's request to Alice, and Bob's request to Dave only; Alice's card of Carol's request. */
async function twoRequests(t: TestSystem) {
  await requestAccess(t, carol, { approvers: [alice.email], justification: 'Carol’s' });
  const aliceCard = await waitForDm(t, alice, 'Approve');
  await requestAccess(t, bob, { approvers: [dave.email], justification: 'Bob’s' });
  await waitForDm(t, dave, 'Approve');
  const [carols] = await t.store.repos.requests.list({ requesterEmail: carol.email });
  const [bobs] = await t.store.repos.requests.list({ requesterEmail: bob.email });
  return { aliceCard, carols: carols!, bobs: bobs! };
}

describe('a button payload naming something else', () => {
  it('refuses a button whose value was tampered with, without crashing', async () => {
    const t = sys();
    const { request, cards } = await pendingRequest(t, [alice]);
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
    expect(await refusals(t, alice.email)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    for (const e of t.fake.ephemeralsTo(alice.id)) expect(e.text).not.toContain('../');
    await quiet();

    // Nothing changed, and the app still works: the real click goes through.
    expect((await t.store.repos.requests.get(request.id))?.status).toBe('pending');
    expect(denyDialogs(t)).toHaveLength(0);
    await click(t, alice, card, 'jit.request.approve');
    await eventually(async () =>
      expect((await t.store.repos.requests.get(request.id))?.status).toBe('approved'),
    );
    await waitForDm(t, carol, 'is active until');
    expect(webhookEvents(t)).toEqual(['grant.activated']);
  });

  it('refuses an approver’s button edited to name another person’s request she was not asked to decide', async () => {
    const t = sys();
    const { aliceCard, carols, bobs } = await twoRequests(t);
    for (const actionId of ['jit.request.approve', 'jit.request.deny']) {
      await t.slack.blockAction({ userId: alice.id, actionId, message: aliceCard, value: bobs.id });
    }
    await ephemeralTo(t, alice, 'Only the approvers chosen for this request can decide it.');
    await eventually(async () =>
      expect(await refusals(t, alice.email)).toEqual(['NOT_AN_APPROVER', 'NOT_AN_APPROVER']),
    );
    // Cancel with Bob's request id, from Carol's own status message: not hers to cancel.
    const status = await waitForDm(t, carol, 'was sent to');
    await t.slack.blockAction({
      userId: carol.id,
      actionId: 'jit.request.cancel',
      message: status,
      value: bobs.id,
    });
    await eventually(async () => expect(await refusals(t, carol.email)).toEqual(['NOT_REQUESTER']));
    await quiet();
    expect((await t.store.repos.requests.get(bobs.id))?.status).toBe('pending');
    expect((await t.store.repos.requests.get(carols.id))?.status).toBe('pending');
    expect(denyDialogs(t)).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
  });

  it('refuses a deny dialog whose private_metadata was edited to name another request', async () => {
    const t = sys();
    const { aliceCard, carols, bobs } = await twoRequests(t);
    // Alice may deny Carol's request, so the dialog opens for it …
    await click(t, alice, aliceCard, 'jit.request.deny');
    const opened = await eventually(() => {
      const [call] = denyDialogs(t);
      expect(call).toBeDefined();
      return call!.args.view as JsonObject;
    });
    // … and she sends it back naming Bob's request instead, or something that is not an id.
    for (const requestId of [bobs.id, '../../x', '']) {
      const res = await t.slack.viewSubmission({
        userId: alice.id,
        view: { ...opened, id: 'V-DENY', private_metadata: JSON.stringify({ requestId }) } as JsonObject,
        values: { 'jit.deny.reason': 'Not yours' },
      });
      expect(res.status).toBe(200);
    }
    await eventually(async () => expect(await refusals(t, alice.email)).toContain('NOT_AN_APPROVER'));
    await quiet();
    expect((await t.store.repos.requests.get(bobs.id))?.status).toBe('pending');
    expect((await t.store.repos.requests.get(carols.id))?.status).toBe('pending');
    expect(await t.store.repos.audit.list({ type: 'request.denied' })).toHaveLength(0);
  });

  it('refuses End access now edited to name another person’s access, and ends nothing', async () => {
    const t = sys();
    // Carol holds acme-prod; Bob holds the auto-approved staging-db and has his own End button.
    await requestAccess(t, carol, { approvers: [alice.email] });
    await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
    await waitForDm(t, carol, 'is active until');
    await requestAccess(t, bob, { resource: 'staging-db', duration: '1 hour' });
    const bobsMessage = await waitForDm(t, bob, 'is active until');
    const [carolsGrant] = await t.store.repos.grants.list({ holderEmail: carol.email });
    expect(carolsGrant?.status).toBe('active');

    // Bob presses his own End access now, with the value edited to Carol's grant.
    const res = await t.slack.blockAction({
      userId: bob.id,
      actionId: 'jit.grant.end',
      message: bobsMessage as unknown as JsonObject,
      value: carolsGrant!.id,
    });
    expect(res.status).toBe(200);
    await eventually(async () => expect(await refusals(t, bob.email)).toContain('NOT_HOLDER'));
    await quiet();
    expect((await t.store.repos.grants.get(carolsGrant!.id))?.status).toBe('active');
    expect(webhookEvents(t).filter((e) => e === 'grant.revoked')).toEqual([]);
  });
});
