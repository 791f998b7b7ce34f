/**
 * Threat: a correctly signed Slack request captured and sent again later (a stale timestamp), or
 * signed for a time in the future so that it stays usable longer (a future timestamp).
 * Expected refusal: 401 outside Slack's five-minute window either way; nothing opened, stored or
 * decided. Inside the window (a clock a few minutes off) the request still works.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../support/fake-slack.js';
import { hasButton, onlyRequest } from '../support/flows.js';
import { USERS } from '../support/system.js';
import { current, filledForm, overFiveMinutesAgo, pendingRequest, quiet, useSystem } from './support.js';

const { alice, carol } = USERS;
const sys = useSystem();

describe('stale timestamps', () => {
  it('answers a slash command dated more than five minutes ago with 401 and opens nothing', async () => {
    const t = sys();
    const command = { command: '/request-access', text: 'acme-prod', userId: carol.id };
    const stale = await t.slack.slashCommand(command, { timestamp: overFiveMinutesAgo() });
    expect(stale.status).toBe(401);
    await quiet();
    expect(t.fake.callsTo('views.open')).toHaveLength(0);
  });

  it('answers a stale view submission with 401 and stores no request', async () => {
    const t = sys();
    const view = await filledForm(t, carol);
    const stale = await t.slack.viewSubmission(
      {
        userId: carol.id,
        view: view as unknown as JsonObject,
        values: { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Late' },
      },
      { timestamp: overFiveMinutesAgo() },
    );
    expect(stale.status).toBe(401);
    await quiet();
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('answers a stale Approve click, signed correctly for its old time, with 401 and decides nothing', async () => {
    const t = sys();
    const { cards } = await pendingRequest(t, [alice]);
    const card = cards.get(alice)!;
    const stale = await t.slack.blockAction(
      { userId: alice.id, actionId: 'jit.request.approve', message: card },
      { timestamp: overFiveMinutesAgo() },
    );
    expect(stale.status).toBe(401);
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
    expect(hasButton(current(t, card), 'jit.request.approve')).toBe(true);
  });
});

describe('future timestamps', () => {
  it('answers a validly signed request dated more than five minutes ahead with 401 and does nothing', async () => {
    const t = sys();
    const { cards } = await pendingRequest(t, [alice]);
    const card = cards.get(alice)!;
    // Signed correctly, but for a time 10 minutes from now: it could be replayed until then.
    const ahead = Math.floor(Date.now() / 1000) + 10 * 60;
    const mark = t.fake.checkpoint();
    const clicked = await t.slack.blockAction(
      { userId: alice.id, actionId: 'jit.request.approve', message: card },
      { timestamp: ahead },
    );
    const command = await t.slack.slashCommand(
      { command: '/request-access', text: 'acme-prod', userId: carol.id },
      { timestamp: ahead },
    );
    expect(clicked.status).toBe(401);
    expect(command.status).toBe(401);
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(t.fake.callsTo('views.open').filter((c) => c.seq >= mark)).toHaveLength(0);
    // Four minutes ahead is within Slack's own tolerance, so clocks that differ a little still work.
    const near = await t.slack.slashCommand(
      { command: '/request-access', text: 'acme-prod', userId: carol.id },
      { timestamp: Math.floor(Date.now() / 1000) + 4 * 60 },
    );
    expect(near.status).toBe(200);
    await t.fake.waitFor('views.open', (c) => c.seq >= mark);
  });
});
