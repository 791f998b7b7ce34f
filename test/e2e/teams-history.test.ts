/**
 * A resource's access history in Teams (issue 7), through the real CloudAdapter and the fake Bot
 * Connector: the dashboard filtered to one resource offers "Access history", a grant's details offer
 * it to those who may see it, "Older entries" pages in place, Back returns to the dashboard; the
 * holder is not offered it and a forged press is refused.
 */
import { afterEach, expect, it } from 'vitest';
import { FilterInput } from '../../src/bot/teams/home-card.js';
import { adaptiveCardProblems } from '../support/adaptive-cards.js';
import { eventually } from '../support/flows.js';
import { type Card, elementsOf, TeamsChat, textsOf } from '../support/teams-client.js';
import { startTeamsSystem, type TeamsTestSystem, teamsUser } from '../support/teams-system.js';

const ADA = teamsUser('ada', 'Ada Admin', 'Europe/Oslo');
const HAL = teamsUser('hal', 'Hal Holder', 'America/Chicago');
const AMY = teamsUser('amy', 'Amy Approver', 'Europe/Paris');

const POLICY = `
defaults:
  approvalWindow: PT1H
  durations: [PT4H, P1D]
admins: [ada@example.com]
resources:
  - id: sandbox
    name: Sandbox
    approvers: [amy@example.com]
    policy: { approval: auto }
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
`;

let s: TeamsTestSystem | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** The Action.Execute that carries the neutral action `act`. */
function pressable(card: Card, act: string) {
  const found = elementsOf(card).find(
    (e) => e.type === 'Action.Execute' && (e.data as { act?: string } | undefined)?.act === act,
  );
  return found as { verb: string; data: Record<string, unknown> } | undefined;
}

it('shows the history from the dashboard and from Details, pages in place, and keeps it from the holder', async () => {
  s = await startTeamsSystem({
    users: [ADA, HAL, AMY],
    policy: POLICY,
    start: new Date('2026-12-03T09:00:00Z'),
  });
  const sys = s;
  await sys.submit({
    requester: HAL.email!,
    resourceId: 'sandbox',
    approvers: ['amy@example.com'],
    duration: 'PT4H',
    justification: 'Investigate the incident',
  });
  const grant = await eventually(async () => {
    const [g] = await sys.t.store.repos.grants.list({ status: 'active', resourceId: 'sandbox' });
    if (!g) throw new Error('no active grant yet');
    return g;
  });
  for (let i = 0; i < 26; i++) {
    // Through the runner, so jobs falling due meanwhile (the home refreshes planned 2 s ahead) run
    // as they would in real time; moving the clock by itself left them due with nothing to run them.
    await sys.t.runner.advance(1_000);
    await sys.t.system.service.recordAccessUse(
      { email: HAL.email!, resourceId: 'sandbox', at: sys.t.clock.now() },
      'api',
    );
  }
  await sys.t.delivered();

  const ada = new TeamsChat(sys.connector, sys.botUrl, ADA);
  const { id, card } = await ada.open('dashboard');
  expect(pressable(card, 'jit.resource.history')).toBeUndefined();
  let res = await ada.press(id, 'Apply filters', { [FilterInput.resource]: 'resource:sandbox' });
  const open = pressable(res.card as Card, 'jit.resource.history');
  expect(open).toBeDefined();
  res = await ada.execute(id, open!.verb, open!.data);
  let shown = res.card as Card;
  expect(adaptiveCardProblems(shown)).toEqual([]);
  expect(textsOf(shown)[0]).toBe('Access history');
  const lines = textsOf(shown).join('\n');
  expect(lines.match(/Hal Holder \(hal@example\.com\): used the access/g)).toHaveLength(25);
  expect(lines).not.toContain('(hal@example.com): access started');

  const older = pressable(shown, 'jit.resource.history');
  res = await ada.execute(id, older!.verb, older!.data);
  shown = res.card as Card;
  const rest = textsOf(shown).join('\n');
  expect(rest.match(/used the access/g)).toHaveLength(1);
  expect(rest).toContain('Hal Holder (hal@example.com): access started');
  expect(pressable(shown, 'jit.resource.history')).toBeUndefined();
  res = await ada.press(id, 'Back', {}, shown);
  expect(textsOf(res.card as Card)[0]).toBe('Grants dashboard');
  // A grant's details offer the history of its resource too.
  const details = pressable(res.card as Card, 'jit.grant.details');
  res = await ada.execute(id, details!.verb, details!.data);
  expect(textsOf(res.card as Card).join('\n')).toContain('Requested by Hal Holder');
  const fromDetails = pressable(res.card as Card, 'jit.resource.history');
  res = await ada.execute(id, fromDetails!.verb, fromDetails!.data);
  expect(textsOf(res.card as Card)[0]).toBe('Access history');

  // Hal, the holder, is not an owner or approver: a press forged from a button of his own card
  // ("End access now", with the act and value swapped) is refused and audited.
  const hal = new TeamsChat(sys.connector, sys.botUrl, HAL);
  const mine = await hal.open('my access');
  const own = elementsOf(mine.card).find(
    (e) => (e.data as { value?: string } | undefined)?.value === grant.id,
  ) as { verb: string; data: Record<string, unknown> };
  res = await hal.execute(mine.id, own.verb, {
    ...own.data,
    act: 'jit.resource.history',
    value: JSON.stringify({ r: 'sandbox' }),
  });
  expect(JSON.stringify(res)).toContain('approvers and owners can see its access history');
  const refusals = await sys.t.store.repos.audit.list({ type: 'action.refused', actor: HAL.email! });
  expect(refusals.map((r) => r.details?.code)).toContain('NOT_ALLOWED_TO_VIEW');
});
