/**
 * The Adaptive Card renderer: every neutral view becomes a valid Adaptive Card 1.5 whose typed text
 * is inert, whose buttons are Universal Actions carrying the neutral action id, and which always
 * fits Teams' message limit.
 */
import { describe, expect, it } from 'vitest';
import {
  ADAPTIVE_CARD_CONTENT_TYPE,
  cardBytes,
  escapeMarkdown,
  renderCard,
  renderMessage,
} from '../../../src/bot/teams/cards.js';
import { renderFormCard } from '../../../src/bot/teams/form-view-card.js';
import { LIMITS } from '../../../src/bot/teams/limits.js';
import { ActionId, type MessageView } from '../../../src/domain/views/model.js';
import { activeMarkupOf, readActivity, readable } from '../../chat/teams-markup.js';

const VIEW: MessageView = {
  text: 'Carol requests access to Acme production',
  title: 'Access request',
  lines: ['Carol Support requests access to Acme production.'],
  fields: [
    { label: 'Duration', value: '4 hours' },
    { label: 'Why', value: 'Incident #42' },
  ],
  actions: [
    {
      id: ActionId.approve,
      label: 'Approve',
      value: 'req-1',
      style: 'primary',
      confirm: {
        title: 'Approve?',
        text: 'Carol gets access for 4 hours.',
        confirm: 'Yes, approve',
        deny: 'Not yet',
      },
    },
    { id: ActionId.deny, label: 'Deny', value: 'req-1', style: 'danger' },
  ],
  note: 'The request expires in one hour.',
};

