/**
 * Teams' limits, named once, with one truncation helper (as src/bot/slack/limits.ts does for Slack).
 * Teams documents one hard limit for bot messages: about 100 KB for the whole message (activity and
 * cards). The per-text limits below are this app's own, chosen so a card stays readable and a
 * neutral view cannot come near the message limit; the card renderer shortens further if it must.
 */
export const LIMITS = {
  /** Teams refuses a bot message larger than this (the activity's JSON, cards included). */
  messageBytes: 100 * 1024,
  /** What the card may take of it: the rest is the activity envelope and the notification text. */
  cardBytes: 90 * 1024,
  /** The notification / preview text (the activity's `summary`). */
  summary: 1000,
  /** A card's heading. */
  title: 300,
  /** One line, fact or note, before escaping; halved while the card is too large. */
  text: 4000,
  /** Never shortened below this while fitting a card. */
  minText: 100,
  /** A button's label (Teams shows about this much). */
  buttonTitle: 100,
  /** The value a button carries back (ids, not text). */
  buttonValue: 2000,
  /** A menu choice's title (plain text). */
  choiceTitle: 200,
  /** Choices one menu lists (the form lists at most PICKER_LIST_MAX; beyond it the person searches). */
  choices: 100,
  /** Results one `application/search` answer gives, the hint included (Teams shows about 15). */
  searchResults: 15,
  /** An inbound activity (Teams' own messages are far smaller). */
  inboundBytes: 1024 * 1024,
} as const;

/** Cuts `text` to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}
