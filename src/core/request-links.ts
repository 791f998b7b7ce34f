/**
 * Request links: the HTTP API's `requestUrl` when `LINK_SIGNING_SECRET` is set. A link is bound to
 * one person (by email) and one resource, signed (./signed-tokens.ts, purpose `request-link`) and
 * short-lived. Following it (src/http/request-link.ts) has the bot send that person, on the platform
 * they are reached on, a direct message with the request form for that resource one press away,
 * through the outbox, keyed by the link: the same link followed twice sends one message.
 *
 * Slack opens a form only from a person's own click (a trigger id), so the link cannot open the
 * form itself; this is the closest thing: the message's button opens the form with the resource
 * chosen, and in Teams the message is the form.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { normalizeEmail } from '../domain/email.js';
import type { Log } from '../domain/events.js';
import { resourceIdValue } from '../domain/policy-schema.js';
import type { AccessService } from '../domain/service.js';
import { requestPromptDelivery } from './deliveries.js';
import type { Outbox } from './outbox.js';
import { SignedTokens, type TokenCheck } from './signed-tokens.js';

export const REQUEST_LINK_PATH = '/request/{resource}';
/** How long a request link works. */
export const REQUEST_LINK_TTL_MS = 60 * 60_000;

const claimsSchema = z.object({
  /** who the link is for */
  email: z.string().min(3).max(320),
  /** the resource it asks for */
  resource: resourceIdValue,
  /** the link's own id: the message it sends is keyed by it */
  n: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  exp: z.number().int(),
});
export type RequestLinkClaims = z.infer<typeof claimsSchema>;

/** The path of the request link (and of the unsigned page) for `resourceId`. */
export const requestLinkPath = (resourceId: string) =>
  REQUEST_LINK_PATH.replace('{resource}', encodeURIComponent(resourceId));

export class RequestLinks {
  private readonly tokens: SignedTokens<RequestLinkClaims>;

  constructor(
    secret: string,
    private readonly now: () => number,
    private readonly ttlMs = REQUEST_LINK_TTL_MS,
  ) {
    this.tokens = new SignedTokens('request-link', claimsSchema, secret, now);
  }

  /** The link on the server at `base` (PUBLIC_URL) that asks `resourceId` for `email`. */
  url(base: string, email: string, resourceId: string): string {
    const token = this.tokens.sign({
      email: normalizeEmail(email),
      resource: resourceId,
      n: randomBytes(12).toString('base64url'),
      exp: this.now() + this.ttlMs,
    });
    return `${base.replace(/\/+$/, '')}${requestLinkPath(resourceId)}?token=${encodeURIComponent(token)}`;
  }

  /**
   * The claims of `token` when this key signed it, it has not expired, and it was made for the
   * resource in the link's path (`resourceId`); else why not (another resource counts as invalid).
   */
  check(token: string, resourceId: string): TokenCheck<RequestLinkClaims> {
    const checked = this.tokens.check(token);
    if (checked.ok && checked.claims.resource !== resourceId) return { ok: false, reason: 'invalid' };
    return checked;
  }
}

/** What following a valid link did. */
export type PromptOutcome =
  /** The person may not request the resource (unknown, not a requester, closed by its owners): nothing sent. */
  | { kind: 'refused' }
  /** No chat platform knows the person: nothing sent. */
  | { kind: 'unreachable' }
  /** The message is on its way (or was already, for a link followed before) on `platform`. */
  | { kind: 'sent'; platform: string };

export interface RequestPromptDeps {
  service: AccessService;
  outbox: Outbox;
  log: Log;
}

/** The dry run: null when the link's person may request its resource now, else a refusal (logged; audited with `audit`). */
export async function promptRefusal(
  deps: RequestPromptDeps,
  claims: RequestLinkClaims,
  opts: { audit?: boolean } = {},
): Promise<PromptOutcome | null> {
  const refusal = await deps.service.checkRequestable(claims.email, claims.resource, opts);
  if (!refusal) return null;
  deps.log.info({ resourceId: claims.resource, code: refusal.code }, 'request_link.refused');
  return { kind: 'refused' };
}

/**
 * Sends the link's person the request form for its resource, on the platform they are reached on
 * now. Re-checks that they may request it; keyed by the link, so a second call sends nothing more.
 * Throws when a platform cannot say just now whether it knows them (nothing is sent then).
 */
export async function sendPrompt(deps: RequestPromptDeps, claims: RequestLinkClaims): Promise<PromptOutcome> {
  // Audited here, when the person pressed Continue; a page view (or a link preview) only logs.
  const refused = await promptRefusal(deps, claims, { audit: true });
  if (refused) return refused;
  const resource = deps.service.findResource(claims.resource);
  const platform = await deps.outbox.platformFor(claims.email);
  if (!resource || !platform) {
    deps.log.info({ resourceId: claims.resource }, 'request_link.unreachable');
    return { kind: 'unreachable' };
  }
  await deps.outbox.enqueue([
    requestPromptDelivery(claims.email, { id: resource.id, name: resource.name }, claims.n),
  ]);
  deps.log.info({ resourceId: resource.id, platform }, 'request_link.sent');
  return { kind: 'sent', platform };
}
