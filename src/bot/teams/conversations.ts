/**
 * Where a person can be reached in Teams. Teams cannot look people up by email, so the bot keeps
 * each person's personal-chat conversation reference (in the store's `conversations`, by email),
 * saved or refreshed whenever it sees them there: when they install the app (`installationUpdate`),
 * when the bot is added to their chat (`conversationUpdate` with members added), and with every
 * message. Only personal (1:1) conversations count: the bot never posts a person's cards in a
 * team or a group chat.
 */
import { type Activity, type ConversationReference, TurnContext } from 'botbuilder';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import type { Log } from '../../domain/events.js';
import type { ConversationRecord } from '../../domain/model.js';
import type { ConversationRepo } from '../../domain/ports.js';
import type { TeamsIdentity, TeamsPerson } from './identity.js';

export const TEAMS_PLATFORM = 'teams';

/** What a stored reference must hold to be used; anything else in it is kept as Teams gave it. */
export const referenceSchema = z
  .object({
    channelId: z.string().min(1),
    serviceUrl: z.string().refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol)),
    conversation: z.object({ id: z.string().min(1) }).passthrough(),
    user: z.object({ id: z.string().min(1) }).passthrough(),
    bot: z.object({ id: z.string().min(1) }).passthrough(),
  })
  .passthrough();

/** A conversation reference, checked; null when `raw` is not one. */
export function toReference(raw: unknown): Partial<ConversationReference> | null {
  const parsed = referenceSchema.safeParse(raw);
  return parsed.success ? (parsed.data as unknown as Partial<ConversationReference>) : null;
}

/** A stored reference (JSON), checked; null when it is not one. */
export function parseReference(json: string): Partial<ConversationReference> | null {
  try {
    return toReference(JSON.parse(json));
  } catch {
    return null;
  }
}

/** Whether this activity shows the person in their personal chat with the bot. */
export function showsPersonInPersonalChat(activity: Partial<Activity>): boolean {
  if (activity.conversation?.conversationType !== 'personal') return false;
  if (!activity.from?.id || activity.from.id === activity.recipient?.id) return false;
  switch (activity.type) {
    case 'message':
      return true;
    case 'installationUpdate':
      return typeof activity.action !== 'string' || activity.action.startsWith('add');
    case 'conversationUpdate':
      return (activity.membersAdded?.length ?? 0) > 0;
    default:
      return false;
  }
}

/** The person's time zone as the Teams client reports it, when it is a valid IANA zone. */
export function zoneOf(activity: Partial<Activity>): string | undefined {
  const tz = activity.localTimezone;
  return typeof tz === 'string' && IANAZone.isValidZone(tz) ? tz : undefined;
}

export interface RememberDeps {
  conversations: ConversationRepo;
  identity: TeamsIdentity;
  now: () => Date;
  log: Log;
}

/**
 * Saves (or refreshes) the reference of the person behind `context.activity` when it shows them
 * in their personal chat. Returns the person, or null when there was nothing to remember.
 */
export async function rememberConversation(
  context: TurnContext,
  deps: RememberDeps,
): Promise<TeamsPerson | null> {
  const activity = context.activity;
  if (!showsPersonInPersonalChat(activity)) return null;
  const person = await deps.identity.of(context);
  if (!person) {
    deps.log.info({ activityType: activity.type }, 'teams.person_unknown: Teams gave no email for this user');
    return null;
  }
  const { activityId: _notKept, ...reference } = TurnContext.getConversationReference(activity);
  const tz = zoneOf(activity);
  const record: ConversationRecord = {
    email: person.email,
    platform: TEAMS_PLATFORM,
    reference: JSON.stringify(reference),
    ...(tz ? { tz } : {}),
    updatedAt: deps.now(),
  };
  await deps.conversations.save(record);
  return person;
}
