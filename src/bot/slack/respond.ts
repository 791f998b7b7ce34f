/** Turns errors into the sentence the person who clicked sees; details go to the log with a reference. */
import { randomUUID } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import { isDomainError } from '../../domain/errors.js';
import type { Log } from '../../domain/events.js';
import { UnknownSlackUserError } from './directory.js';
import { escapeMrkdwn } from './render.js';

export function userMessageFor(error: unknown, log: Log): string {
  if (isDomainError(error)) return error.message;
  if (error instanceof UnknownSlackUserError) {
    return 'The bot could not read your email address from Slack, so it cannot tell who you are. Ask an administrator to check the app has the users:read.email scope.';
  }
  const ref = randomUUID().slice(0, 8);
  log.error({ err: error, ref }, 'slack.handler_failed');
  return `Something went wrong (reference ${ref}). Try again; if it keeps happening, tell an administrator.`;
}

/** Tells one person something only they can see: ephemeral in the channel when there is one, else a DM. */
export async function tellUser(
  client: WebClient,
  target: { userId: string; channelId?: string | undefined },
  text: string,
): Promise<void> {
  const safe = escapeMrkdwn(text);
  if (target.channelId) {
    await client.chat.postEphemeral({ channel: target.channelId, user: target.userId, text: safe });
    return;
  }
  const opened = await client.conversations.open({ users: target.userId });
  if (opened.channel?.id) await client.chat.postMessage({ channel: opened.channel.id, text: safe });
}
