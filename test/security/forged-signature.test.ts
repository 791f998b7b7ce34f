/**
 * Threat: a request to /slack/events that Slack did not sign (a forged or missing signature).
 * Expected refusal: 401 from the real HTTP server before Bolt runs a listener; nothing opened,
 * stored, decided or sent. The same request correctly signed works, so the refusal is the signature.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../support/fake-slack.js';
import { hasButton, onlyRequest } from '../support/flows.js';
import { USERS } from '../support/system.js';
import { current, filledForm, pendingRequest, quiet, useSystem } from './support.js';

const { alice, carol } = USERS;
const sys = useSystem();

describe('a forged Slack signature', () => {
  it('answers a slash command with a forged signature with 401 and opens nothing', async () => {
    const t = sys();
    const command = { command: '/request-access', text: 'acme-prod', userId: carol.id };
    const forged = await t.slack.slashCommand(command, { signature: `v0=${'0'.repeat(64)}` });
    const missing = await t.slack.slashCommand(command, { signature: '' });
    expect(forged.status).toBe(401);
    expect(missing.status).toBe(401);
    await quiet();
    expect(t.fake.callsTo('views.open')).toHaveLength(0);
    expect(t.fake.callsTo('users.info')).toHaveLength(0);
    // The same command, correctly signed and on time, opens the form.
    expect((await t.slack.slashCommand(command)).status).toBe(200);
    await t.fake.waitFor('views.open');
  });

  it('answers a view submission with a forged signature with 401 and stores no request', async () => {
    const t = sys();
    const view = await filledForm(t, carol);
    const input = {
      userId: carol.id,
      view: view as unknown as JsonObject,
      values: { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Forged' },
    };
    const forged = await t.slack.viewSubmission(input, { signature: `v0=${'f'.repeat(64)}` });
    expect(forged.status).toBe(401);
    await quiet();
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('answers an Approve click with a forged signature with 401 and decides nothing', async () => {
    const t = sys();
    const { cards } = await pendingRequest(t, [alice]);
    const card = cards.get(alice)!;
    const forged = await t.slack.blockAction(
      { userId: alice.id, actionId: 'jit.request.approve', message: card },
      { signature: `v0=${'a'.repeat(64)}` },
    );
    expect(forged.status).toBe(401);
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
    expect(hasButton(current(t, card), 'jit.request.approve')).toBe(true);
  });
});
