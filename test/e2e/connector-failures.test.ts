/**
 * A webhook connector that fails, end to end: provisioning and revocation are retried with backoff
 * (the test system's: 10 s, 20 s, 40 s …), shown as pending and never as done, reported to the
 * resource's approvers and the admins after 5 failures, and completed once the receiver answers 2xx.
 * A receiver that refuses (a 4xx such as 403) is not retried: the approvers and admins are told at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatTime } from '../../src/domain/views/time.js';
import { collectText } from '../support/fake-slack.js';
import { click, dmContaining, eventually, hasButton, requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, carol, bob, admin } = USERS;
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const START = new Date('2026-11-23T09:00:00.000Z');
/** Delays after failures 1, 2, 3 … in the test system: 10 s doubling. */
const RETRY_OFFSETS = [0, 10, 30, 70, 150, 310].map((s) => s * SEC);

interface HookBody {
  event: string;
  idempotencyKey: string;
  grant: { id: string; startsAt: string; expiresAt: string };
}

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem({ start: START });
});
afterEach(async () => {
  await t.close();
});

const bodies = (event?: string) =>
  t.hooks.calls.map((c) => c.body as HookBody).filter((b) => !event || b.event === event);
/** When each call was made, by the app's clock: the signed X-Jit-Timestamp (seconds). */
const timestampsMs = (event: string) =>
  t.hooks.calls
    .filter((c) => (c.body as HookBody).event === event)
    .map((c) => Number(c.headers['x-jit-timestamp']) * 1000);
const grant = (id: string) => t.store.repos.grants.get(id).then((g) => g!);

/** Bob (support) asks for acme-prod for 4 hours; Alice approves; returns the grant as it then stands. */
async function approveBobsRequest() {
  await requestAccess(t, bob, { approvers: [alice.email, dave.email], duration: '4 hours' });
  const card = await waitForDm(t, alice, 'Approve');
  await waitForDm(t, bob, 'was sent to');
  await click(t, alice, card, 'jit.request.approve');
  const [request] = await eventually(async () => {
    const approved = await t.store.repos.requests.list({ status: 'approved' });
    expect(approved).toHaveLength(1);
    return approved;
  });
  return eventually(async () => {
    const g = await t.store.repos.grants.findByRequestId(request!.id);
    expect(g).not.toBeNull();
    expect(g!.attempts > 0 || g!.status === 'active').toBe(true);
    return g!;
  });
}

