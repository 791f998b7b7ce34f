/**
 * Threat: deciding a request that is no longer open: after its approval deadline (whether or not
 * the expiry job has run yet), after another approver decided (one after the other or at the
 * same moment), or after the requester cancelled it.
 * Expected refusal: decisions are conditional writes ("only while pending and before the
 * deadline"): the late clicker is told privately what happened (expired, who decided and when, in
 * their own time zone), the refusal is audited, and nothing is decided, granted or sent twice.
 */
import { describe, expect, it } from 'vitest';
import { formatTime } from '../../src/domain/views/time.js';
import { click, eventually, hasButton, onlyRequest, waitForDm } from '../support/flows.js';
import { USERS } from '../support/system.js';
import {
  current,
  denyDialogs,
  ephemeralTo,
  pendingRequest,
  quiet,
  refusals,
  useSystem,
  webhookEvents,
} from './support.js';

const { alice, dave, carol } = USERS;
const sys = useSystem();
const HOUR = 3_600_000;

describe('deciding after the deadline', () => {
  it('refuses Approve once the approval window has passed, even before the expiry job has run', async () => {
    const t = sys();
    const { cards } = await pendingRequest(t, [alice]);
    // Time passes without any job running: the store still says pending.
    t.clock.advance(HOUR + 1000);
    expect((await onlyRequest(t)).status).toBe('pending');
    await click(t, alice, cards.get(alice)!, 'jit.request.approve');
    await ephemeralTo(t, alice, 'This request expired before anyone decided.');
    await click(t, alice, cards.get(alice)!, 'jit.request.deny');
    await eventually(async () =>
      expect(await refusals(t, alice.email)).toEqual(['REQUEST_EXPIRED', 'REQUEST_EXPIRED']),
    );
    await quiet();
    expect(['pending', 'expired']).toContain((await onlyRequest(t)).status);
    expect(denyDialogs(t)).toHaveLength(0);
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
  });

  it('refuses Approve on a request the expiry job has expired', async () => {
    const t = sys();
    const { cards } = await pendingRequest(t, [alice]);
    await t.runner.advance(HOUR + 1000);
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('expired'));
    await click(t, alice, cards.get(alice)!, 'jit.request.approve');
    await eventually(async () => expect(await refusals(t, alice.email)).toHaveLength(1));
    await quiet();
    expect((await onlyRequest(t)).status).toBe('expired');
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
  });
});

describe('deciding after another decision', () => {
  it('lets exactly one of two approvers clicking Approve at once decide; the other is told who did', async () => {
    const t = sys();
    const { request, cards } = await pendingRequest(t, [alice, dave]);
    await Promise.all([
      click(t, alice, cards.get(alice)!, 'jit.request.approve'),
      click(t, dave, cards.get(dave)!, 'jit.request.approve'),
    ]);
    const decided = await eventually(async () => {
      const r = await onlyRequest(t);
      expect(r.status).toBe('approved');
      return r;
    });
    const [winner, loser] = decided.decidedBy === alice.email ? [alice, dave] : [dave, alice];
    await ephemeralTo(t, loser, `${winner.realName} already approved this request`);
    await waitForDm(t, carol, 'is active until');
    await quiet();

    expect(await t.store.repos.audit.list({ requestId: request.id, type: 'request.approved' })).toHaveLength(
      1,
    );
    expect(await refusals(t, loser.email)).toEqual(['ALREADY_DECIDED']);
    expect(await t.store.repos.grants.list({})).toHaveLength(1);
    expect(webhookEvents(t)).toEqual(['grant.activated']);
    for (const approver of [alice, dave]) {
      const card = current(t, cards.get(approver)!);
      expect(hasButton(card, 'jit.request.approve')).toBe(false);
      expect(JSON.stringify(card.blocks)).toContain(`Approved by ${winner.realName}`);
    }
  });

  it('says what happened when a decided card is clicked again, in the clicker’s time zone', async () => {
    const t = sys();
    const { cards } = await pendingRequest(t, [alice, dave]);
    await click(t, alice, cards.get(alice)!, 'jit.request.approve');
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('approved'));
    await waitForDm(t, carol, 'is active until');

    // Dave's Slack still shows the old card; he clicks Approve, then Deny.
    await click(t, dave, cards.get(dave)!, 'jit.request.approve');
    const { decidedAt } = await onlyRequest(t);
    await ephemeralTo(
      t,
      dave,
      `Alice Approver already approved this request (${formatTime(decidedAt!, dave.tz)}).`,
    );
    await click(t, dave, cards.get(dave)!, 'jit.request.deny');
    await eventually(() =>
      expect(
        t.fake.ephemeralsTo(dave.id).filter((e) => e.text.includes('already approved this request')),
      ).toHaveLength(2),
    );
    await quiet();
    expect(denyDialogs(t)).toHaveLength(0);
    const request = await onlyRequest(t);
    expect(request.status).toBe('approved');
    expect(request.decidedBy).toBe(alice.email);
    expect(webhookEvents(t)).toEqual(['grant.activated']);
  });

  it('tells a later Approve that the requester cancelled, and grants nothing', async () => {
    const t = sys();
    const { request, cards } = await pendingRequest(t, [alice, dave]);
    const status = await waitForDm(t, carol, 'was sent to');
    await click(t, carol, status, 'jit.request.cancel');
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('cancelled'));
    await eventually(() => {
      for (const approver of [alice, dave]) {
        const card = current(t, cards.get(approver)!);
        expect(JSON.stringify(card.blocks)).toContain('Cancelled at');
        expect(hasButton(card, 'jit.request.approve')).toBe(false);
        expect(hasButton(card, 'jit.request.deny')).toBe(false);
      }
      expect(hasButton(current(t, status), 'jit.request.cancel')).toBe(false);
    });

    await click(t, alice, cards.get(alice)!, 'jit.request.approve');
    const after = await onlyRequest(t);
    await ephemeralTo(
      t,
      alice,
      `Carol Support cancelled this request (${formatTime(after.decidedAt!, alice.tz)}).`,
    );
    await quiet();
    expect(after.status).toBe('cancelled');
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
    const trail = (await t.store.repos.audit.list({ requestId: request.id })).map((e) => e.type);
    expect(trail).toContain('request.cancelled');
    expect(trail).not.toContain('request.approved');
  });
});
