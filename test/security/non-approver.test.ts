/**
 * Threat: someone who was not chosen as an approver of a request clicks Approve or Deny on it
 * (with a card forwarded to them, or one captured and sent with their own signed user id), or
 * someone other than the requester clicks Cancel.
 * Expected refusal: an ephemeral to the clicker only, an `action.refused` audit entry with
 * NOT_AN_APPROVER (NOT_REQUESTER for Cancel), no deny dialog, no decision, no grant, no connector call.
 */
import { describe, expect, it } from 'vitest';
import { click, eventually, hasButton, onlyRequest, waitForDm } from '../support/flows.js';
import { USERS } from '../support/system.js';
import { current, denyDialogs, ephemeralTo, pendingRequest, quiet, refusals, useSystem } from './support.js';

const { alice, dave, bob, carol, erin } = USERS;
const sys = useSystem();

describe('a non-approver deciding', () => {
  it('refuses someone who was not chosen as an approver, with an ephemeral and an audit entry, and changes nothing', async () => {
    const t = sys();
    const { request, cards } = await pendingRequest(t, [alice]);
    const card = cards.get(alice)!;
    // Erin (an outsider), Bob (a colleague of Carol's) and Dave (an approver of the resource who
    // was not chosen for this request) all send Alice's card back with their own user id.
    for (const intruder of [erin, bob, dave]) {
      await click(t, intruder, card, 'jit.request.approve');
      await ephemeralTo(t, intruder, 'Only the approvers chosen for this request can decide it.');
      await click(t, intruder, card, 'jit.request.deny');
      await eventually(async () => expect(await refusals(t, intruder.email)).toHaveLength(2));
      expect(await refusals(t, intruder.email)).toEqual(['NOT_AN_APPROVER', 'NOT_AN_APPROVER']);
    }
    await quiet();

    expect((await onlyRequest(t)).status).toBe('pending');
    expect(denyDialogs(t)).toHaveLength(0);
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
    expect(hasButton(current(t, card), 'jit.request.approve')).toBe(true);
    // Nobody but the intruders was told anything.
    expect(t.fake.ephemeralsTo(alice.id)).toHaveLength(0);
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

  it('lets only the requester cancel', async () => {
    const t = sys();
    await pendingRequest(t, [alice]);
    const status = await waitForDm(t, carol, 'was sent to');
    for (const intruder of [alice, bob]) await click(t, intruder, status, 'jit.request.cancel');
    await eventually(async () => {
      expect(await refusals(t, alice.email)).toEqual(['NOT_REQUESTER']);
      expect(await refusals(t, bob.email)).toEqual(['NOT_REQUESTER']);
    });
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(hasButton(current(t, status), 'jit.request.cancel')).toBe(true);
  });
});
