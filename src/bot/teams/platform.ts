/**
 * Teams' side of the chat seam (src/core/chat.ts): find a person by email, send them a message,
 * edit it later. Teams cannot look people up by email, so a person can be reached when the bot
 * has their personal-chat conversation reference (./conversations.ts); reaching them asks Teams
 * whether they are still a member there (`getMember`) and that the email still matches.
 *
 * A message is a proactive message into that chat (`continueConversation`), carrying an Adaptive
 * Card rendered from the neutral view (./cards.ts). When Teams has lost the conversation, the bot
 * opens the 1:1 chat again (`createConversation`) and keeps the new reference. The address of a
 * message is `{"reference": <conversation reference>, "activityId": "…"}`; an edit is an
 * `updateActivity` there.
 *
 * Every send and edit first takes a slot of Teams' per-conversation rate limits (./throttle.ts).
 * Failures become DeliveryErrors: 429, 412, 5xx, timeouts and network errors are retried (after
 * `Retry-After` when Teams gives one); 403 and 404 (the person removed the app, left the tenant, the
 * conversation or message is gone) and 400/413 (a message Teams refuses) are permanent.
 */

import type { ConversationReference } from 'botbuilder';
import { z } from 'zod';
import { type ChatPerson, type ChatPlatform, DeliveryError, parseAddress } from '../../core/chat.js';
import { normalizeEmail } from '../../domain/email.js';
import type { Log } from '../../domain/events.js';
import type { ConversationRecord } from '../../domain/model.js';
import type { ConversationRepo } from '../../domain/ports.js';
import type { MessageView } from '../../domain/views/model.js';
import type { OutgoingActivity, TeamsAdapter } from './adapter.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, type AdaptiveCard, renderMessage } from './cards.js';
import { connectorFailure } from './connector.js';
import { parseReference, TEAMS_PLATFORM, toReference } from './conversations.js';
import { emailOfMember } from './identity.js';
import { LIMITS, truncate } from './limits.js';
import { ConversationThrottle } from './throttle.js';

/** How long a reach (a `getMember` call) is trusted. */
export const REACH_TTL_MS = 2 * 60 * 1000;

/** Statuses worth another try: throttling, a precondition Teams asks to retry, gateways, any 5xx. */
function retryable(status: number | undefined): boolean {
  return (
    status === undefined ||
    status === 401 ||
    status === 408 ||
    status === 412 ||
    status === 429 ||
    status >= 500
  );
}

/** A Bot Connector failure as the outbox sees it: permanent or worth another try (and when). */
export function toDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const failure = connectorFailure(error);
  const what = failure.status === undefined ? 'Teams unreachable' : `Teams ${failure.status}`;
  const message = `${what}${failure.code ? ` ${failure.code}` : ''}: ${failure.message}`.slice(0, 300);
  return new DeliveryError(message, !retryable(failure.status), failure.retryAfterMs);
}

const addressSchema = z.object({ reference: z.unknown(), activityId: z.string().min(1) });

/** The activity id of a Teams message address (from `send`), or null when it is not one. */
export function activityIdOf(address: string): string | null {
  return parseAddress(address, addressSchema)?.activityId ?? null;
}

export interface TeamsPlatformDeps {
  adapter: TeamsAdapter;
  conversations: ConversationRepo;
  now: () => number;
  log?: Log;
  /** Teams' per-conversation rate limits (a fresh one by default). */
  throttle?: ConversationThrottle;
  /**
   * The request form card for a view that asks for one (`MessageView.requestForm`: a request link's
   * message), prefilled with the resource, `intro` on top; null when it cannot be made. Without it
   * such a view goes out as a plain card, whose button opens the form.
   */
  requestForm?: (person: ChatPerson, resourceId: string, intro: string) => Promise<AdaptiveCard | null>;
}

export class TeamsPlatform implements ChatPlatform {
  readonly name = TEAMS_PLATFORM;
  private readonly reached = new Map<string, { at: number; reference: string; person: ChatPerson | null }>();
  private readonly throttle: ConversationThrottle;

  constructor(private readonly deps: TeamsPlatformDeps) {
    this.throttle = deps.throttle ?? new ConversationThrottle();
  }

  /** Sends `activity` into the reference's conversation once the rate limits allow. */
  private async post(reference: Partial<ConversationReference>, activity: OutgoingActivity): Promise<string> {
    await this.throttle.take(reference.conversation?.id ?? '');
    return this.deps.adapter.send(reference, activity);
  }

