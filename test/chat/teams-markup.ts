/**
 * How a Teams message reads to a person, by Teams' own rules, for the chat contract's Teams harness.
 *
 * - A message from the bot shows its `summary` in notifications and previews (plain text), and
 *   its Adaptive Card in the chat.
 * - In an Adaptive Card, `TextBlock.text` and `Fact.title` / `Fact.value` are Markdown (CommonMark's
 *   inline subset): a backslash before an ASCII punctuation character makes it literal; `[x](url)`
 *   and `<scheme:…>` are links, and Teams also turns bare URLs (`https://…`, `www.…`, `//host`)
 *   and bare domain names and emails into links. `TextRun` text and button titles are plain text.
 * - A mention is a `mention` entity in `msteams.entities` with `<at>…</at>` in the text; the
 *   reader counts any unescaped `<at>` as one (conservative), and every mention entity.
 * - Actions: `Action.Execute`, `Action.Submit`, `Action.ShowCard`, `Action.OpenUrl` are buttons;
 *   an `Action.OpenUrl` (or a `selectAction` that opens a URL) is a link.
 */
import type { ActiveMarkup } from './contract.js';

type Json = { [key: string]: unknown };

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const ESCAPE = /\\([!-/:-@[-`{-~])/g;

/** Markdown text as a person reads it: escapes resolved, zero-width characters dropped. */
export function readable(markdown: string): string {
  return markdown.replace(/[\u200b-\u200d\u2060]/g, '').replace(ESCAPE, '$1');
}

/**
 * The text a Markdown renderer sees as syntax: every escaped character replaced by a character
 * that is neither syntax nor part of a word (so it splits links and domains as an escape does).
 */
function syntaxOf(markdown: string): string {
  return markdown.replace(ESCAPE, '\uE000');
}

function scanMarkdown(markdown: string, into: ActiveMarkup): void {
  const text = syntaxOf(markdown);
  const taken: Array<[number, number]> = [];
  const find = (pattern: RegExp, list: string[]) => {
    for (const m of text.matchAll(pattern)) {
      const from = m.index ?? 0;
      const to = from + m[0].length;
      if (taken.some(([a, b]) => from < b && to > a)) continue;
      taken.push([from, to]);
      list.push(m[0]);
    }
  };
  find(/<at>[^<]*<\/at>/gi, into.mentions);
  find(/\[[^\]\uE000]*\]\([^)\uE000]*\)/g, into.links);
  find(/<[a-z][a-z0-9+.-]*:[^<>\s\uE000]*>/gi, into.links);
  find(/(?:\b[a-z][a-z0-9+.-]*:)?\/\/[^\s\uE000<>()]+|\bwww\.[^\s\uE000<>()]+/gi, into.links);
  // Bare emails and domains (a linkifier's "fuzzy" links): labels, a dot, a top-level domain.
  find(/(?:[a-z0-9._%+-]+@)?\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b/gi, into.links);
}

interface CardText {
  kind: 'title' | 'body';
  markdown: boolean;
  text: string;
}

/** Every text a card shows (ShowCards' hidden cards excepted), in document order. */
function cardTexts(card: Json): CardText[] {
  const out: CardText[] = [];
  const walk = (element: unknown): void => {
    if (Array.isArray(element)) {
      for (const e of element) walk(e);
      return;
    }
    if (!isObject(element)) return;
    switch (element.type) {
      case 'TextBlock':
        if (typeof element.text === 'string') {
          out.push({
            kind: element.style === 'heading' ? 'title' : 'body',
            markdown: true,
            text: element.text,
          });
        }
        return;
      case 'FactSet':
        for (const fact of Array.isArray(element.facts) ? element.facts.filter(isObject) : []) {
          for (const part of [fact.title, fact.value]) {
            if (typeof part === 'string') out.push({ kind: 'body', markdown: true, text: part });
          }
        }
        return;
      case 'RichTextBlock':
        for (const inline of Array.isArray(element.inlines) ? element.inlines : []) {
          const text = isObject(inline) ? inline.text : inline;
          if (typeof text === 'string') out.push({ kind: 'body', markdown: false, text });
        }
        return;
      default:
        for (const key of ['items', 'columns', 'body']) walk(element[key]);
    }
  };
  walk(card.body);
  return out;
}

function cardOf(activity: Json): Json | null {
  const attachments = Array.isArray(activity.attachments) ? activity.attachments.filter(isObject) : [];
  const card = attachments.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
  return card && isObject(card.content) ? card.content : null;
}

const BUTTONS = new Set([
  'Action.Execute',
  'Action.Submit',
  'Action.ShowCard',
  'Action.OpenUrl',
  'Action.ToggleVisibility',
]);

export interface ReadMessage {
  notification: string;
  title: string;
  body: string;
  buttons: string[];
}

/** A message's parts as its recipient reads them: heading, body (without the buttons), button titles. */
export function readActivity(activity: Json): ReadMessage {
  const card = cardOf(activity);
  const texts = card ? cardTexts(card) : [];
  const show = (t: CardText) => (t.markdown ? readable(t.text) : t.text);
  const actions = card && Array.isArray(card.actions) ? card.actions.filter(isObject) : [];
  const body = texts.filter((t) => t.kind === 'body').map(show);
  if (typeof activity.text === 'string' && activity.text !== '') body.unshift(readable(activity.text));
  return {
    notification: typeof activity.summary === 'string' ? activity.summary : '',
    title: texts
      .filter((t) => t.kind === 'title')
      .map(show)
      .join('\n'),
    body: body.join('\n'),
    buttons: actions.filter((a) => BUTTONS.has(String(a.type))).map((a) => String(a.title ?? '')),
  };
}

/** The mentions and links Teams would make of a message. */
export function activeMarkupOf(activity: Json): ActiveMarkup {
  const found: ActiveMarkup = { mentions: [], links: [] };
  const entities = [
    ...(Array.isArray(activity.entities) ? activity.entities : []),
    ...(() => {
      const card = cardOf(activity);
      const msteams = card && isObject(card.msteams) ? card.msteams : null;
      return msteams && Array.isArray(msteams.entities) ? msteams.entities : [];
    })(),
  ].filter(isObject);
  for (const entity of entities) if (entity.type === 'mention') found.mentions.push(JSON.stringify(entity));
  if (typeof activity.text === 'string') scanMarkdown(activity.text, found);
  const card = cardOf(activity);
  if (card) {
    for (const t of cardTexts(card)) if (t.markdown) scanMarkdown(t.text, found);
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) {
        for (const child of v) walk(child);
        return;
      }
      if (!isObject(v)) return;
      if (v.type === 'Action.OpenUrl' && typeof v.url === 'string') found.links.push(v.url);
      for (const child of Object.values(v)) walk(child);
    };
    walk(card);
  }
  return found;
}
