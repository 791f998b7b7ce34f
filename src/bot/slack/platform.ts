/**
 * Slack's side of the chat seam (src/core/chat.ts): find a person by email, send a direct
 * message, edit it later. Its Web API client fails fast (no retries of its own, rate limits
 * rejected with their `Retry-After`) so that the outbox, not a request in flight, decides when to
 * try again. The address of a message is `{"channel","ts"}`.
 */
import { WebAPIPlatformError, WebAPIRateLimitedError, type WebClient } from '@slack/web-api';
import { z } from 'zod';
import { type ChatPerson, type ChatPlatform, DeliveryError, parseAddress } from '../../core/chat.js';
import type { Log } from '../../domain/events.js';
import type { MessageView } from '../../domain/views/model.js';
import { SlackDirectory, UnknownSlackUserError } from './directory.js';
import { slackLogger } from './logger.js';
import { asJsonArg, renderMessage } from './render.js';
import { SlackApiClient } from './web-client.js';

/** Slack errors that no retry can fix: the person is not (or no longer) reachable on Slack. */
const PERMANENT = new Set([
  'user_not_found',
  'users_not_found',
  'user_disabled',
  'cannot_dm_bot',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  // a message Slack refuses as malformed: sending it again cannot help
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_attachments',
  'too_many_attachments',
  'msg_too_long',
  'no_text',
  'invalid_arguments',
]);

/** How long one Slack call may take before the outbox tries again later. */
export const DELIVERY_TIMEOUT_MS = 10_000;

const addressSchema = z.object({ channel: z.string().min(1), ts: z.string().min(1) });

export function deliveryClient(
  token: string,
  apiUrl: string,
  timeoutMs = DELIVERY_TIMEOUT_MS,
  log?: Log,
): WebClient {
  // the app's own per-call path over kept-alive connections, each call given `timeoutMs` (./web-client.ts)
  return new SlackApiClient(token, {
    ...(log ? { logger: slackLogger(log.child({ component: 'slack-delivery' })) } : {}),
    slackApiUrl: apiUrl,
    timeoutMs,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
}

/** A Slack Web API failure as the outbox sees it: permanent or worth another try (and when). */
export function toDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof WebAPIRateLimitedError) {
    return new DeliveryError(
      `Slack rate limit (retry after ${error.retryAfter} s)`,
      false,
      error.retryAfter * 1000,
    );
  }
  if (error instanceof WebAPIPlatformError) {
    const code = String(error.data.error);
    return new DeliveryError(`Slack: ${code}`, PERMANENT.has(code));
  }
  if (error instanceof UnknownSlackUserError) return new DeliveryError(error.message, true);
  const text = error instanceof Error ? error.message : String(error);
  return new DeliveryError(`Slack unreachable: ${text}`, false);
}

/** Errors after which a remembered DM channel is opened afresh on the next try. */
const STALE_CHANNEL = new Set(['channel_not_found', 'is_archived', 'not_in_channel']);

export class SlackPlatform implements ChatPlatform {
  readonly name = 'slack';
  private readonly directory: SlackDirectory;
  /**
   * The DM channel of each Slack user, once opened: it does not change, and `conversations.open`
   * is rate limited (Tier 3, 50 a minute), so opening it for every message would hold up a fan-out
   * of 20 approval cards for a minute after two requests.
   */
  private readonly dmChannels = new Map<string, string>();

  /**
   * @param people the front end's directory, when there is one: what either learns about a person
   *   serves both (asked through this platform's own fail-fast client).
   */
  constructor(
    private readonly client: WebClient,
    now: () => number,
    people?: SlackDirectory,
  ) {
    this.directory = people ? people.through(client) : new SlackDirectory(client, now);
  }

  async reach(email: string): Promise<ChatPerson | null> {
    try {
      const person = await this.directory.byEmail(email);
      return person
        ? { email: person.email, name: person.name, ...(person.tz ? { tz: person.tz } : {}) }
        : null;
    } catch (error) {
      // A deactivated account, a bot or an unconfirmed email: not a person the bot can reach.
      if (error instanceof UnknownSlackUserError) return null;
      throw toDeliveryError(error);
    }
  }

  async send(person: ChatPerson, view: MessageView): Promise<string> {
    try {
      const slackUser = await this.directory.byEmail(person.email);
      if (!slackUser) throw new DeliveryError(`no Slack user with email ${person.email}`, true);
      const channel = await this.dmChannel(slackUser.userId);
      let posted: Awaited<ReturnType<WebClient['chat']['postMessage']>>;
      try {
        const { text, blocks } = renderMessage(view);
        posted = await this.client.chat.postMessage({
          channel,
          text,
          blocks: asJsonArg(blocks),
          unfurl_links: false,
          unfurl_media: false,
        });
      } catch (error) {
        if (error instanceof WebAPIPlatformError && STALE_CHANNEL.has(String(error.data.error))) {
          this.dmChannels.delete(slackUser.userId);
        }
        throw error;
      }
      if (!posted.ts) throw new DeliveryError('chat.postMessage returned no ts', false);
      return JSON.stringify({ channel, ts: posted.ts });
    } catch (error) {
      throw toDeliveryError(error);
    }
  }

  private async dmChannel(userId: string): Promise<string> {
    const known = this.dmChannels.get(userId);
    if (known) return known;
    const opened = await this.client.conversations.open({ users: userId });
    const channel = opened.channel?.id;
    if (!channel) throw new DeliveryError(`conversations.open returned no channel for ${userId}`, false);
    this.dmChannels.set(userId, channel);
    return channel;
  }

  async update(address: string, view: MessageView): Promise<void> {
    const parsed = parseAddress(address, addressSchema);
    if (!parsed) throw new DeliveryError(`not a Slack message address: ${address.slice(0, 100)}`, true);
    try {
      const { text, blocks } = renderMessage(view);
      await this.client.chat.update({
        channel: parsed.channel,
        ts: parsed.ts,
        text,
        blocks: asJsonArg(blocks),
      });
    } catch (error) {
      throw toDeliveryError(error);
    }
  }
}