  async reach(email: string): Promise<ChatPerson | null> {
    const key = normalizeEmail(email);
    const record = await this.record(key);
    if (!record) return null;
    const cached = this.reached.get(key);
    if (cached && cached.reference === record.reference && this.deps.now() - cached.at < REACH_TTL_MS) {
      return cached.person;
    }
    const reference = parseReference(record.reference);
    if (!reference?.user?.id) {
      this.deps.log?.warn({ email: key }, 'teams.reference_unusable');
      return null;
    }
    let person: ChatPerson | null = null;
    try {
      const member = await this.deps.adapter.member(reference, reference.user.id);
      // Someone else's account behind the conversation now (the email moved): not this person.
      if (emailOfMember(member) === key) {
        person = { email: key, name: member.name || key, ...(record.tz ? { tz: record.tz } : {}) };
      }
    } catch (error) {
      const failure = toDeliveryError(error);
      // Not a member any more (left the tenant, removed the app): not reachable here.
      if (!failure.permanent) throw failure;
    }
    this.reached.set(key, { at: this.deps.now(), reference: record.reference, person });
    return person;
  }

  async send(person: ChatPerson, view: MessageView): Promise<string> {
    const key = normalizeEmail(person.email);
    const record = await this.record(key);
    let reference = record ? parseReference(record.reference) : null;
    if (!record || !reference) throw new DeliveryError(`nobody reachable in Teams with email ${key}`, true);
    const activity = await this.activityFor(person, view);
    try {
      let activityId: string;
      try {
        activityId = await this.post(reference, activity);
      } catch (error) {
        const failure = connectorFailure(error);
        if (failure.status !== 404 || failure.code !== 'ConversationNotFound') throw error;
        // Teams lost the 1:1 chat: open it again, keep the new reference, send there.
        reference = await this.deps.adapter.openPersonalChat(reference);
        await this.deps.conversations.save({
          ...record,
          reference: JSON.stringify(reference),
          updatedAt: new Date(this.deps.now()),
        });
        activityId = await this.post(reference, activity);
      }
      return JSON.stringify({ reference, activityId });
    } catch (error) {
      throw toDeliveryError(error);
    }
  }

  async update(address: string, view: MessageView): Promise<void> {
    await this.replace(address, renderMessage(view));
  }

  /**
   * Replaces the message at `address` (a message address, as from `send`) with `content` (a card
   * rendered by the caller: the home cards); throttled and classified like every edit.
   */
  async replace(address: string, content: OutgoingActivity): Promise<void> {
    const parsed = parseAddress(address, addressSchema);
    const reference = parsed ? toReference(parsed.reference) : null;
    if (!parsed || !reference) {
      throw new DeliveryError(`not a Teams message address: ${address.slice(0, 100)}`, true);
    }
    try {
      const activity = this.checked(content);
      await this.throttle.take(reference.conversation?.id ?? '');
      await this.deps.adapter.update(reference, parsed.activityId, activity);
    } catch (error) {
      throw toDeliveryError(error);
    }
  }

  /** The message activity of a view: the request form card itself when the view asks for it and one can be made. */
  private async activityFor(person: ChatPerson, view: MessageView): Promise<OutgoingActivity> {
    const form =
      view.requestForm && this.deps.requestForm
        ? await this.deps.requestForm(person, view.requestForm.resourceId, view.text)
        : null;
    if (!form) return this.checked(renderMessage(view));
    return this.checked({
      type: 'message' as const,
      summary: truncate(view.text, LIMITS.summary),
      attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: form }],
    });
  }

  /** The message activity of `content`; refused (permanently) when it would pass Teams' size limit. */
  private checked(content: OutgoingActivity) {
    const activity = { ...content, type: 'message' as const };
    const bytes = Buffer.byteLength(JSON.stringify(activity));
    if (bytes > LIMITS.messageBytes) {
      throw new DeliveryError(
        `message of ${bytes} bytes is over Teams' limit of ${LIMITS.messageBytes}`,
        true,
      );
    }
    return activity;
  }

  /** The person's stored Teams conversation, or null; a store that cannot answer is a retry. */
  private async record(email: string): Promise<ConversationRecord | null> {
    let record: ConversationRecord | null;
    try {
      record = await this.deps.conversations.get(email);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      throw new DeliveryError(`conversation store unavailable: ${text}`, false);
    }
    return record && record.platform === TEAMS_PLATFORM ? record : null;
  }
}
