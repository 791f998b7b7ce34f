/**
 * Threat: an activity POSTed to the bot's /api/messages that the Bot Framework channel did not
 * sign: no token, a token signed with another key, an expired one, one minted for another bot
 * (audience), one naming another service URL than the activity's (so replies would go to the
 * attacker), or a token that is not a JWT at all.
 * Expected refusal: 401 from the real CloudAdapter on the app's own HTTP server; the bot stores
 * nothing (no conversation reference, so nobody can be messaged through a planted one) and calls
 * nobody. A correctly signed activity is taken. (The unsafe local mode,
 * TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED, is in test/bot/teams/inbound.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeBotConnector,
  type FakeTeamsUser,
  type Signing,
  startFakeBotConnector,
} from '../support/fake-bot-connector.js';
import { startTestSystem, type TestSystem } from '../support/system.js';

const PAT: FakeTeamsUser = {
  id: '29:1pat',
  aadObjectId: 'aad-pat',
  name: 'Pat Kawhia',
  email: 'pat@example.com',
  userPrincipalName: 'pat@example.com',
  tz: 'Pacific/Auckland',
};

let t: TestSystem | undefined;
let connector: FakeBotConnector | undefined;
afterEach(async () => {
  await t?.close();
  await connector?.close();
  t = undefined;
  connector = undefined;
});

async function start() {
  connector = await startFakeBotConnector({ users: [PAT], auth: { appId: 'security-teams-app' } });
  t = await startTestSystem({ teams: connector });
  return { t, connector, botUrl: `http://127.0.0.1:${t.system.port}/api/messages` };
}

describe('a Teams activity without a valid token', () => {
  it.each<Signing>(['missing', 'forged', 'expired', 'wrong-audience', 'wrong-service-url'])(
    'refuses an activity whose token is %s with 401, storing nothing and calling nobody',
    async (signing) => {
      const { t, connector, botUrl } = await start();
      for (const activity of [connector.installationUpdate(PAT.id), connector.message(PAT.id, 'hello')]) {
        const answer = await connector.send(botUrl, activity, signing);
        expect(answer.status).toBe(401);
      }
      expect(await t.store.repos.conversations.get(PAT.email!)).toBeNull();
      expect(connector.calls).toEqual([]);
    },
  );

  it('refuses a bearer that is not a token, or another scheme, with 401', async () => {
    const { t, connector, botUrl } = await start();
    const body = JSON.stringify(connector.installationUpdate(PAT.id));
    for (const authorization of [
      'Bearer not-a-jwt',
      'Bearer a.b.c',
      `Basic ${connector.channelToken()}`,
      '',
    ]) {
      const res = await fetch(botUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body,
      });
      expect(res.status, authorization).toBe(401);
    }
    expect(await t.store.repos.conversations.get(PAT.email!)).toBeNull();
    expect(connector.calls).toEqual([]);
  });

  it('takes the same activity correctly signed, so the refusals are the token’s', async () => {
    const { t, connector, botUrl } = await start();
    expect((await connector.send(botUrl, connector.installationUpdate(PAT.id))).status).toBe(200);
    expect(await t.store.repos.conversations.get(PAT.email!)).toMatchObject({ platform: 'teams' });
  });
});
