/**
 * Clock edges, each doing the documented sensible thing (README, "Time and clock edges"):
 * an approval just before the request's deadline, a reminder whose time passed while the app was
 * down, an extension approved after the access expired, and a clock that jumps forwards or back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/domain/model.js';
import { collectText } from '../support/fake-slack.js';
import { click, eventually, onlyRequest, requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, carol } = USERS;
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const START = new Date('2026-11-23T09:00:00.000Z');

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem({ start: START });
});
afterEach(async () => {
  await t.close();
});

const person = (u: typeof carol) => ({ email: u.email, name: u.realName, tz: u.tz });
/** The messages actually posted (not edits) whose text holds `needle`. */
const postedContaining = (needle: string) =>
  t.fake.callsTo('chat.postMessage').filter((c) => c.response.ok && String(c.args.text).includes(needle));
const dms = (user: { id: string }, needle: string) =>
  t.fake.messagesIn(t.fake.dmChannelFor(user.id)).filter((m) => collectText(m.blocks ?? []).includes(needle));
const theGrant = async (): Promise<Grant> => {
  const [g] = await t.store.repos.grants.list({});
  expect(g).toBeDefined();
  return g!;
};

/** Carol's 4-hour request, approved by Alice; returns the active grant. */
async function activeGrant(): Promise<Grant> {
  await requestAccess(t, carol, { approvers: [alice.email] });
  const card = await waitForDm(t, alice, 'Approve');
  await click(t, alice, card, 'jit.request.approve');
  await waitForDm(t, carol, 'is active until');
  await t.delivered();
  return theGrant();
}

describe('clock edges', () => {
  it('an approval a millisecond before the request’s deadline counts, and its access runs in full from provisioning', async () => {
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    const request = await onlyRequest(t);
    t.clock.set(new Date(request.decideBy.getTime() - 1));
    await click(t, alice, card, 'jit.request.approve');
    await waitForDm(t, carol, 'is active until');
    const g = await theGrant();
    expect((await onlyRequest(t)).status).toBe('approved');
    expect(g.expiresAt!.getTime() - g.startsAt!.getTime()).toBe(4 * HOUR);
    // The request's own expiry passes and changes nothing.
    await t.runner.advance(MIN);
    expect((await onlyRequest(t)).status).toBe('approved');
    expect((await theGrant()).status).toBe('active');
  });

  it('an approval at the deadline itself is refused as expired, and every card says so', async () => {
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    const request = await onlyRequest(t);
    t.clock.set(request.decideBy); // the expiry job has not run yet
    await expect(t.system.service.decide(request.id, person(alice), 'approve')).rejects.toMatchObject({
      code: 'REQUEST_EXPIRED',
    });
    expect((await onlyRequest(t)).status).toBe('expired');
    expect(await t.store.repos.grants.list({})).toEqual([]);
    await t.delivered();
    await eventually(() =>
      expect(collectText(t.fake.message(t.fake.dmChannelFor(alice.id), card.ts)?.blocks)).toMatch(/expired/i),
    );
  });

  it('a reminder whose time passed while the app was down is sent once at start-up if the access is still open', async () => {
    const g = await activeGrant();
    // Down from 10 minutes before the reminder until 2 minutes after it (3 minutes before expiry).
    await t.runner.advance(g.expiresAt!.getTime() - 15 * MIN - t.clock.now().getTime());
    t.clock.set(new Date(g.expiresAt!.getTime() - 3 * MIN));
    await t.restart();
    await t.delivered();
    expect(dms(carol, 'Access ending soon')).toHaveLength(1);
    await t.runner.advance(MIN);
    expect(dms(carol, 'Access ending soon')).toHaveLength(1);
    expect(await t.store.repos.audit.list({ type: 'grant.reminded' })).toHaveLength(1);
  });

  it('a reminder whose access expired while the app was down is not sent: the access is revoked and the holder told it ended', async () => {
    const g = await activeGrant();
    await t.runner.advance(g.expiresAt!.getTime() - 15 * MIN - t.clock.now().getTime());
    t.clock.set(new Date(g.expiresAt!.getTime() + 10 * MIN));
    await t.restart();
    await eventually(async () => expect((await theGrant()).status).toBe('expired'));
    await t.delivered();
    expect(dms(carol, 'Access ending soon')).toHaveLength(0);
    // The notice, and the "Access granted" message edited to say the same; nothing else.
    expect(dms(carol, 'has ended')).toHaveLength(2);
    expect(postedContaining('has ended')).toHaveLength(1);
    expect(await t.store.repos.audit.list({ type: 'grant.reminded' })).toEqual([]);
  });

  it('an extension approved after the access expired is refused, the extension request cancelled and the holder told', async () => {
    const g = await activeGrant();
    await t.runner.advance(g.expiresAt!.getTime() - 5 * MIN - t.clock.now().getTime());
    const extension = await t.system.service.submit({
      requester: person(carol),
      resourceId: 'acme-prod',
      approvers: [alice.email],
      duration: 'PT1H',
      justification: 'A little longer',
      submissionKey: 'view-extension',
      grantId: g.id,
    });
    await t.runner.advance(5 * MIN); // expires meanwhile, undecided
    expect((await theGrant()).status).toBe('expired');
    await expect(t.system.service.decide(extension.id, person(alice), 'approve')).rejects.toMatchObject({
      code: 'GRANT_NOT_ACTIVE',
    });
    const after = await t.store.repos.requests.get(extension.id);
    expect(after?.status).toBe('cancelled');
    expect((await theGrant()).expiresAt).toEqual(g.expiresAt);
    await t.delivered();
    expect(dms(carol, 'The access it would extend has already ended.')).not.toEqual([]);
  });

  it('a clock that jumps forward past the expiry revokes at once, without a late reminder; one that jumps back fires nothing early or twice', async () => {
    const g = await activeGrant();
    // Back by an hour: nothing is due, nothing runs, nothing is sent again.
    const sentBefore = t.fake.callsTo('chat.postMessage').length;
    t.clock.set(new Date(t.clock.now().getTime() - HOUR));
    await t.runner.runDue();
    await t.delivered();
    expect(t.fake.callsTo('chat.postMessage')).toHaveLength(sentBefore);
    expect((await theGrant()).status).toBe('active');

    // Forward past the expiry (a suspended VM resumes): revoked on the next run, no reminder.
    t.clock.set(new Date(g.expiresAt!.getTime() + 2 * HOUR));
    await t.runner.runDue();
    await eventually(async () => expect((await theGrant()).status).toBe('expired'));
    await t.delivered();
    expect(dms(carol, 'Access ending soon')).toHaveLength(0);
    // The notice, and the "Access granted" message edited to say the same; nothing else.
    expect(dms(carol, 'has ended')).toHaveLength(2);
    expect(postedContaining('has ended')).toHaveLength(1);
    const revocations = t.hooks.calls.filter((c) => (c.body as { event: string }).event === 'grant.revoked');
    expect(revocations).toHaveLength(1);
    // The revocation lag is what it was: the access stayed open for as long as the clock was away.
    expect((await theGrant()).endedAt).toEqual(new Date(g.expiresAt!.getTime() + 2 * HOUR));
  });
});
