/**
 * Teams' per-conversation rate limits (about 7 messages a second, 60 per 30 seconds): a message
 * over the limit waits for its slot, or, when that is far off, goes back to the outbox as a retry
 * at that moment; nothing is dropped. Time here is a counter the throttle's sleep moves forward.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TeamsPlatform } from '../../../src/bot/teams/platform.js';
import { ConversationThrottle } from '../../../src/bot/teams/throttle.js';
import { DeliveryError } from '../../../src/core/chat.js';
import { PAT, startTeamsBot, type TeamsBotUnderTest } from '../../chat/teams-harness.js';
import { readActivity } from '../../chat/teams-markup.js';

/** A throttle on a pretend clock: sleeping moves it on, and every wait is written down. */
function pretendTime(maxInlineWaitMs?: number) {
  let now = 1_000_000;
  const waits: number[] = [];
  const throttle = new ConversationThrottle({
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
    ...(maxInlineWaitMs === undefined ? {} : { maxInlineWaitMs }),
  });
  return { throttle, waits, advance: (ms: number) => (now += ms), now: () => now };
}

describe('the per-conversation throttle', () => {
  it('lets 7 messages go at once and holds the 8th until the first is a second old', async () => {
    const { throttle, waits } = pretendTime();
    for (let i = 0; i < 7; i++) await throttle.take('a:1');
    expect(waits).toEqual([]);
    await throttle.take('a:1');
    expect(waits).toEqual([1000]);
  });

  it('counts each conversation apart', async () => {
    const { throttle, waits } = pretendTime();
    for (let i = 0; i < 7; i++) await throttle.take('a:1');
    for (let i = 0; i < 7; i++) await throttle.take('a:2');
    expect(waits).toEqual([]);
  });

  it('holds the 61st message in 30 seconds until the first leaves the window, handing it back to the outbox when that is far off', async () => {
    const { throttle, advance } = pretendTime();
    // 60 messages, at most 6 a second: the last 9 seconds after the first.
    for (let i = 0; i < 60; i++) {
      if (i > 0 && i % 6 === 0) advance(1000);
      await throttle.take('a:1');
    }
    advance(1000);
    expect(throttle.waitFor('a:1')).toBe(30_000 - 10_000);
    const error = await throttle.take('a:1').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).permanent).toBe(false);
    expect((error as DeliveryError).retryAfterMs).toBe(20_000);
    // Nothing was counted for the message handed back; once the window moves on it goes.
    advance(20_000);
    expect(throttle.waitFor('a:1')).toBe(0);
    await throttle.take('a:1');
  });
});

describe('TeamsPlatform under the throttle', () => {
  let bot: TeamsBotUnderTest | undefined;
  afterEach(async () => {
    await bot?.close();
    bot = undefined;
  });

  it('delivers a burst of 12 messages to one person in full, holding those over 7 a second', async () => {
    bot = await startTeamsBot({ users: [PAT] });
    expect((await bot.fake.send(bot.botUrl, bot.fake.installationUpdate(PAT.id))).status).toBe(200);
    const time = pretendTime();
    const platform = new TeamsPlatform({
      adapter: bot.adapter,
      conversations: bot.store.repos.conversations,
      now: Date.now,
      throttle: time.throttle,
    });
    const person = await platform.reach('pat@example.com');
    if (!person) throw new Error('Pat not reached');
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        platform.send(person, { text: `n${i}`, title: `Message ${i + 1}` }),
      ),
    );
    const chat = bot.fake.activitiesIn(bot.fake.personalConversationId(PAT.id));
    expect(chat.map((a) => readActivity(a.activity).title).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `Message ${i + 1}`).sort(),
    );
    expect(time.waits.length).toBeGreaterThan(0);
    expect(time.waits.every((ms) => ms <= 1000)).toBe(true);
  });
});
