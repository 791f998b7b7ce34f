/**
 * Slack passes the chat-adapter contract (./contract.ts), and the reader the Slack harness uses to
 * judge "inert" is itself shown to catch what Slack would turn into mentions and links.
 */
import { describe, expect, it } from 'vitest';
import { runChatContract } from './contract.js';
import { makeSlackHarness } from './slack-harness.js';
import { activeMarkupOf, readMessage } from './slack-markup.js';

runChatContract('Slack', makeSlackHarness);

describe('the Slack harness’s reading of messages', () => {
  it('finds the mentions and links Slack would make of control sequences and of text that is not verbatim', () => {
    const markup = activeMarkupOf({
      text: 'Heads up <!here>',
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '<!channel> <@U123> <https://evil.example|bank>', verbatim: true },
        },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'ping @here at https://evil.example/login in #general' },
        },
        { type: 'header', text: { type: 'plain_text', text: '<!channel> @here https://plain.example' } },
      ],
    });
    expect(markup).toEqual({
      mentions: ['<!here>', '<!channel>', '<@U123>', '@here'],
      links: ['<https://evil.example|bank>', 'https://evil.example/login', '#general'],
    });
  });

  it('finds nothing in escaped or verbatim text, and reads it as the characters that were typed', () => {
    const message = {
      text: '&lt;!channel&gt; &amp; more',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Title <b>' } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '&lt;@U123&gt; @here https://x.example', verbatim: true },
        },
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'Go' } }],
        },
      ],
    };
    expect(activeMarkupOf(message)).toEqual({ mentions: [], links: [] });
    expect(readMessage(message)).toEqual({
      notification: '<!channel> & more',
      title: 'Title <b>',
      body: '<@U123> @here https://x.example',
      buttons: ['Go'],
    });
  });
});