describe('Adaptive Card rendering', () => {
  it('renders the heading, lines, fields as a FactSet and the note, as an Adaptive Card 1.5', () => {
    const card = renderCard(VIEW);
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    expect(card.body.map((e) => e.type)).toEqual(['TextBlock', 'TextBlock', 'FactSet', 'TextBlock']);
    expect(card.body[0]).toMatchObject({ style: 'heading', wrap: true });
    expect(card.body[2]).toEqual({
      type: 'FactSet',
      facts: [
        { title: 'Duration', value: '4 hours' },
        { title: 'Why', value: 'Incident \\#42' },
      ],
    });
    const message = renderMessage(VIEW);
    expect(message.summary).toBe(VIEW.text);
    expect(message.attachments[0]?.contentType).toBe(ADAPTIVE_CARD_CONTENT_TYPE);
  });

  it('makes buttons Universal Actions whose verb is the neutral action id and whose data carries the value', () => {
    const [approve, deny] = renderCard(VIEW).actions ?? [];
    expect(deny).toEqual({
      type: 'Action.Execute',
      title: 'Deny',
      verb: ActionId.deny,
      data: { value: 'req-1' },
      style: 'destructive',
    });
    // A confirmation: the button opens a card that asks, and only its own button acts.
    expect(approve).toMatchObject({ type: 'Action.ShowCard', title: 'Approve' });
    const confirm = approve?.card as { body: Array<{ text: string }>; actions: unknown[] };
    expect(confirm.body.map((b) => readable(b.text))).toEqual(['Approve?', 'Carol gets access for 4 hours.']);
    expect(confirm.actions).toEqual([
      {
        type: 'Action.Execute',
        title: 'Yes, approve',
        verb: ActionId.approve,
        data: { value: 'req-1' },
        style: 'positive',
      },
    ]);
  });

  it('escapes every Markdown, mention and link character, and reads back as typed', () => {
    const typed =
      '**bold** _it_ [bank](https://evil.example) <at>All</at> # h1 - item 1. x `code` ~s~ www.evil.example';
    expect(escapeMarkdown('a*b')).toBe('a\\*b');
    const view: MessageView = {
      text: typed,
      title: typed,
      lines: [typed],
      fields: [{ label: typed, value: typed }],
      note: typed,
    };
    const activity = { type: 'message', ...renderMessage(view) };
    expect(activeMarkupOf(activity)).toEqual({ mentions: [], links: [] });
    const seen = readActivity(activity);
    expect(seen.title).toBe(typed);
    expect(seen.body.split('\n')).toEqual([typed, typed, typed, typed]);
    expect(seen.notification).toBe(typed);
  });

  it('keeps typed backslashes literal: they can neither undo an escape nor start one', () => {
    expect(escapeMarkdown('\\*')).toBe('\\\\\\*');
    const typed = [
      '\\*not bold\\* and \\_not italic\\_',
      '\\<at>Everyone\\</at> and \\\\<at>All</at>',
      '\\[bank](https://evil.example) \\\\[bank](https://evil.example)',
      'C:\\Users\\carol\\_notes_ ends with a backslash \\',
      '&lt;at&gt;All&lt;/at&gt; &#60;at&#62;All&#60;/at&#62; \\&amp;',
      '\\\n# not a heading\n- not a list\n1. not a list',
    ];
    for (const text of typed) {
      const view: MessageView = {
        text,
        title: text,
        lines: [text],
        fields: [{ label: text, value: text }],
        note: text,
      };
      const activity = { type: 'message', ...renderMessage(view) };
      expect(activeMarkupOf(activity), text).toEqual({ mentions: [], links: [] });
      const seen = readActivity(activity);
      expect(seen.title).toBe(text);
      expect(seen.body).toBe([text, text, text, text].join('\n'));
      // Every backslash and every punctuation character is preceded by exactly one escaping backslash.
      const card = renderCard(view);
      const line = { text: String(card.body[1]?.text) };
      expect(readable(line.text)).toBe(text);
      expect(line.text.replace(/\\[!-/:-@[-`{-~]/g, '')).not.toMatch(/[!-/:-@[-`{-~]/);
    }
  });

  it('keeps typed text inert on the deny form card too', () => {
    const name = '<at>Everyone</at> [x](https://evil.example) \\*';
    const card = renderFormCard(
      {
        title: `Deny ${name}`,
        lines: [`Deny ${name}'s request?`],
        inputs: [
          {
            id: 'jit.deny.reason',
            label: 'Reason (optional)',
            optional: true,
            multiline: true,
            maxLength: 1000,
          },
        ],
        submitLabel: 'Deny',
        closeLabel: 'Back',
      },
      { submit: 'jit.request.deny.submit', close: 'jit.request.deny.back', data: { value: 'req-1' } },
    );
    const activity = {
      type: 'message',
      attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card }],
    };
    expect(activeMarkupOf(activity)).toEqual({ mentions: [], links: [] });
    expect(readActivity(activity)).toMatchObject({
      title: `Deny ${name}`,
      body: `Deny ${name}'s request?`,
      buttons: ['Deny', 'Back'],
    });
    expect(card.body[2]).toMatchObject({
      type: 'Input.Text',
      id: 'jit.deny.reason',
      isMultiline: true,
      maxLength: 1000,
      isRequired: false,
    });
  });

  it('fits Teams’ message limit however long the texts are, shortening them first', () => {
    const long = 'x*'.repeat(20_000);
    const view: MessageView = {
      text: long,
      title: long,
      lines: Array.from({ length: 40 }, () => long),
      fields: Array.from({ length: 40 }, (_, i) => ({ label: `f${i}`, value: long })),
      note: long,
    };
    const card = renderCard(view);
    expect(cardBytes(card)).toBeLessThanOrEqual(LIMITS.cardBytes);
    expect(card.body.filter((e) => e.type === 'TextBlock').length).toBeGreaterThanOrEqual(42);
    const activity = { type: 'message', ...renderMessage(view) };
    expect(Buffer.byteLength(JSON.stringify(activity))).toBeLessThanOrEqual(LIMITS.messageBytes);
  });

  it('drops trailing lines and says so when even short texts cannot fit', () => {
    const view: MessageView = {
      text: 'many',
      title: 'Many lines',
      lines: Array.from({ length: 20_000 }, (_, i) => `line ${i}`),
    };
    const card = renderCard(view);
    expect(cardBytes(card)).toBeLessThanOrEqual(LIMITS.cardBytes);
    const texts = card.body.map((e) => readable(String(e.text ?? '')));
    expect(texts).toContain('line 0');
    expect(texts).toContain('(Shortened to fit Teams.)');
    expect(texts).not.toContain('line 19999');
  });
});