describe('a webhook that fails while granting', () => {
  it('leaves the grant provisioning, shown to the holder as pending, and retries with backoff', async () => {
    t.hooks.setStatus(500);
    await t.runner.advance(MIN);
    const approvedAt = t.clock.now().getTime();
    const g = await approveBobsRequest();
    expect(g).toMatchObject({ status: 'provisioning', attempts: 1 });
    expect(g.startsAt).toBeUndefined();
    expect(g.expiresAt).toBeUndefined();
    expect(g.nextAttemptAt).toEqual(new Date(approvedAt + 10 * SEC));

    // The holder is told it is pending, not active, and is offered nothing to end.
    const pending = await waitForDm(t, bob, 'Access pending');
    expect(collectText(pending.blocks)).toContain('access is not set up yet');
    expect(hasButton(pending, 'jit.grant.end')).toBe(false);
    expect(dmContaining(t, bob, 'is active until')).toBeUndefined();

    // Attempts 2 … 5 at +10 s, +30 s, +70 s, +150 s (each delay twice the one before).
    await t.runner.advance(150 * SEC);
    expect(timestampsMs('grant.activated')).toEqual(RETRY_OFFSETS.slice(0, 5).map((o) => approvedAt + o));
    expect(await grant(g.id)).toMatchObject({
      status: 'provisioning',
      attempts: 5,
      nextAttemptAt: new Date(approvedAt + 310 * SEC),
    });
    expect(t.hooks.calls.every((c) => c.signatureValid)).toBe(true);
    // Still pending, and said only once.
    expect(dmContaining(t, bob, 'is active until')).toBeUndefined();
    expect(
      t.fake.messagesIn(t.fake.dmChannelFor(bob.id)).filter((m) => m.text.includes('being set up')),
    ).toHaveLength(1);
  });

  it('tells the resource’s approvers and the admins after the 5th failure that it keeps failing, and only then', async () => {
    t.hooks.setStatus(500);
    const approvedAt = t.clock.now().getTime();
    const g = await approveBobsRequest();

    await t.runner.advance(150 * SEC - 1); // just before attempt 5
    expect(bodies('grant.activated')).toHaveLength(4);
    for (const approver of [alice, dave, carol, admin]) {
      expect(dmContaining(t, approver, 'keeps failing')).toBeUndefined();
    }

    await t.runner.advance(1);
    expect(bodies('grant.activated')).toHaveLength(5);
    // The approvers, who granted it, and the admin, who can end it by hand.
    for (const approver of [alice, dave, carol, admin]) {
      const report = await waitForDm(t, approver, 'keeps failing');
      const text = collectText(report.blocks);
      expect(text).toContain(
        'Granting access to Acme Corp — production tenant for Bob Support (bob@example.com) keeps failing',
      );
      expect(text).toContain(`next attempt ${formatTime(new Date(approvedAt + 310 * SEC), approver.tz)}`);
      expect(text).toContain('answered 500');
      expect(text).toContain(g.id);
    }
    // The holder is not an approver of it and gets no report.
    expect(dmContaining(t, bob, 'keeps failing')).toBeUndefined();

    // Further failures do not repeat the report.
    await t.runner.advance(10 * MIN);
    expect(bodies('grant.activated').length).toBeGreaterThan(6);
    for (const approver of [alice, dave, carol, admin]) {
      const reports = t.fake
        .messagesIn(t.fake.dmChannelFor(approver.id))
        .filter((m) => m.text.includes('keeps failing'));
      expect(reports).toHaveLength(1);
    }
    const trail = (await t.store.repos.audit.list({ grantId: g.id })).map((e) => e.type);
    expect(trail.filter((e) => e === 'grant.provisioning_failed').length).toBe(
      bodies('grant.activated').length,
    );
  });

  it('activates the grant once the receiver recovers, counting its time from that confirmation, with one idempotency key throughout', async () => {
    t.hooks.setStatus(500);
    await t.runner.advance(MIN);
    const approvedAt = t.clock.now().getTime();
    const g = await approveBobsRequest();
    await t.runner.advance(150 * SEC); // five failures
    expect(bodies('grant.activated')).toHaveLength(5);

    t.hooks.setStatus(200);
    await t.runner.advance(160 * SEC - 1);
    expect((await grant(g.id)).status).toBe('provisioning');
    await t.runner.advance(1);
    const confirmedAt = approvedAt + 310 * SEC;
    expect(timestampsMs('grant.activated')).toEqual(RETRY_OFFSETS.map((o) => approvedAt + o));

    const active = await grant(g.id);
    expect(active).toMatchObject({ status: 'active', attempts: 0 });
    expect(active.startsAt).toEqual(new Date(confirmedAt));
    expect(active.expiresAt).toEqual(new Date(confirmedAt + 4 * HOUR));
    expect(active.expiresAt).not.toEqual(new Date(approvedAt + 4 * HOUR));
    expect(active.nextAttemptAt).toBeUndefined();
    expect(active.lastError).toBeUndefined();

    // Every attempt carried the same idempotency key; the one that succeeded carries the real times.
    const sent = bodies('grant.activated');
    expect(new Set(sent.map((b) => b.idempotencyKey))).toEqual(new Set([`${g.id}:activated`]));
    expect(t.hooks.calls.map((c) => c.headers['x-jit-idempotency-key'])).toEqual(
      sent.map(() => `${g.id}:activated`),
    );
    expect(sent.at(-1)?.grant).toMatchObject({
      startsAt: new Date(confirmedAt).toISOString(),
      expiresAt: new Date(confirmedAt + 4 * HOUR).toISOString(),
    });

    // The holder now sees it active until the end counted from the confirmation.
    const message = await waitForDm(t, bob, 'is active until');
    expect(collectText(message.blocks)).toContain(formatTime(active.expiresAt!, bob.tz));
    expect(hasButton(message, 'jit.grant.end')).toBe(true);

    // No more attempts; the reminder and the expiry follow the confirmed times.
    await t.runner.advance(4 * HOUR - 5 * MIN - 1);
    expect(bodies('grant.activated')).toHaveLength(6);
    expect(dmContaining(t, bob, 'Access ending soon')).toBeUndefined();
    await t.runner.advance(1);
    await waitForDm(t, bob, 'Access ending soon');
    await t.runner.advance(5 * MIN);
    expect((await grant(g.id)).status).toBe('expired');
    expect(bodies('grant.revoked')).toHaveLength(1);
  });
});

