/** Turns errors into the sentence the person who clicked sees; details go to the log with a reference. */
import { randomUUID } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import { isDomainError } from '../../domain/errors.js';
import type { Log } from '../../domain/events.js';
import { StoreUnavailableError } from '../../domain/ports.js';
import { UnknownSlackUserError } from './directory.js';
import { escapeMrkdwn } from './render.js';

export function userMessageFor(error: unknown, log: Log): string {
  if (isDomainError(error)) return error.message;
  if (error instanceof StoreUnavailableError) {
    log.warn({ err: error }, 'slack.store_unavailable');
    return 'The bot could not reach its database just now. Try again in a minute: what you did was either saved in full or not at all.';
  }
  if (error instanceof UnknownSlackUserError) {
    return 'The bot cannot tell who you are: Slack gave it no confirmed email address for your account. Ask an administrator (the app needs the users:read.email scope).';
  }
  const ref = randomUUID().slice(0, 8);
  log.error({ err: error, ref }, 'slack.handler_failed');
  return `Something went wrong (reference ${ref}). Try again; if it keeps happening, tell an administrator.`;
}

/** Posts to an interaction's response_url (Bolt's `respond`). */
export type RespondFn = (message: {
  text: string;
  response_type: 'ephemeral';
  replace_original: false;
}) => Promise<unknown>;

/** Who to tell, and where: the interaction's response_url when there is one, else its channel. */
export interface Recipient {
  userId: string;
  channelId?: string | undefined;
  respond?: RespondFn | undefined;
}

/**
 * Tells one person something only they can see. After a click: ephemeral through the
 * interaction's response_url, which reaches the clicker wherever they clicked (even where the
 * bot may not post, or the conversation is not theirs). Otherwise, or if that fails: ephemeral
 * in the channel when there is one, else a DM.
 */
export async function tellUser(client: WebClient, target: Recipient, text: string): Promise<void> {
  const safe = escapeMrkdwn(text);
  if (target.respond) {
    try {
      await target.respond({ text: safe, response_type: 'ephemeral', replace_original: false });
      return;
    } catch {
      // An expired or used-up response_url: fall back to the Web API below.
    }
  }
  if (target.channelId) {
    await client.chat.postEphemeral({ channel: target.channelId, user: target.userId, text: safe });
    return;
  }
  const opened = await client.conversations.open({ users: target.userId });
  if (opened.channel?.id) await client.chat.postMessage({ channel: opened.channel.id, text: safe });
}
