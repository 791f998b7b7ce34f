/**
 * `/request/{resource}`: where the API's `requestUrl` points (GET /api/v1/access, when access is not
 * held), so a locked resource can send its user straight to the request.
 *
 * With `LINK_SIGNING_SECRET` set, `requestUrl` carries a signed, short-lived token bound to the
 * person and the resource (src/core/request-links.ts):
 * - `GET /request/{resource}?token=…` checks the token and that the person may request the
 *   resource, and shows a one-button page ("Continue to Slack"). It sends nothing: link previews,
 *   chat unfurlers and mail scanners fetch links with GET, and must not message anyone.
 * - `POST /request/{resource}` (that button: a plain form, no script) checks everything again, has
 *   the bot send the person the request form for the resource through the outbox (keyed by the
 *   link, so pressing twice or reloading sends one message), and answers 303 into the chat where
 *   it went: Slack's `app_redirect` to the bot's DM, or Teams' deep link to the bot's personal chat.
 * An expired, forged or altered link (another resource in the path included) gets a page saying so;
 * a resource the person may not request gets one sentence that says no more than the API would.
 *
 * Without the secret, and for a link without a token, the page only says how to ask in Slack
 * (`/request-access <resource>`) with a link into the bot's DM; it confirms nothing about the
 * resource (not even that it exists), so it is safe to serve openly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { DeliveryError } from '../core/chat.js';
import {
  promptRefusal,
  REQUEST_LINK_PATH,
  type RequestLinks,
  type RequestPromptDeps,
  requestLinkPath,
  sendPrompt,
} from '../core/request-links.js';
import { resourceIdValue } from '../domain/policy-schema.js';
import { StoreUnavailableError } from '../domain/ports.js';
import {
  continuePage,
  EXPIRED_TEXT,
  howToAskPage,
  INVALID_TEXT,
  REFUSED_TEXT,
  sendPage,
  sentPage,
  TRY_AGAIN_TEXT,
  text,
  UNREACHABLE_TEXT,
} from './request-link-pages.js';
import { pathParams, type Route } from './server.js';

export { REQUEST_LINK_PATH } from '../core/request-links.js';

/** Where Slack opens the bot's DM, when Slack is configured and has said who the bot is. */
export type SlackTarget = () => Promise<{ teamId: string; botUserId: string } | null>;

/** Slack's link into the bot's direct messages. */
export const slackDmUrl = (target: { teamId: string; botUserId: string }) =>
  `https://slack.com/app_redirect?team=${encodeURIComponent(target.teamId)}&channel=${encodeURIComponent(target.botUserId)}`;

/** Teams' deep link to the personal chat with the bot (its Microsoft App Id, the manifest's botId). */
export const teamsChatUrl = (appId: string) =>
  `https://teams.microsoft.com/l/chat/0/0?users=28:${encodeURIComponent(appId)}`;

/**
 * The link into the chat with the bot on a platform: Slack's DM (when Slack has said who the bot
 * is), Teams' personal chat (when the bot has an app id); null otherwise.
 */
export function chatLinks(slack: SlackTarget, teamsAppId: string) {
  return async (platform: string): Promise<string | null> => {
    if (platform === 'teams') return teamsAppId ? teamsChatUrl(teamsAppId) : null;
    const target = await slack();
    return target ? slackDmUrl(target) : null;
  };
}

/** The unsigned link for `resourceId`: on PUBLIC_URL, or else on the host the caller reached. */
export function requestUrlFor(
  publicUrl: string | undefined,
  resourceId: string,
  req: IncomingMessage,
): string {
  return `${baseUrl(publicUrl, req)}${requestLinkPath(resourceId)}`;
}

/** Where people reach this server: PUBLIC_URL, or else the host the caller used. */
export function baseUrl(publicUrl: string | undefined, req: IncomingMessage): string {
  return publicUrl ?? `http://${req.headers.host ?? 'localhost'}`;
}

export interface RequestLinkDeps {
  slack: SlackTarget;
  /** The signed links, when LINK_SIGNING_SECRET is set. */
  signed?: {
    links: RequestLinks;
    prompts: RequestPromptDeps;
    /** The link into the chat with the bot on `platform`, when there is one. */
    chatUrl: (platform: string) => Promise<string | null>;
  };
}

/** The largest form body read (one token). */
const MAX_BODY_BYTES = 8 * 1024;
const tokenField = z.string().min(1).max(4096);

function resourceOf(req: IncomingMessage): string | null {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const parsed = resourceIdValue.safeParse(pathParams(REQUEST_LINK_PATH, path)?.resource);
  return parsed.success ? parsed.data : null;
}

async function formToken(req: IncomingMessage): Promise<string | null> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  const parsed = tokenField.safeParse(
    new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('token'),
  );
  return parsed.success ? parsed.data : null;
}

const notFound = (res: ServerResponse) =>
  sendPage(res, 404, 'Request access', text('This link does not name a resource.'));

/** A platform or the store could not answer: nothing was sent, try again. */
function isTransient(error: unknown): boolean {
  return error instanceof StoreUnavailableError || (error instanceof DeliveryError && !error.permanent);
}

export function requestLinkRoutes(deps: RequestLinkDeps): Route[] {
  const { signed } = deps;
  const slackDm = async () => {
    const target = await deps.slack().catch(() => null);
    return target ? slackDmUrl(target) : null;
  };
  const refuseLink = (res: ServerResponse, reason: 'invalid' | 'expired') =>
    sendPage(res, 403, 'Request access', text(reason === 'expired' ? EXPIRED_TEXT : INVALID_TEXT));

  const get: Route = {
    method: 'GET',
    path: REQUEST_LINK_PATH,
    handler: async (req, res) => {
      const resource = resourceOf(req);
      if (!resource) return notFound(res);
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      if (!signed || !query.has('token')) return howToAskPage(res, resource, await slackDm());
      const token = query.get('token') ?? '';
      const checked = signed.links.check(token, resource);
      if (!checked.ok) return refuseLink(res, checked.reason);
      try {
        if (await promptRefusal(signed.prompts, checked.claims)) {
          return sendPage(res, 403, 'Request access', text(REFUSED_TEXT));
        }
        // Only to name the button; the press asks again.
        const platform = await signed.prompts.outbox.platformFor(checked.claims.email).catch(() => null);
        return continuePage(res, resource, token, platform);
      } catch (error) {
        if (!isTransient(error)) throw error;
        return sendPage(res, 503, 'Request access', text(TRY_AGAIN_TEXT));
      }
    },
  };
  if (!signed) return [get];

  const post: Route = {
    method: 'POST',
    path: REQUEST_LINK_PATH,
    handler: async (req, res) => {
      const resource = resourceOf(req);
      if (!resource) return notFound(res);
      const token = await formToken(req);
      if (!token) return refuseLink(res, 'invalid');
      const checked = signed.links.check(token, resource);
      if (!checked.ok) return refuseLink(res, checked.reason);
      try {
        const outcome = await sendPrompt(signed.prompts, checked.claims);
        if (outcome.kind === 'refused') return sendPage(res, 403, 'Request access', text(REFUSED_TEXT));
        if (outcome.kind === 'unreachable')
          return sendPage(res, 409, 'Request access', text(UNREACHABLE_TEXT));
        const location = await signed.chatUrl(outcome.platform).catch(() => null);
        if (!location) return sentPage(res, outcome.platform);
        res.writeHead(303, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
        res.end();
      } catch (error) {
        if (!isTransient(error)) throw error;
        return sendPage(res, 503, 'Request access', text(TRY_AGAIN_TEXT));
      }
    },
  };
  return [get, post];
}
