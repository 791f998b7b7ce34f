/**
 * The real CloudAdapter on the app's own HTTP server, receiving activities over HTTP from the fake
 * Bot Connector: authentication on (tokens minted by the fake, verified against its published keys)
 * and off (the explicitly unsafe local mode), and the conversation references the bot keeps.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createTeamsAdapter } from '../../../src/bot/teams/adapter.js';
import { KIM, PAT, startTeamsBot, type TeamsBotUnderTest } from '../../chat/teams-harness.js';
import type { FakeTeamsUser } from '../../support/fake-bot-connector.js';

/** A person Teams knows only by their UPN (no mail attribute). */
const UPN_ONLY: FakeTeamsUser = {
  id: '29:1upn',
  aadObjectId: 'aad-upn',
  name: 'Una Principal',
  userPrincipalName: 'Una.Principal@Example.com',
};
/** A guest Teams gives neither a mail nor a UPN for. */
const NO_EMAIL: FakeTeamsUser = {
  id: '29:1none',
  aadObjectId: 'aad-none',
  name: 'No Mail',
  userPrincipalName: '',
};

function captureLog() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

let bot: TeamsBotUnderTest | undefined;
afterEach(async () => {
  await bot?.close();
  bot = undefined;
});

describe('Teams with authentication on', () => {
  it('takes a signed installationUpdate and stores the person’s personal-chat reference, with their zone', async () => {
    bot = await startTeamsBot({ users: [PAT] });
    const { fake } = bot;
    const answer = await fake.send(bot.botUrl, fake.installationUpdate(PAT.id));
    expect(answer.status).toBe(200);
    const record = await bot.store.repos.conversations.get('pat@example.com');
    expect(record).toMatchObject({ email: 'pat@example.com', platform: 'teams', tz: 'Pacific/Auckland' });
    const reference = JSON.parse(record?.reference ?? '{}');
    expect(reference).toMatchObject({
      channelId: 'msteams',
      serviceUrl: fake.serviceUrl,
      conversation: { id: fake.personalConversationId(PAT.id), conversationType: 'personal' },
      user: { id: PAT.id, aadObjectId: PAT.aadObjectId },
      bot: { id: fake.bot.id },
    });
    // A reference is where to reach someone, not a reply to one of their messages.
    expect(reference).not.toHaveProperty('activityId');
    // The person was resolved through Teams (getMember), with a token the connector accepted.
    expect(fake.calls.map((c) => [c.operation, c.status])).toEqual([['getMember', 200]]);
    expect(fake.calls[0]?.authorization).toMatch(/^Bearer /);
  });

  it('answers 400 to a body that is not JSON and 405 to anything but POST', async () => {
    bot = await startTeamsBot({ users: [PAT] });
    const headers = {
      authorization: `Bearer ${bot.fake.channelToken()}`,
      'content-type': 'application/json',
    };
    expect((await fetch(bot.botUrl, { method: 'POST', headers, body: '{not json' })).status).toBe(400);
    expect((await fetch(bot.botUrl, { method: 'GET' })).status).toBe(405);
  });
});

describe('Teams without authentication (TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED)', () => {
  it('takes unsigned activities, and says loudly at start-up that requests are not authenticated', async () => {
    const { log, lines } = captureLog();
    bot = await startTeamsBot({ users: [PAT], appId: null, log });
    const warning = lines.find((l) => l.level === 40 && /NOT AUTHENTICATED/.test(l.msg));
    expect(warning?.msg).toContain('TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED=true');
    const { fake } = bot;
    expect((await fake.send(bot.botUrl, fake.installationUpdate(PAT.id), 'missing')).status).toBe(200);
    expect(await bot.store.repos.conversations.get('pat@example.com')).not.toBeNull();
    expect(fake.calls.every((c) => c.authorization === undefined)).toBe(true);
  });

  it('refuses to serve Teams with neither an app id nor the unsafe switch', () => {
    expect(() =>
      createTeamsAdapter(
        { appType: 'MultiTenant', dangerouslyAllowUnauthenticated: false },
        pino({ level: 'silent' }),
      ),
    ).toThrow(/MicrosoftAppId/);
  });
});

describe('where the bot remembers people', () => {
  it('saves the reference on conversationUpdate with members added, and refreshes it with every message', async () => {
    bot = await startTeamsBot({ users: [PAT] });
    const { fake } = bot;
    expect((await fake.send(bot.botUrl, fake.conversationUpdate(PAT.id))).status).toBe(200);
    const first = await bot.store.repos.conversations.get('pat@example.com');
    expect(first).not.toBeNull();
    await new Promise((r) => setTimeout(r, 5));
    fake.updateUser(PAT.id, { tz: 'Asia/Tokyo' });
    expect((await fake.send(bot.botUrl, fake.message(PAT.id, 'hi'))).status).toBe(200);
    const second = await bot.store.repos.conversations.get('pat@example.com');
    expect(second?.tz).toBe('Asia/Tokyo');
    expect(second?.updatedAt.getTime()).toBeGreaterThan(first?.updatedAt.getTime() ?? 0);
  });

  it('asks Teams who someone is once, then trusts the answer briefly', async () => {
    bot = await startTeamsBot({ users: [PAT] });
    const { fake } = bot;
    for (const text of ['one', 'two', 'three']) {
      expect((await fake.send(bot.botUrl, fake.message(PAT.id, text))).status).toBe(200);
    }
    expect(fake.calls.filter((c) => c.operation === 'getMember')).toHaveLength(1);
  });

  it('knows a person without a mail attribute by their UPN, and skips one Teams gives no email for', async () => {
    const { log, lines } = captureLog();
    bot = await startTeamsBot({ users: [UPN_ONLY, NO_EMAIL], log });
    const { fake } = bot;
    expect((await fake.send(bot.botUrl, fake.installationUpdate(UPN_ONLY.id))).status).toBe(200);
    expect(await bot.store.repos.conversations.get('una.principal@example.com')).not.toBeNull();
    expect((await fake.send(bot.botUrl, fake.installationUpdate(NO_EMAIL.id))).status).toBe(200);
    expect(lines.some((l) => /teams.person_unknown/.test(l.msg))).toBe(true);
  });

  it('remembers nobody from an uninstall, or from a team or group chat', async () => {
    bot = await startTeamsBot({ users: [KIM] });
    const { fake } = bot;
    expect((await fake.send(bot.botUrl, fake.installationUpdate(KIM.id, 'remove'))).status).toBe(200);
    const inGroup = fake.message(KIM.id, 'hi all');
    inGroup.conversation = {
      conversationType: 'groupChat',
      tenantId: fake.tenantId,
      id: '19:group@thread.v2',
    };
    expect((await fake.send(bot.botUrl, inGroup)).status).toBe(200);
    expect(await bot.store.repos.conversations.get('kim@example.com')).toBeNull();
    expect(fake.calls).toEqual([]);
  });
});