describe('a webhook that fails while revoking', () => {
  it('keeps the grant revoking, never shown as ended, retries, and tells the holder only once the receiver confirms', async () => {
    const g = await approveBobsRequest();
    expect(g.status).toBe('active');
    await waitForDm(t, bob, 'is active until');
    await t.runner.advance(4 * HOUR - 5 * MIN);
    const reminder = await waitForDm(t, bob, 'Access ending soon');

    t.hooks.setStatus(503);
    await t.runner.advance(5 * MIN);
    const expiresAt = g.expiresAt!.getTime();
    expect(await grant(g.id)).toMatchObject({
      status: 'revoking',
      endReason: 'expired',
      attempts: 1,
      nextAttemptAt: new Date(expiresAt + 10 * SEC),
    });
    expect(timestampsMs('grant.revoked')).toEqual([expiresAt]);
    expect(dmContaining(t, bob, 'has ended')).toBeUndefined();

    // Retried at +10 s, +30 s, +70 s: still revoking, still not shown as ended anywhere.
    await t.runner.advance(70 * SEC);
    expect(timestampsMs('grant.revoked')).toEqual([0, 10, 30, 70].map((s) => expiresAt + s * SEC));
    expect((await grant(g.id)).status).toBe('revoking');
    expect(dmContaining(t, bob, 'has ended')).toBeUndefined();
    const card = t.fake.message(t.fake.dmChannelFor(bob.id), reminder.ts);
    expect(collectText(card?.blocks)).not.toContain('has ended');

    // The receiver recovers; the next attempt (+150 s) ends the grant, and only now is Bob told.
    t.hooks.setStatus(204);
    await t.runner.advance(80 * SEC - 1);
    expect((await grant(g.id)).status).toBe('revoking');
    await t.runner.advance(1);
    const endedAt = expiresAt + 150 * SEC;
    const ended = await grant(g.id);
    expect(ended).toMatchObject({ status: 'expired', endedAt: new Date(endedAt), attempts: 0 });
    expect(ended.nextAttemptAt).toBeUndefined();
    const revocations = bodies('grant.revoked');
    expect(revocations).toHaveLength(5);
    expect(new Set(revocations.map((b) => b.idempotencyKey))).toEqual(new Set([`${g.id}:revoked`]));

    const told = await waitForDm(t, bob, 'has ended');
    expect(collectText(told.blocks)).toContain(`It expired at ${formatTime(new Date(endedAt), bob.tz)}.`);
    await eventually(() =>
      expect(collectText(t.fake.message(t.fake.dmChannelFor(bob.id), reminder.ts)?.blocks)).toContain(
        'has ended',
      ),
    );

    // Nothing further is attempted.
    await t.runner.advance(HOUR);
    expect(bodies('grant.revoked')).toHaveLength(5);
    const trail = (await t.store.repos.audit.list({ grantId: g.id })).map((e) => e.type);
    expect(trail.filter((e) => e === 'grant.revocation_failed')).toHaveLength(4);
    expect(trail.filter((e) => e === 'grant.expired')).toHaveLength(1);
  });

  it('tells the approvers and the admins once when removing access keeps failing, while the holder is not told it ended', async () => {
    const g = await approveBobsRequest();
    await waitForDm(t, bob, 'is active until');
    t.hooks.setStatus(503);
    await t.runner.advance(4 * HOUR); // expiry: the first revocation fails
    await t.runner.advance(150 * SEC - 1); // just before attempt 5
    expect(bodies('grant.revoked')).toHaveLength(4);
    for (const person of [alice, dave, carol, admin]) {
      expect(dmContaining(t, person, 'keeps failing')).toBeUndefined();
    }
    await t.runner.advance(1);
    expect(bodies('grant.revoked')).toHaveLength(5);
    for (const person of [alice, dave, carol, admin]) {
      const report = await waitForDm(t, person, 'keeps failing');
      expect(collectText(report.blocks)).toContain(
        'Removing access to Acme Corp — production tenant for Bob Support (bob@example.com) keeps failing',
      );
    }
    expect((await grant(g.id)).status).toBe('revoking');
    expect(dmContaining(t, bob, 'has ended')).toBeUndefined();
    // More failures, no more reports; then the receiver answers and the access ends once.
    await t.runner.advance(10 * MIN);
    t.hooks.setStatus(200);
    await t.runner.advance(15 * MIN);
    await waitForDm(t, bob, 'has ended');
    expect((await grant(g.id)).status).toBe('expired');
    for (const person of [alice, dave, carol, admin]) {
      const reports = t.fake
        .messagesIn(t.fake.dmChannelFor(person.id))
        .filter((m) => m.text.includes('keeps failing'));
      expect(reports).toHaveLength(1);
    }
  });

  it('keeps an early end pending while the receiver fails, and completes it when the receiver recovers', async () => {
    const g = await approveBobsRequest();
    const active = await waitForDm(t, bob, 'is active until');
    t.hooks.setStatus(500);
    await click(t, bob, active, 'jit.grant.end');
    await eventually(async () =>
      expect(await grant(g.id)).toMatchObject({ status: 'revoking', attempts: 1 }),
    );
    expect(dmContaining(t, bob, 'You ended it')).toBeUndefined();
    // The holder sees the removal as pending, not done.
    await waitForDm(t, bob, 'has not confirmed the removal yet');

    await t.runner.advance(10 * SEC);
    expect((await grant(g.id)).status).toBe('revoking');
    t.hooks.setStatus(200);
    await t.runner.advance(20 * SEC);
    expect(await grant(g.id)).toMatchObject({ status: 'revoked', endReason: 'ended-by-holder' });
    await waitForDm(t, bob, 'You ended it');
    expect(bodies('grant.revoked')).toHaveLength(3);

    // Its original expiry passes without another revocation.
    await t.runner.advance(5 * HOUR);
    expect(bodies('grant.revoked')).toHaveLength(3);
  });
});

