/**
 * Renders neutral MessageViews (src/domain/views) to Adaptive Cards 1.5, what Teams renders. The
 * only place messages get Adaptive Card syntax.
 *
 * - Title: a `TextBlock` with `style: heading`; lines: `TextBlock`s; fields: one `FactSet`; the note:
 *   a small, subtle `TextBlock`.
 * - Buttons: Universal Actions (`Action.Execute`) with `verb` = the neutral `ActionId` and
 *   `data: { value }`. A button with a confirmation becomes an `Action.ShowCard` whose card states
 *   the question and holds the `Action.Execute` (Teams has no confirm dialog on a button).
 * - Typed text is inert: Teams renders `TextBlock.text` and `Fact.title`/`Fact.value` as Markdown
 *   (and turns bare URLs into links), and `<at>…</at>` is its mention syntax. Every ASCII
 *   punctuation character of every text is backslash-escaped (CommonMark allows it for exactly
 *   these), so no `*`, `_`, `[x](url)`, `<at>`, heading or list marker takes effect, and a URL or a
 *   domain name is broken up where a linkifier looks for it. A person still reads the characters
 *   that were typed. Button titles and the notification `summary` are plain text in Teams.
 * - Size: every text is cut to `LIMITS.text` (before escaping, so no escape is cut in half), and
 *   the limit is halved until the card's JSON fits `LIMITS.cardBytes` (Teams refuses messages over
 *   about 100 KB); past the smallest limit, trailing lines and fields are dropped, and the card says so.
 */
import type { MessageView, ViewAction } from '../../domain/views/model.js';
import { LIMITS, truncate } from './limits.js';

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const ADAPTIVE_CARD_VERSION = '1.5';

export type CardElement = { type: string; [key: string]: unknown };

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: string;
  version: string;
  fallbackText?: string;
  body: CardElement[];
  actions?: CardElement[];
}

/** Backslash-escapes every ASCII punctuation character: the text renders as typed, inert. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/** The data an `Action.Execute` of this app carries back (its verb is the ActionId). */
export interface ActionData {
  value: string;
}

function execute(action: ViewAction, title: string): CardElement {
  const element: CardElement = {
    type: 'Action.Execute',
    title: truncate(title, LIMITS.buttonTitle),
    verb: action.id,
    data: { value: truncate(action.value, LIMITS.buttonValue) } satisfies ActionData,
  };
  if (action.style) element.style = action.style === 'primary' ? 'positive' : 'destructive';
  return element;
}

function renderAction(action: ViewAction, max: number): CardElement {
  if (!action.confirm) return execute(action, action.label);
  const { confirm } = action;
  return {
    type: 'Action.ShowCard',
    title: truncate(action.label, LIMITS.buttonTitle),
    card: {
      type: 'AdaptiveCard',
      body: [
        {
          type: 'TextBlock',
          text: escapeMarkdown(truncate(confirm.title, LIMITS.title)),
          weight: 'Bolder',
          wrap: true,
        },
        { type: 'TextBlock', text: escapeMarkdown(truncate(confirm.text, max)), wrap: true },
      ],
      actions: [execute(action, confirm.confirm)],
    },
  };
}

function build(view: MessageView, max: number, keep: number): AdaptiveCard {
  const lines = view.lines ?? [];
  const fields = view.fields ?? [];
  const body: CardElement[] = [
    {
      type: 'TextBlock',
      text: escapeMarkdown(truncate(view.title, LIMITS.title)),
      style: 'heading',
      size: 'Large',
      weight: 'Bolder',
      wrap: true,
    },
  ];
  for (const line of lines.slice(0, keep)) {
    body.push({ type: 'TextBlock', text: escapeMarkdown(truncate(line, max)), wrap: true });
  }
  if (fields.length > 0 && keep > 0) {
    body.push({
      type: 'FactSet',
      facts: fields.slice(0, keep).map((f) => ({
        title: escapeMarkdown(truncate(f.label, LIMITS.title)),
        value: escapeMarkdown(truncate(f.value, max)),
      })),
    });
  }
  if (keep < lines.length || keep < fields.length) {
    body.push({
      type: 'TextBlock',
      text: escapeMarkdown('(Shortened to fit Teams.)'),
      isSubtle: true,
      wrap: true,
    });
  }
  if (view.note) {
    body.push({
      type: 'TextBlock',
      text: escapeMarkdown(truncate(view.note, max)),
      isSubtle: true,
      size: 'Small',
      wrap: true,
      spacing: 'Medium',
    });
  }
  const card: AdaptiveCard = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ADAPTIVE_CARD_VERSION,
    fallbackText: escapeMarkdown(truncate(view.text, LIMITS.summary)),
    body,
  };
  if (view.actions?.length) card.actions = view.actions.map((a) => renderAction(a, max));
  return card;
}

export function cardBytes(card: AdaptiveCard): number {
  return Buffer.byteLength(JSON.stringify(card));
}

/** The Adaptive Card of a view, within `LIMITS.cardBytes`. */
export function renderCard(view: MessageView): AdaptiveCard {
  const all = Math.max(view.lines?.length ?? 0, view.fields?.length ?? 0);
  let max: number = LIMITS.text;
  for (;;) {
    const card = build(view, max, all);
    if (cardBytes(card) <= LIMITS.cardBytes) return card;
    if (max <= LIMITS.minText) break;
    max = Math.max(LIMITS.minText, Math.floor(max / 2));
  }
  for (let keep = Math.floor(all / 2); keep > 0; keep = Math.floor(keep / 2)) {
    const card = build(view, LIMITS.minText, keep);
    if (cardBytes(card) <= LIMITS.cardBytes) return card;
  }
  return build(view, LIMITS.minText, 0);
}

/** What a message activity to Teams carries for a view: the card, and the notification text. */
export interface RenderedMessage {
  summary: string;
  attachments: Array<{ contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE; content: AdaptiveCard }>;
}

export function renderMessage(view: MessageView): RenderedMessage {
  return {
    summary: truncate(view.text, LIMITS.summary),
    attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: renderCard(view) }],
  };
}
