/**
 * Teams throttling through the outbox: the fake Bot Connector answers 429 (with Retry-After), 412,
 * 502 or 504 on demand; the card is not lost but retried, no sooner than Retry-After says, and goes
 * out once Teams accepts it again. The edit after a decision is retried the same way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ActionId } from '../../src/domain/views/model.js';
import { readActivity } from '../chat/teams-markup.js';
import { eventually } from '../support/flows.js';
import { pressButton } from '../support/teams-flows.js';
import { startTeamsSystem, type TeamsTestSystem, teamsUser } from '../support/teams-system.js';

const TARA = teamsUser('tara', 'Tara Requester');
const TINA = teamsUser('tina', 'Tina Approver');
const POLICY = `
resources:
  - id: teams-box
    name: Teams box
    approvers: [tina@example.com]
    connector: { type: log }
`;

let s: TeamsTestSystem | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function submit(sys: TeamsTestSystem) {
  return sys.submit({
    requester: 'tara@example.com',
    resourceId: 'teams-box',
    approvers: ['tina@example.com'],
    duration: 'PT4H',
    justification: 'Investigate ticket 42',
  });
}

async function cardItem(sys: TeamsTestSystem, id: string, mode: 'send' | 'update' = 'send') {
  const items = await sys.t.store.repos.outbox.list({ subjectId: id, limit: 100 });
  const item = items.find(
    (i) => i.recipient === 'tina@example.com' && i.purpose === 'approval-card' && i.mode === mode,
  );
  if (!item) throw new Error('no approval card in the outbox');
  return item;
}

describe('Teams throttling and transient failures, through the outbox', () => {
  it('waits as long as a 429’s Retry-After says, then delivers the card', async () => {
    s = await startTeamsSystem({ users: [TARA, TINA], policy: POLICY });
    const sys = s;
    sys.connector.setFault({ status: 429, retryAfterSec: 90, operations: ['send'] });
    const before = sys.t.clock.now().getTime();
    const id = await submit(sys);
    await sys.t.delivered();
    const waiting = await cardItem(sys, id);
    expect(waiting).toMatchObject({ status: 'pending', attempts: 1 });
    expect(waiting.lastError).toContain('429');
    expect(waiting.nextAttemptAt.getTime() - before).toBeGreaterThanOrEqual(90_000);
    expect(sys.chat('tina@example.com')).toHaveLength(0);

    sys.connector.setFault(null);
    await sys.t.runner.advance(60_000);
    await sys.t.delivered();
    expect(sys.chat('tina@example.com')).toHaveLength(0);
    await sys.t.runner.advance(31_000);
    await sys.t.delivered();
    expect((await cardItem(sys, id)).status).toBe('sent');
    expect(readActivity(sys.chat('tina@example.com')[0]?.activity ?? {}).buttons).toEqual([
      'Approve',
      'Deny',
    ]);
  });

  for (const status of [412, 502, 504]) {
    it(`retries a ${status} and delivers once Teams answers again`, async () => {
      s = await startTeamsSystem({ users: [TARA, TINA], policy: POLICY });
      const sys = s;
      sys.connector.setFault({ status, operations: ['send'] });
      const id = await submit(sys);
      await sys.t.delivered();
      const waiting = await cardItem(sys, id);
      expect(waiting.status).toBe('pending');
      expect(waiting.lastError).toContain(String(status));
      sys.connector.setFault(null);
      await sys.t.runner.advance(10 * 60_000);
      await sys.t.delivered();
      expect((await cardItem(sys, id)).status).toBe('sent');
      expect(sys.chat('tina@example.com')).toHaveLength(1);
    });
  }

  it('retries the in-place edit after a decision when Teams throttles it, while the click is answered at once', async () => {
    s = await startTeamsSystem({ users: [TARA, TINA], policy: POLICY });
    const sys = s;
    const id = await submit(sys);
    const card = await sys.recorded(id, 'approval-card', 'tina@example.com');
    sys.connector.setFault({ status: 429, retryAfterSec: 5, operations: ['update'] });
    const { answer } = await pressButton(sys.connector, sys.botUrl, TINA.id, card, ActionId.approve);
    // The click itself is answered at once, whatever Teams says to the edits.
    expect(answer.kind).toBe('card');
    await sys.t.delivered();
    expect((await cardItem(sys, id, 'update')).status).toBe('pending');
    sys.connector.setFault(null);
    await sys.t.runner.advance(10 * 60_000);
    await sys.t.delivered();
    await eventually(() =>
      expect(
        readActivity(sys.connector.activity(card.conversationId, card.id)?.activity ?? {}).buttons,
      ).toEqual([]),
    );
  });
});