describe('a webhook that refuses (403)', () => {
  it('is called once, never retried (not even by the sweep), reported to the approvers and admins at once, and the grant stays pending until an admin ends it', async () => {
    t.hooks.setStatus(403);
    const g = await approveBobsRequest();
    expect(g).toMatchObject({ status: 'provisioning', attempts: 1 });
    expect(g.nextAttemptAt).toBeUndefined();

    // The approvers and the admin are told at once, without waiting for 5 failures.
    for (const approver of [alice, dave, carol, admin]) {
      const report = await waitForDm(t, approver, 'is not retried');
      const text = collectText(report.blocks);
      expect(text).toContain(
        'Granting access to Acme Corp — production tenant for Bob Support (bob@example.com) failed and is not retried automatically.',
      );
      expect(text).toContain('answered 403');
      expect(text).not.toContain('next attempt');
    }
    // The holder sees it pending, and why it is not moving.
    const pending = await waitForDm(t, bob, 'Access pending');
    expect(collectText(pending.blocks)).toContain('refused it, so it is not retried automatically');
    expect(dmContaining(t, bob, 'is active until')).toBeUndefined();

    // An hour of sweeps later: still one call, still provisioning, reported once.
    await t.runner.advance(HOUR);
    expect(bodies('grant.activated')).toHaveLength(1);
    expect((await grant(g.id)).status).toBe('provisioning');
    for (const approver of [alice, dave, carol, admin]) {
      const reports = t.fake
        .messagesIn(t.fake.dmChannelFor(approver.id))
        .filter((m) => m.text.includes('is not retried'));
      expect(reports).toHaveLength(1);
    }
    const failures = await t.store.repos.audit.list({ grantId: g.id, type: 'grant.provisioning_failed' });
    expect(failures.map((e) => e.details?.willRetry)).toEqual([false]);

    // The receiver is fixed; an admin ends the grant, which revokes whatever may have been applied.
    t.hooks.setStatus(200);
    await t.system.service.endAccess(g.id, { email: admin.email, name: admin.realName });
    await t.runner.runDue();
    expect(await grant(g.id)).toMatchObject({ status: 'revoked', endReason: 'revoked-by-admin' });
    expect(bodies('grant.revoked')).toHaveLength(1);
  });
});

describe('retries lost in a restart', () => {
  it('are picked up on start-up, so a pending grant is provisioned and a pending revocation completed', async () => {
    t.hooks.setStatus(500);
    const g = await approveBobsRequest();
    expect(g.status).toBe('provisioning');
    await waitForDm(t, bob, 'Access pending');

    // Down for a minute; the receiver recovers meanwhile; the new scheduler knows of no retry.
    t.clock.advance(MIN);
    t.hooks.setStatus(200);
    await t.restart();
    const restartedAt = t.clock.now();
    const active = await grant(g.id);
    expect(active).toMatchObject({ status: 'active', startsAt: restartedAt });
    expect(active.expiresAt).toEqual(new Date(restartedAt.getTime() + 4 * HOUR));
    expect(bodies('grant.activated')).toHaveLength(2);
    await waitForDm(t, bob, 'is active until');
    // Messages and home refreshes aside, the grant's own timers are back.
    const timers = t.runner.pending().filter((j) => j.name !== 'outbox.deliver' && j.name !== 'home.refresh');
    expect(timers.map((j) => j.name)).toEqual(['grant.remind', 'grant.expire']);

    // Revocation fails at expiry; the app goes down before the retry; on start-up it completes.
    t.hooks.setStatus(500);
    await t.runner.advance(4 * HOUR);
    expect((await grant(g.id)).status).toBe('revoking');
    t.clock.advance(5 * MIN);
    t.hooks.setStatus(200);
    await t.restart();
    expect(await grant(g.id)).toMatchObject({ status: 'expired', endedAt: t.clock.now() });
    expect(bodies('grant.revoked')).toHaveLength(2);
    await waitForDm(t, bob, 'has ended');
  });
});
