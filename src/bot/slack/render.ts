/** Renders neutral MessageViews (src/domain/views) to Block Kit. The only place messages get Slack syntax. */
import type { Button, KnownBlock } from '@slack/types';
import type { MessageView, ViewAction } from '../../domain/views/model.js';
import { LIMITS, truncate, truncateEscaped } from './limits.js';

/**
 * Every mrkdwn object that can carry typed text is sent with `verbatim: true`, so Slack does not
 * turn a bare `@here`, `#channel` or URL in it into a mention or link either.
 *
 * Escapes text for mrkdwn and `text` fields: `&`, `<` and `>` are the only control characters
 * Slack parses, so `<!channel>`, `<@U123>` or `<https://evil|bank>` become inert text.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Mrkdwn formatting characters that could restyle a value; neutralised with a zero-width joiner. */
function quoteValue(text: string): string {
  return escapeMrkdwn(text).replace(/([*_~`])/g, '$1\u200b');
}

/**
 * A Block Kit structure (blocks, a view) handed to `WebClient` as the JSON string Slack's
 * form-encoded Web API takes it as. Given an object, the client stringifies it itself, and before
 * that walks and stringifies it once more for a debug line it builds even when debug is off; a
 * string it sends as it is (about 60 µs less CPU a call). Typed as what the string stands for.
 */
export function asJsonArg<T>(value: T): T {
  return JSON.stringify(value) as unknown as T;
}

export function renderButton(a: ViewAction): Button {
  const button: Button = {
    type: 'button',
    action_id: a.id,
    text: { type: 'plain_text', text: truncate(a.label, LIMITS.buttonText), emoji: true },
    value: truncate(a.value, LIMITS.buttonValue),
  };
  if (a.style) button.style = a.style;
  if (a.confirm) {
    button.confirm = {
      title: { type: 'plain_text', text: truncate(a.confirm.title, LIMITS.confirmTitle) },
      text: { type: 'plain_text', text: truncate(a.confirm.text, LIMITS.confirmText) },
      confirm: { type: 'plain_text', text: truncate(a.confirm.confirm, LIMITS.confirmButton) },
      deny: { type: 'plain_text', text: truncate(a.confirm.deny, LIMITS.confirmButton) },
    };
  }
  return button;
}

export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

export function renderMessage(view: MessageView): RenderedMessage {
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(view.title, LIMITS.headerText), emoji: false },
    },
  ];
  for (const line of view.lines ?? []) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncateEscaped(escapeMrkdwn(line), LIMITS.sectionText), verbatim: true },
    });
  }
  const fields = view.fields ?? [];
  for (let i = 0; i < fields.length; i += LIMITS.fields) {
    blocks.push({
      type: 'section',
      fields: fields.slice(i, i + LIMITS.fields).map((f) => ({
        type: 'mrkdwn' as const,
        verbatim: true,
        text: truncateEscaped(`*${escapeMrkdwn(f.label)}*\n${quoteValue(f.value)}`, LIMITS.fieldText),
      })),
    });
  }
  if (view.actions?.length)
    blocks.push({ type: 'actions', block_id: 'jit.actions', elements: view.actions.map(renderButton) });
  if (view.note) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: truncateEscaped(escapeMrkdwn(view.note), LIMITS.contextText),
          verbatim: true,
        },
      ],
    });
  }
  return {
    text: truncateEscaped(escapeMrkdwn(view.text), LIMITS.messageText),
    blocks: blocks.slice(0, LIMITS.blocksInMessage),
  };
}
