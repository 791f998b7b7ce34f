/**
 * The pages of the request link (./request-link.ts): plain HTML, no script, no style, nothing loaded
 * from anywhere (`default-src 'none'`), never framed (`frame-ancestors 'none'`), never cached, and no
 * Referer (the link's token is in its URL). Every text from outside is escaped.
 */
import type { ServerResponse } from 'node:http';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

/** Human names of the chat platforms. */
const PLATFORM_NAMES: Record<string, string> = { slack: 'Slack', teams: 'Microsoft Teams' };
export const platformName = (platform: string | null) =>
  (platform && PLATFORM_NAMES[platform]) ?? 'your chat app';

export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // No form-action: the form posts to this page, whose answer redirects into Slack or Teams, and
  // their own redirects after that would be refused by a list of hosts. No script runs here anyway.
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
} as const;

/** Sends a page: `body` is HTML already escaped by the caller (use `text` and `code` below). */
export function sendPage(res: ServerResponse, status: number, title: string, body: string): void {
  if (res.headersSent) return;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
  res.writeHead(status, PAGE_HEADERS);
  res.end(html);
}

/** A paragraph of plain text. */
export const text = (s: string) => `<p>${escapeHtml(s)}</p>`;
export const code = (s: string) => `<code>${escapeHtml(s)}</code>`;
export const link = (href: string, label: string) => `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;

/** The unsigned page (no LINK_SIGNING_SECRET): how to ask in Slack, and a link into the bot's DM. */
export function howToAskPage(res: ServerResponse, resource: string, slackDm: string | null): void {
  const open = slackDm
    ? `<p>${link(slackDm, 'Open JIT Access in Slack')}, then send the command above.</p>`
    : '';
  sendPage(
    res,
    200,
    'Request access',
    `<p>To request access to ${code(resource)}, run this in Slack:</p><pre>${escapeHtml(`/request-access ${resource}`)}</pre>${open}`,
  );
}

/**
 * The signed link's first page: nothing is sent until the person presses the button, so a link
 * preview or a mail scanner that fetches the link sends nothing. The form posts to this same URL.
 */
export function continuePage(res: ServerResponse, resource: string, token: string, platform: string | null) {
  sendPage(
    res,
    200,
    'Request access',
    `<p>JIT Access will send you the request form for ${code(resource)} in a direct message${platform ? ` in ${escapeHtml(platformName(platform))}` : ''}, and take you there.</p>` +
      `<form method="post"><input type="hidden" name="token" value="${escapeHtml(token)}"><button type="submit">Continue to ${escapeHtml(platformName(platform))}</button></form>`,
  );
}

export const REFUSED_TEXT =
  'You cannot request access to this resource with JIT Access right now. Ask the people who look after it, or an administrator.';
export const INVALID_TEXT =
  'This request link is not valid, so nothing was sent. Go back to where you found it and follow it from there.';
export const EXPIRED_TEXT =
  'This request link has expired, so nothing was sent. Go back to where you found it to get a fresh one.';
export const UNREACHABLE_TEXT =
  'JIT Access cannot reach you in Slack or Microsoft Teams yet, so nothing was sent. Open the JIT Access app there once, then follow the link again.';
export const TRY_AGAIN_TEXT =
  'JIT Access could not reach its chat platform or its database just now, so nothing was sent. Try again in a minute.';

/** After a message was sent where the bot has no link to open (e.g. Teams without an app id). */
export function sentPage(res: ServerResponse, platform: string): void {
  sendPage(
    res,
    200,
    'Request access',
    text(
      `The request form is waiting for you in your direct messages with JIT Access in ${platformName(platform)}.`,
    ),
  );
}
