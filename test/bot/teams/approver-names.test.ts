/**
 * How the Teams form names approvers (namesFromChats): Teams cannot look people up by email, so a
 * name is what Teams last showed the bot for that person (their stored chat reference's user name).
 */
import { describe, expect, it } from 'vitest';
import { NAMED_APPROVERS_MAX, namesFromChats } from '../../../src/bot/teams/request-form-search.js';
import type { ConversationRecord } from '../../../src/domain/model.js';
import type { ConversationRepo } from '../../../src/domain/ports.js';
import { createMemoryStore } from '../../../src/store/index.js';

const reference = (name?: string) =>
  JSON.stringify({
    channelId: 'msteams',
    serviceUrl: 'https://smba.example.com/',
    conversation: { id: 'a:1' },
    user: { id: '29:1', ...(name === undefined ? {} : { name }) },
    bot: { id: '28:bot' },
  });

const record = (email: string, ref: string): ConversationRecord => ({
  email,
  platform: 'teams',
  reference: ref,
  updatedAt: new Date('2026-03-02T09:00:00Z'),
});

describe('approver names in the Teams form', () => {
  it('names each approver the bot has met as Teams showed them, and lists the others by email', async () => {
    const { repos } = createMemoryStore();
    await repos.conversations.save(record('tina@example.com', reference('Tina Approver')));
    await repos.conversations.save(record('noname@example.com', reference('  ')));
    await repos.conversations.save(record('broken@example.com', '{not json'));
    const names = await namesFromChats(repos.conversations)([
      'tina@example.com',
      'stranger@example.com',
      'noname@example.com',
      'broken@example.com',
    ]);
    expect([...names]).toEqual([['tina@example.com', 'Tina Approver']]);
  });

  it('lists by email when the store cannot be read, instead of failing the form', async () => {
    const failing: ConversationRepo = {
      save: async () => {},
      get: async () => {
        throw new Error('store down');
      },
    };
    expect(await namesFromChats(failing)(['tina@example.com'])).toEqual(new Map());
  });

  it(`looks up at most ${NAMED_APPROVERS_MAX} approvers; the rest are listed by email`, async () => {
    const asked: string[] = [];
    const counting: ConversationRepo = {
      save: async () => {},
      get: async (email) => {
        asked.push(email);
        return record(email, reference(email.split('@')[0]));
      },
    };
    const emails = Array.from({ length: NAMED_APPROVERS_MAX + 50 }, (_, i) => `p${i}@example.com`);
    const names = await namesFromChats(counting)(emails);
    expect(asked).toHaveLength(NAMED_APPROVERS_MAX);
    expect(names.size).toBe(NAMED_APPROVERS_MAX);
    expect(names.get('p0@example.com')).toBe('p0');
    expect(names.has(`p${NAMED_APPROVERS_MAX}@example.com`)).toBe(false);
  });
});
