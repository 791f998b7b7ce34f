/**
 * TeamsPlatform beyond the chat contract: how each Bot Connector answer is classified for the
 * outbox, opening the 1:1 chat again when Teams lost it, and reaching only the person whose email
 * Teams still gives for the stored conversation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TeamsAdapter } from '../../../src/bot/teams/adapter.js';
import { TeamsPlatform } from '../../../src/bot/teams/platform.js';
import { DeliveryError } from '../../../src/core/chat.js';
import type { MessageView } from '../../../src/domain/views/model.js';
import { PAT, parseAddress, startTeamsBot, type TeamsBotUnderTest } from '../../chat/teams-harness.js';
import { readActivity } from '../../chat/teams-markup.js';

const VIEW: MessageView = { text: 'Hello Pat', title: 'Hello', lines: ['A line.'] };

let bot: TeamsBotUnderTest | undefined;
afterEach(async () => {
  await bot?.close();
  bot = undefined;
});

/** A bot Pat has installed, and Pat as the platform reaches them. */
async function installed() {
  bot = await startTeamsBot({ users: [PAT] });
  expect((await bot.fake.send(bot.botUrl, bot.fake.installationUpdate(PAT.id))).status).toBe(200);
  const person = await bot.platform.reach('pat@example.com');
  if (!person) throw new Error('Pat not reached');
  return { bot, person };
}

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

describe('TeamsPlatform and the Bot Connector’s answers', () => {
  it.each([
    [429, 3, false],
    [412, 2, false],
    [502, 5, false],
    [504, undefined, false],
    [500, undefined, false],
    [401, undefined, false],
    [403, undefined, true],
    [404, undefined, true],
    [400, undefined, true],
    [413, undefined, true],
  ])('classifies HTTP %i (Retry-After %s) as permanent: %s', async (status, retryAfterSec, permanent) => {
    const { bot, person } = await installed();
    bot.fake.setFault({ status, ...(retryAfterSec !== undefined ? { retryAfterSec } : {}) });
    const error = await failure(bot.platform.send(person, VIEW));
    expect(error.permanent).toBe(permanent);
    expect(error.retryAfterMs).toBe(retryAfterSec === undefined ? undefined : retryAfterSec * 1000);
  });

  it('sends with a token the connector accepts on every call', async () => {
    const { bot, person } = await installed();
    const address = await bot.platform.send(person, VIEW);
    await bot.platform.update(address, { ...VIEW, title: 'Hello again' });
    expect(bot.fake.calls.map((c) => c.operation)).toEqual(['getMember', 'getMember', 'send', 'update']);
    expect(bot.fake.calls.every((c) => c.status < 400 && c.authorization?.startsWith('Bearer '))).toBe(true);
  });

  it('opens the 1:1 chat again when Teams lost it, sends there, and keeps the new reference', async () => {
    const { bot, person } = await installed();
    const old = bot.fake.personalConversationId(PAT.id);
    bot.fake.forgetConversation(old);
    const address = await bot.platform.send(person, VIEW);
    const at = parseAddress(address);
    expect(at?.conversationId).not.toBe(old);
    expect(at?.conversationId).toBe(bot.fake.personalConversationId(PAT.id));
    const sent = bot.fake.activity(at?.conversationId ?? '', at?.activityId ?? '');
    expect(readActivity(sent?.activity ?? {}).title).toBe('Hello');
    expect(bot.fake.calls.map((c) => [c.operation, c.status])).toContainEqual(['create', 201]);
    const stored = JSON.parse(
      (await bot.store.repos.conversations.get('pat@example.com'))?.reference ?? '{}',
    );
    expect(stored.conversation.id).toBe(at?.conversationId);
    // The next message goes straight to the new chat.
    const calls = bot.fake.calls.length;
    await bot.platform.send(person, VIEW);
    expect(bot.fake.calls.slice(calls).map((c) => c.operation)).toEqual(['send']);
  });

  it('does not reach a person whose stored chat now belongs to an account with another email', async () => {
    bot = await startTeamsBot({ users: [PAT] });
    expect((await bot.fake.send(bot.botUrl, bot.fake.installationUpdate(PAT.id))).status).toBe(200);
    bot.fake.updateUser(PAT.id, { email: 'someone.else@example.com' });
    expect(await bot.platform.reach('pat@example.com')).toBeNull();
  });

  it('reports a store that cannot answer as a DeliveryError to retry', async () => {
    // Nothing is asked of Teams before the store answers.
    const broken = new TeamsPlatform({
      adapter: {} as TeamsAdapter,
      conversations: {
        save: async () => {},
        get: async () => {
          throw new Error('connection reset');
        },
      },
      now: Date.now,
    });
    const error = await failure(broken.reach('pat@example.com'));
    expect(error.permanent).toBe(false);
  });
});
