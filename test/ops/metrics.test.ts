/**
 * `GET /metrics` after real flows: the counters move where things happen (submissions, decisions,
 * refusals, connector failures, revocations) and the levels (grants, outbox, retries) are read from
 * the store when scraped.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { click, eventually, onlyRequest, requestAccess, waitForDm } from '../support/flows.js';
import { sample, scrape } from '../support/metrics.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, carol, erin } = USERS;
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem({ start: new Date('2026-11-23T09:00:00.000Z') });
});
afterEach(async () => {
  await t.close();
});

const metrics = () => scrape(t.system.port);

describe('metrics at GET /metrics', () => {
  it('count a request, a refused request, its approval with its latency, a refused decision, connector failures, and the revocation lag', async () => {
    const before = await metrics();
    expect(sample(before, 'jit_requests_total', { outcome: 'submitted' })).toBe(0);
    expect(sample(before, 'jit_requests_total', { outcome: 'refused' })).toBe(0);
    expect(sample(before, 'jit_grants', { status: 'active' })).toBe(0);

    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    const request = await onlyRequest(t);
    let text = await metrics();
    expect(sample(text, 'jit_requests_total', { outcome: 'submitted' })).toBe(1);

    // Someone who is not an approver tries to decide: refused, and counted as such.
    await expect(
      t.system.service.decide(request.id, { email: erin.email, name: erin.realName }, 'approve'),
    ).rejects.toMatchObject({ code: 'NOT_AN_APPROVER' });
    // Someone who may not request acme-prod (only the support group may) asks for it: refused, counted.
    await expect(
      t.system.service.submit({
        requester: { email: erin.email, name: erin.realName },
        resourceId: 'acme-prod',
        approvers: [alice.email],
        duration: 'PT4H',
        justification: 'Let me in',
        submissionKey: 'metrics-refused-request',
      }),
    ).rejects.toMatchObject({ code: 'NOT_ALLOWED_TO_REQUEST' });
    expect(sample(await metrics(), 'jit_requests_total', { outcome: 'refused' })).toBe(1);

    // Alice approves 90 s after the submission, while the connector answers 500.
    t.hooks.setStatus(500);
    t.clock.advance(90 * SEC);
    await click(t, alice, card, 'jit.request.approve');
    await eventually(async () =>
      expect((await t.store.repos.grants.findByRequestId(request.id))?.attempts).toBe(1),
    );
    text = await metrics();
    expect(sample(text, 'jit_decisions_total', { outcome: 'approved' })).toBe(1);
    expect(sample(text, 'jit_decisions_total', { outcome: 'refused' })).toBe(1);
    expect(sample(text, 'jit_decision_latency_seconds_count', { outcome: 'approved' })).toBe(1);
    expect(sample(text, 'jit_decision_latency_seconds_sum', { outcome: 'approved' })).toBe(90);
    expect(sample(text, 'jit_decision_latency_seconds_bucket', { outcome: 'approved', le: '60' })).toBe(0);
    expect(sample(text, 'jit_decision_latency_seconds_bucket', { outcome: 'approved', le: '300' })).toBe(1);
    expect(
      sample(text, 'jit_connector_failures_total', {
        connector: 'webhook',
        resource: 'acme-prod',
        operation: 'provision',
      }),
    ).toBe(1);
    expect(sample(text, 'jit_grants', { status: 'provisioning' })).toBe(1);
    expect(sample(text, 'jit_pending_retries', { kind: 'connector' })).toBe(1);

    // The connector recovers: the grant is active and nothing waits for a retry.
    t.hooks.setStatus(200);
    await t.runner.advance(10 * SEC);
    await waitForDm(t, carol, 'is active until');
    text = await metrics();
    expect(sample(text, 'jit_grants', { status: 'provisioning' })).toBe(0);
    expect(sample(text, 'jit_grants', { status: 'active' })).toBe(1);
    expect(sample(text, 'jit_pending_retries', { kind: 'connector' })).toBe(0);

    // Expiry: revoked at its time, so the lag is 0 s and the grant is no longer counted.
    await t.runner.advance(4 * HOUR);
    await eventually(async () =>
      expect((await t.store.repos.grants.findByRequestId(request.id))?.status).toBe('expired'),
    );
    text = await metrics();
    expect(sample(text, 'jit_grants', { status: 'active' })).toBe(0);
    expect(sample(text, 'jit_revocation_lag_seconds_count')).toBe(1);
    expect(sample(text, 'jit_revocation_lag_seconds_sum')).toBe(0);
  });

  it('count expired, cancelled and denied requests, and the revocation lag of a revocation that had to be retried', async () => {
    await requestAccess(t, carol, { approvers: [alice.email] });
    await waitForDm(t, alice, 'Approve');
    await t.runner.advance(HOUR); // the approval window (PT1H) passes
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('expired'));
    expect(sample(await metrics(), 'jit_decisions_total', { outcome: 'expired' })).toBe(1);

    await requestAccess(t, carol, { approvers: [alice.email] });
    const [pending] = await t.store.repos.requests.list({ status: 'pending' });
    await t.system.service.cancel(pending!.id, { email: carol.email, name: carol.realName });
    expect(sample(await metrics(), 'jit_decisions_total', { outcome: 'cancelled' })).toBe(1);

    await requestAccess(t, carol, { approvers: [alice.email] });
    const [toDeny] = await t.store.repos.requests.list({ status: 'pending' });
    await t.system.service.decide(toDeny!.id, { email: alice.email, name: alice.realName }, 'deny');
    const denied = await metrics();
    expect(sample(denied, 'jit_decisions_total', { outcome: 'denied' })).toBe(1);
    expect(sample(denied, 'jit_decision_latency_seconds_count', { outcome: 'denied' })).toBe(1);

    // Auto-approved (staging-db), then revoked 10 s late because the connector failed at expiry.
    await requestAccess(t, carol, { resource: 'staging-db', duration: '1 hour' });
    await waitForDm(t, carol, 'is active until');
    expect(sample(await metrics(), 'jit_requests_total', { outcome: 'auto_approved' })).toBe(1);
    t.hooks.setStatus(503);
    await t.runner.advance(HOUR);
    const text = await metrics();
    expect(sample(text, 'jit_grants', { status: 'revoking' })).toBe(1);
    expect(
      sample(text, 'jit_connector_failures_total', {
        connector: 'webhook',
        resource: 'staging-db',
        operation: 'revoke',
      }),
    ).toBe(1);
    t.hooks.setStatus(200);
    await t.runner.advance(10 * SEC);
    await eventually(async () => expect(sample(await metrics(), 'jit_revocation_lag_seconds_sum')).toBe(10));
  });

  it('show the outbox depth, the age of its oldest pending message and the messages waiting for a retry', async () => {
    t.fake.setOutage({ error: 'service_unavailable', status: 503, methods: ['chat.postMessage'] });
    await requestAccess(t, carol, { approvers: [alice.email] });
    await eventually(async () =>
      expect(sample(await metrics(), 'jit_pending_retries', { kind: 'message' })).toBe(2),
    );
    t.clock.advance(45 * SEC);
    let text = await metrics();
    expect(sample(text, 'jit_outbox_messages', { status: 'pending' })).toBe(2);
    expect(sample(text, 'jit_outbox_oldest_pending_age_seconds')).toBe(45);

    t.fake.setOutage(null);
    await t.runner.advance(MIN);
    await t.delivered();
    text = await metrics();
    expect(sample(text, 'jit_outbox_messages', { status: 'pending' })).toBe(0);
    expect(sample(text, 'jit_outbox_oldest_pending_age_seconds')).toBe(0);
    expect(sample(text, 'jit_pending_retries', { kind: 'message' })).toBe(0);
  });
});
