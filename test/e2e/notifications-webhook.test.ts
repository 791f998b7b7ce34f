/**
 * `notifications: { webhook }` in the policy file: every request and grant event is POSTed to it,
 * signed like the connector webhook, through the outbox (retried, never lost, once per event).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOTIFICATIONS_RECIPIENT } from '../../src/core/notifications.js';
import { click, eventually, requestAccess, waitForDm } from '../support/flows.js';
import { HOOK_SECRET, startTestSystem, TEST_POLICY, type TestSystem, USERS } from '../support/system.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const { alice, carol } = USERS;
const MIN = 60_000;
const HOUR = 60 * MIN;

let t: TestSystem;
let tickets: WebhookReceiver;

beforeEach(async () => {
  // The receiver checks signatures against the app's (manual) clock.
  let now = () => new Date();
  tickets = await startWebhookReceiver({ secret: HOOK_SECRET, now: () => now() });
  t = await startTestSystem({
    policy: `${TEST_POLICY}\nnotifications:\n  webhook: { url: "${tickets.url}", secretEnv: HOOK_SECRET }\n`,
  });
  now = () => t.clock.now();
});

afterEach(async () => {
  await t.close();
  await tickets.close();
});

type Body = {
  id: string;
  type: string;
  resource: { id: string };
  request?: { id: string };
  grant?: { id: string };
};
const bodies = () => tickets.calls.map((c) => c.body as Body);

async function approvedRequest() {
  await requestAccess(t, carol, { approvers: [alice.email] });
  const card = await waitForDm(t, alice, 'Approve');
  await click(t, alice, card, 'jit.request.approve');
  return eventually(async () => {
    const [grant] = await t.store.repos.grants.list({ status: 'active' });
    expect(grant).toBeDefined();
    return grant!;
  });
}

describe('the notifications webhook', () => {
  it('receives every request and grant event once, signed, in order, with a stable id', async () => {
    const grant = await approvedRequest();
    await t.runner.advance(4 * HOUR); // reminder, then expiry and revocation
    await eventually(() =>
      expect(bodies().map((b) => b.type)).toEqual([
        'request.submitted',
        'request.decided',
        'grant.activated',
        'grant.reminder',
        'grant.ended',
      ]),
    );
    await t.delivered();
    expect(tickets.calls.every((c) => c.signatureValid)).toBe(true);
    expect(tickets.calls.map((c) => c.headers['x-jit-idempotency-key'])).toEqual(bodies().map((b) => b.id));
    expect(new Set(bodies().map((b) => b.id)).size).toBe(5);
    expect(bodies()[0]).toMatchObject({
      id: `${grant.requestId}:submitted`,
      resource: { id: 'acme-prod' },
      request: { id: grant.requestId, requester: { email: carol.email }, status: 'pending' },
    });
    expect(bodies()[4]).toMatchObject({
      id: `${grant.id}:ended`,
      grant: { id: grant.id, status: 'expired' },
    });
  });

  it('keeps retrying while the receiver fails, then delivers each event exactly once when it recovers', async () => {
    tickets.setStatus(503);
    await approvedRequest();
    await eventually(() => expect(tickets.calls.length).toBeGreaterThanOrEqual(1));
    // Failing: nothing is lost, nothing overtakes the first event of the request.
    await t.runner.advance(2 * MIN);
    const failing = await t.store.repos.outbox.list({ recipient: NOTIFICATIONS_RECIPIENT });
    expect(failing.map((i) => i.status)).toEqual(['pending', 'pending', 'pending']);
    expect(new Set(bodies().map((b) => b.type))).toEqual(new Set(['request.submitted']));
    expect(tickets.calls.length).toBeGreaterThan(1);

    tickets.setStatus(200);
    await t.runner.advance(10 * MIN);
    await t.delivered();
    const ok = tickets.calls.slice(tickets.calls.length - 3).map((c) => c.body as Body);
    expect(ok.map((b) => b.type)).toEqual(['request.submitted', 'request.decided', 'grant.activated']);
    const sent = await t.store.repos.outbox.list({ recipient: NOTIFICATIONS_RECIPIENT });
    expect(sent.map((i) => i.status)).toEqual(['sent', 'sent', 'sent']);
    // Once recovered, no event goes out twice.
    await t.runner.advance(10 * MIN);
    await t.delivered();
    expect(bodies().filter((b) => b.type === 'grant.activated')).toHaveLength(1);
  });
});
