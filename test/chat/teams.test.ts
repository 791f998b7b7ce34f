/**
 * Teams passes the chat-adapter contract (./contract.ts) on the real botbuilder adapter against the
 * fake Bot Connector, and the reader the Teams harness uses to judge "inert" is itself shown to
 * catch what Teams would turn into mentions and links.
 */
import { describe, expect, it } from 'vitest';
import { runChatContract } from './contract.js';
import { makeTeamsHarness } from './teams-harness.js';
import { activeMarkupOf, readActivity } from './teams-markup.js';

runChatContract('Teams', makeTeamsHarness);

const card = (body: unknown[], extra: Record<string, unknown> = {}) => ({
  type: 'message',
  summary: 'Heads up',
  attachments: [
    {
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: { type: 'AdaptiveCard', version: '1.5', body, ...extra },
    },
  ],
});

describe('the Teams harness’s reading of messages', () => {
  it('finds the mentions and links Teams would make of Markdown, bare URLs, domains and mention entities', () => {
    const markup = activeMarkupOf(
      card(
        [
          { type: 'TextBlock', text: 'ping <at>Everyone</at> and [your bank](https://evil.example/login)' },
          {
            type: 'FactSet',
            facts: [{ title: 'Go', value: 'https://evil.example/x or <https://auto.example>' }],
          },
          { type: 'TextBlock', text: 'write to mallory@evil.example or visit www.evil.example' },
        ],
        { actions: [{ type: 'Action.OpenUrl', title: 'Open', url: 'https://open.example' }] },
      ),
    );
    expect(markup.mentions).toEqual(['<at>Everyone</at>']);
    expect(markup.links).toEqual(
      expect.arrayContaining([
        '[your bank](https://evil.example/login)',
        'https://evil.example/x',
        '<https://auto.example>',
        'mallory@evil.example',
        'www.evil.example',
        'https://open.example',
      ]),
    );
    expect(
      activeMarkupOf({ ...card([]), entities: [{ type: 'mention', text: '<at>Bob</at>' }] }).mentions,
    ).toHaveLength(1);
  });

  it('finds nothing in escaped Markdown or plain text runs, and reads them as the characters that were typed', () => {
    const message = card(
      [
        { type: 'TextBlock', style: 'heading', text: 'Title \\<b\\>' },
        {
          type: 'TextBlock',
          text: '\\<at\\>Everyone\\</at\\> https\\:\\/\\/evil\\.example and a\\@b\\.example',
        },
        { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'plain **text**' }] },
      ],
      { actions: [{ type: 'Action.Execute', title: 'Approve', verb: 'x' }] },
    );
    expect(activeMarkupOf(message)).toEqual({ mentions: [], links: [] });
    expect(readActivity(message)).toEqual({
      notification: 'Heads up',
      title: 'Title <b>',
      body: '<at>Everyone</at> https://evil.example and a@b.example\nplain **text**',
      buttons: ['Approve'],
    });
  });
});
