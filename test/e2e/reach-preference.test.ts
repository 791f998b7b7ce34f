/**
 * A person on both Slack and Teams is reached on the platform where the bot last saw them (any
 * Slack interaction, any Teams activity or installation), unless the policy's `chat.prefer` says
 * `slack` or `teams`; the other platform is the fallback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openForm } from '../support/flows.js';
import { USERS } from '../support/system.js';
import { startTeamsSystem, type TeamsTestSystem, teamsUser } from '../support/teams-system.js';

/** Alice is on Slack (the fake Slack's alice@example.com) and on Teams, with the same email; Dave is on Slack only. */
const ALICE_IN_TEAMS = teamsUser('alice', 'Alice in Teams');

const policy = (prefer?: string) => `
${prefer ? `chat: { prefer: ${prefer} }` : ''}
resources:
${['box-1', 'box-2', 'box-3']
  .map(
    (id) => `  - id: ${id}
    name: Box ${id}
    approvers: [alice@example.com, dave@example.com]
    connector: { type: log }`,
  )
  .join('\n')}
`;

let s: TeamsTestSystem | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function start(prefer?: string) {
  s = await startTeamsSystem({ users: [ALICE_IN_TEAMS], policy: policy(prefer) });
  return s;
}

/** Asks Alice and Dave; returns where each one's approval card went. */
async function cardPlatforms(sys: TeamsTestSystem, resourceId: string) {
  const request = await sys.t.system.service.submit({
    requester: { email: USERS.carol.email, name: USERS.carol.realName },
    resourceId,
    approvers: [USERS.alice.email, USERS.dave.email],
    duration: 'PT4H',
    justification: 'Checking where cards go',
    submissionKey: `preference:${resourceId}`,
  });
  await sys.t.delivered();
  const records = await sys.t.store.repos.messages.find({ subjectId: request.id, purpose: 'approval-card' });
  return Object.fromEntries(records.map((r) => [r.recipient, r.platform]));
}

const later = (sys: TeamsTestSystem) => sys.t.clock.advance(60_000);

describe('reaching a person where the bot last saw them', () => {
  it('by default follows the person: Teams after they installed the app, Slack after they used Slack, Teams again after they wrote there', async () => {
    const sys = await start();
    expect(await cardPlatforms(sys, 'box-1')).toEqual({
      'alice@example.com': 'teams',
      'dave@example.com': 'slack',
    });

    later(sys);
    await openForm(sys.t, USERS.alice);
    expect((await cardPlatforms(sys, 'box-2'))['alice@example.com']).toBe('slack');

    later(sys);
    const wrote = await sys.connector.send(sys.botUrl, sys.connector.message(ALICE_IN_TEAMS.id, 'hello'));
    expect(wrote.status).toBe(200);
    expect((await cardPlatforms(sys, 'box-3'))['alice@example.com']).toBe('teams');
    expect(await sys.t.store.repos.sightings.get('alice@example.com')).toMatchObject({ platform: 'teams' });
  });

  it('with chat.prefer: slack, reaches Slack first even right after a Teams installation', async () => {
    const sys = await start('slack');
    expect(await cardPlatforms(sys, 'box-1')).toEqual({
      'alice@example.com': 'slack',
      'dave@example.com': 'slack',
    });
  });

  it('with chat.prefer: teams, reaches Teams first even after Slack was used, and falls back to Slack for whoever Teams cannot reach', async () => {
    const sys = await start('teams');
    later(sys);
    await openForm(sys.t, USERS.alice);
    expect(await sys.t.store.repos.sightings.get('alice@example.com')).toMatchObject({ platform: 'slack' });
    expect(await cardPlatforms(sys, 'box-1')).toEqual({
      'alice@example.com': 'teams',
      'dave@example.com': 'slack',
    });
  });
});
