/**
 * Threat: the same signed body delivered twice or more, inside the five-minute window: an attacker
 * who captured it, or Slack's own retries (`X-Slack-Retry-Num`), possibly at the same moment.
 * What a replay gets (documented in docs/security.md): it is idempotent. A replayed submission
 * returns the request the first one created (its submission key is the view id); a replayed click
 * finds the request decided and is told so. Nothing happens twice: one request, one set of cards,
 * one decision, one grant, one connector call.
 */
import { describe, expect, it } from 'vitest';
import { click, eventually, hasButton, onlyRequest, submitForm, waitForDm } from '../support/flows.js';
import { USERS } from '../support/system.js';
import {
  dmsTo,
  ephemeralTo,
  filledForm,
  pendingRequest,
  quiet,
  useSystem,
  webhookEvents,
} from './support.js';

const { alice, dave, carol } = USERS;
const sys = useSystem();

describe('replays and Slack retries', () => {
  it('creates one request and one set of approver cards when a view submission is replayed and retried', async () => {
    const t = sys();
    const view = await filledForm(t, carol);
    const values = { 'jit.form.approvers': [alice.email, dave.email], 'jit.form.justification': 'Fix it' };
    const first = await submitForm(t, carol, view, values);
    expect(first.status).toBe(200);
    await waitForDm(t, alice, 'Approve');
    const replayed = await submitForm(t, carol, view, values);
    const retried = await submitForm(t, carol, view, values, { retryNum: 1 });
    expect([replayed.status, retried.status]).toEqual([200, 200]);
    await quiet();

    await onlyRequest(t);
    expect(await t.store.repos.audit.list({ type: 'request.created' })).toHaveLength(1);
    for (const approver of [alice, dave]) {
      expect(dmsTo(t, approver).filter((m) => hasButton(m, 'jit.request.approve'))).toHaveLength(1);
    }
    expect(dmsTo(t, carol).filter((m) => hasButton(m, 'jit.request.cancel'))).toHaveLength(1);
  });

  it('creates one request when the original submission and Slack’s retries arrive at the same time', async () => {
    const t = sys();
    const view = await filledForm(t, carol);
    const values = { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Fix it' };
    const answers = await Promise.all([
      submitForm(t, carol, view, values),
      submitForm(t, carol, view, values, { retryNum: 1 }),
      submitForm(t, carol, view, values, { retryNum: 2 }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await waitForDm(t, alice, 'Approve');
    await quiet();
    await onlyRequest(t);
    expect(dmsTo(t, alice).filter((m) => hasButton(m, 'jit.request.approve'))).toHaveLength(1);
    expect(dmsTo(t, carol).filter((m) => hasButton(m, 'jit.request.cancel'))).toHaveLength(1);
  });

  it('makes one decision, one grant and one grant.activated call when an Approve click is replayed', async () => {
    const t = sys();
    const { request, cards } = await pendingRequest(t, [alice, dave]);
    const card = cards.get(alice)!;
    await click(t, alice, card, 'jit.request.approve');
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('approved'));
    await click(t, alice, card, 'jit.request.approve');
    const retry = await t.slack.blockAction(
      { userId: alice.id, actionId: 'jit.request.approve', message: card },
      { retryNum: 1, retryReason: 'http_timeout' },
    );
    expect(retry.status).toBe(200);
    await waitForDm(t, carol, 'is active until');
    await quiet();

    expect(await t.store.repos.audit.list({ requestId: request.id, type: 'request.approved' })).toHaveLength(
      1,
    );
    expect(await t.store.repos.grants.list({})).toHaveLength(1);
    expect(webhookEvents(t)).toEqual(['grant.activated']);
    expect(dmsTo(t, carol).filter((m) => m.text.includes('is active'))).toHaveLength(1);
    // The replays are told what happened instead of deciding again.
    await ephemeralTo(t, alice, 'Alice Approver already approved this request');
  });
});
