/**
 * How a Slack message reads to a person, by Slack's own rules (docs: "Formatting text for app
 * surfaces", composition objects): for the chat contract's Slack harness.
 *
 * - `plain_text` objects are shown as they are: no mentions, no links.
 * - `mrkdwn` objects and a message's top-level `text` treat `&`, `<` and `>` as control
 *   characters: `<!channel>`, `<@U123>`, `<#C1>`, `<https://x|label>` are mentions and links;
 *   `&lt;` reads as `<`.
 * - A `mrkdwn` object that is not `verbatim: true` is also preprocessed: bare URLs become links,
 *   `#channel` names become channel links, `@here`, `@channel` and `@everyone` become mentions.
 * - The top-level `text` is the notification when blocks are present; with `link_names` off (the
 *   default) bare `@here` in it is not a mention, but `<…>` sequences are.
 */
import type { ActiveMarkup } from './contract.js';

type Json = { [key: string]: unknown };

interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  verbatim: boolean;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every text composition object under `value`, in document order. */
export function textObjects(value: unknown): TextObject[] {
  const out: TextObject[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
      return;
    }
    if (!isObject(v)) return;
    if ((v.type === 'plain_text' || v.type === 'mrkdwn') && typeof v.text === 'string') {
      out.push({ type: v.type, text: v.text, verbatim: v.verbatim === true });
      return;
    }
    for (const child of Object.values(v)) walk(child);
  };
  walk(value);
  return out;
}

/** Text as a person reads it: Slack's three escapes decoded (mrkdwn only), zero-width spaces dropped. */
export function readable(object: Pick<TextObject, 'type' | 'text'>): string {
  const text = object.text.replace(/\u200b/g, '');
  if (object.type === 'plain_text') return text;
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** What Slack makes of one `<…>` control sequence. */
function classify(inner: string, into: ActiveMarkup): void {
  if (/^[@!]/.test(inner)) into.mentions.push(`<${inner}>`);
  else if (/^#/.test(inner) || /^[a-z][a-z0-9+.-]*:/i.test(inner)) into.links.push(`<${inner}>`);
}

function scan(text: string, preprocessed: boolean, into: ActiveMarkup): void {
  for (const m of text.matchAll(/<([^<>]*)>/g)) classify(m[1] ?? '', into);
  if (!preprocessed) return;
  for (const m of text.matchAll(/(?:^|[\s(])@(here|channel|everyone)\b/g)) into.mentions.push(`@${m[1]}`);
  for (const m of text.matchAll(/\b(?:https?:\/\/|www\.)[^\s<>|]+/gi)) into.links.push(m[0]);
  for (const m of text.matchAll(/(?:^|\s)#([a-z0-9][a-z0-9_-]*)/gi)) into.links.push(`#${m[1]}`);
}

/** The mentions and links Slack would make of a message: its blocks and its notification text. */
export function activeMarkupOf(message: { text?: unknown; blocks?: unknown }): ActiveMarkup {
  const found: ActiveMarkup = { mentions: [], links: [] };
  if (typeof message.text === 'string') scan(message.text, false, found);
  for (const object of textObjects(message.blocks ?? [])) {
    if (object.type === 'mrkdwn') scan(object.text, !object.verbatim, found);
  }
  return found;
}

export interface ReadMessage {
  notification: string;
  title: string;
  body: string;
  buttons: string[];
}

/** A message's parts as its recipient reads them: header, body (without the buttons), button labels. */
export function readMessage(message: { text?: unknown; blocks?: unknown }): ReadMessage {
  const blocks = Array.isArray(message.blocks) ? message.blocks.filter(isObject) : [];
  const titles: string[] = [];
  const body: string[] = [];
  const buttons: string[] = [];
  for (const block of blocks) {
    if (block.type === 'header') {
      titles.push(...textObjects(block.text).map(readable));
    } else if (block.type === 'actions') {
      for (const element of Array.isArray(block.elements) ? block.elements.filter(isObject) : []) {
        if (element.type === 'button') buttons.push(...textObjects(element.text).map(readable));
      }
    } else {
      body.push(...textObjects(block).map(readable));
    }
  }
  return {
    notification: readable({ type: 'mrkdwn', text: typeof message.text === 'string' ? message.text : '' }),
    title: titles.join('\n'),
    body: body.join('\n'),
    buttons,
  };
}
