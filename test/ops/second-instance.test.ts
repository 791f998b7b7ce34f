/**
 * Slack's retries landing on another instance (docs/deploy.md, "What makes several instances
 * safe"): two instances of the app, each with its own HTTP server, Bolt app and scheduler, over one
 * store, as two processes behind a load balancer share one database. The original request goes to
 * one and Slack's retry (`X-Slack-Retry-Num`) of the same signed body to the other, at the same
 * moment or later: one request, one set of cards, one decision, one grant, one connector call.
 * The store is the memory store here; test/ops/two-instances.test.ts does the same with two
 * processes on MongoDB where a `mongod` can be had.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  formAction,
  hasButton,
  onlyRequest,
  openForm,
  quickDurationAction,
  submitForm,
  waitForDm,
} from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, carol } = USERS;

let t: TestSystem | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const dmsTo = (sys: TestSystem, user: { id: string }) => sys.fake.messagesIn(sys.fake.dmChannelFor(user.id));

async function twoInstances() {
  t = await startTestSystem();
  const other = await t.secondInstance();
  expect(other.system.port).not.toBe(t.system.port);
  // The same test system, talking to the other instance.
  return { a: t, b: { ...t, slack: other.slack } as TestSystem };
}

describe('Slack retries landing on another instance', () => {
  it('creates one request and one set of cards when the submission and its retries reach different instances', async () => {
    const { a, b } = await twoInstances();
    let view = await openForm(a, carol, 'acme-prod');
    view = await formAction(a, carol, view, quickDurationAction(view, '4 hours'));
    const values = { 'jit.form.approvers': [alice.email, dave.email], 'jit.form.justification': 'Fix it' };
    const answers = await Promise.all([
      submitForm(a, carol, view, values),
      submitForm(b, carol, view, values, { retryNum: 1 }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    await waitForDm(a, alice, 'Approve');
    await waitForDm(a, dave, 'Approve');
    // A later retry, on the other instance again.
    expect((await submitForm(b, carol, view, values, { retryNum: 2 })).status).toBe(200);
    await a.delivered();

    await onlyRequest(a);
    expect(await a.store.repos.audit.list({ type: 'request.created' })).toHaveLength(1);
    for (const approver of [alice, dave]) {
      expect(dmsTo(a, approver).filter((m) => hasButton(m, 'jit.request.approve'))).toHaveLength(1);
    }
    expect(dmsTo(a, carol).filter((m) => hasButton(m, 'jit.request.cancel'))).toHaveLength(1);
  });

  it('decides once, grants once and calls the connector once when a click and its retry reach different instances', async () => {
    const { a, b } = await twoInstances();
    let view = await openForm(a, carol, 'acme-prod');
    view = await formAction(a, carol, view, quickDurationAction(view, '4 hours'));
    await submitForm(a, carol, view, { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Go' });
    const card = await waitForDm(a, alice, 'Approve');
    const press = { userId: alice.id, actionId: 'jit.request.approve', message: card };
    const answers = await Promise.all([
      b.slack.blockAction(press),
      a.slack.blockAction(press, { retryNum: 1, retryReason: 'http_timeout' }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    await waitForDm(a, carol, 'is active until');
    await a.delivered();

    const request = await onlyRequest(a);
    expect(request.status).toBe('approved');
    expect(await a.store.repos.audit.list({ requestId: request.id, type: 'request.approved' })).toHaveLength(
      1,
    );
    expect(await a.store.repos.grants.list({})).toHaveLength(1);
    await eventually(() =>
      expect(a.hooks.calls.map((c) => (c.body as { event: string }).event)).toEqual(['grant.activated']),
    );
    expect(dmsTo(a, carol).filter((m) => m.text.includes('is active'))).toHaveLength(1);
  });
});
