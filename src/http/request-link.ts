/**
 * `GET /request/{resource}`: where the API's `requestUrl` points (GET /api/v1/access, when access is
 * not held), so a locked resource can send its user straight to the request. A page that says how to
 * ask (`/request-access <resource>` in Slack) with a button that opens the bot's direct messages in
 * Slack (https://slack.com/app_redirect with the workspace and the bot user, learnt from auth.test).
 * It confirms nothing about the resource (not even that it exists), so it is safe to serve openly.
 */
import type { IncomingMessage } from 'node:http';
import { pathParams, type Route } from './server.js';

export const REQUEST_LINK_PATH = '/request/{resource}';

/** Where Slack opens the bot's DM, when Slack is configured and has said who the bot is. */
export type SlackTarget = () => Promise<{ teamId: string; botUserId: string } | null>;

/** The absolute link for `resourceId`: on PUBLIC_URL, or else on the host the caller reached. */
export function requestUrlFor(
  publicUrl: string | undefined,
  resourceId: string,
  req: IncomingMessage,
): string {
  const base = publicUrl ?? `http://${req.headers.host ?? 'localhost'}`;
  return `${base}${REQUEST_LINK_PATH.replace('{resource}', encodeURIComponent(resourceId))}`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function requestLinkRoute(slack: SlackTarget): Route {
  return {
    method: 'GET',
    path: REQUEST_LINK_PATH,
    handler: async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const resource = pathParams(REQUEST_LINK_PATH, path)?.resource ?? '';
      const valid = /^[a-z0-9][a-z0-9._-]{0,199}$/.test(resource);
      const target = valid ? await slack().catch(() => null) : null;
      const command = `/request-access ${resource}`;
      const open = target
        ? `<p><a href="https://slack.com/app_redirect?team=${encodeURIComponent(target.teamId)}&amp;channel=${encodeURIComponent(target.botUserId)}">Open JIT Access in Slack</a>, then send the command above.</p>`
        : '';
      const body = valid
        ? `<h1>Request access</h1><p>To request access to <code>${escapeHtml(resource)}</code>, run this in Slack:</p><pre>${escapeHtml(command)}</pre>${open}`
        : '<h1>Request access</h1><p>This link does not name a resource.</p>';
      const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Request access</title></head><body>${body}</body></html>`;
      res.writeHead(valid ? 200 : 404, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'",
        'cache-control': 'no-store',
      });
      res.end(html);
    },
  };
}
