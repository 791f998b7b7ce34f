/**
 * Maps Slack users to people. The person behind a click is the Slack user id from the signed
 * payload, resolved through the Web API (`users.info`) to an email; never a name or email taken
 * from a payload. Results are cached briefly; a deactivated or bot user is not a person.
 */
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { Person } from '../../domain/model.js';

export interface SlackPerson extends Person {
  userId: string;
  tz?: string;
}

const userSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  real_name: z.string().optional(),
  tz: z.string().optional(),
  is_bot: z.boolean().optional(),
  deleted: z.boolean().optional(),
  is_email_confirmed: z.boolean().optional(),
  profile: z
    .object({
      email: z.string().optional(),
      real_name: z.string().optional(),
      display_name: z.string().optional(),
    })
    .optional(),
});

export class UnknownSlackUserError extends Error {
  readonly code = 'SLACK_USER_UNRESOLVED';
}

/** How long a user lookup is trusted; a deactivated approver loses their say within this. */
const TTL_MS = 2 * 60 * 1000;

/** What a directory has learned: shared by the directories of one workspace (./platform.ts). */
export class SlackPeopleCache {
  readonly byId = new Map<string, { at: number; person: SlackPerson }>();
  readonly idByEmail = new Map<string, { at: number; id: string | null }>();
}

export class SlackDirectory {
  constructor(
    private readonly client: WebClient,
    private readonly now: () => number = Date.now,
    private readonly cache = new SlackPeopleCache(),
  ) {}

  /**
   * The same directory (what it has learned, and learns from now on) asking Slack through
   * `client`: the outbox's fail-fast client shares what the front end learned, so a person met in
   * a click is not looked up again to be sent a message, and the other way round.
   */
  through(client: WebClient): SlackDirectory {
    return new SlackDirectory(client, this.now, this.cache);
  }

  /** The person behind a Slack user id. Throws UnknownSlackUserError if Slack gives no usable email. */
  async person(userId: string): Promise<SlackPerson> {
    const cached = this.cache.byId.get(userId);
    if (cached && this.now() - cached.at < TTL_MS) return cached.person;
    const res = await this.client.users.info({ user: userId });
    return this.remember(userId, res.user);
  }

  /** A user object from Slack as a person (and cached), or UnknownSlackUserError. */
  private remember(userId: string, user: unknown): SlackPerson {
    const parsed = userSchema.safeParse(user);
    if (!parsed.success) throw new UnknownSlackUserError(`Slack returned no usable profile for ${userId}`);
    const u = parsed.data;
    const email = u.profile?.email?.trim().toLowerCase();
    // Only a live human whose email Slack has confirmed maps to a person: the email is the identity.
    if (!email || u.is_bot || u.deleted || u.is_email_confirmed === false) {
      throw new UnknownSlackUserError(`Slack user ${userId} has no email address the bot can see`);
    }
    const person: SlackPerson = {
      userId: u.id,
      email,
      name: u.real_name || u.profile?.real_name || u.profile?.display_name || u.name || email,
      ...(u.tz ? { tz: u.tz } : {}),
    };
    const at = this.now();
    this.cache.byId.set(userId, { at, person });
    this.cache.idByEmail.set(email, { at, id: userId });
    return person;
  }

  /** The Slack user with this email, or null when the workspace has none. */
  async byEmail(email: string): Promise<SlackPerson | null> {
    const key = email.toLowerCase();
    const cached = this.cache.idByEmail.get(key);
    if (cached && this.now() - cached.at < TTL_MS) return cached.id ? this.person(cached.id) : null;
    let user: { id?: string } | undefined;
    try {
      user = (await this.client.users.lookupByEmail({ email: key })).user;
    } catch (error) {
      if ((error as { data?: { error?: string } }).data?.error !== 'users_not_found') throw error;
    }
    const id = user?.id ?? null;
    this.cache.idByEmail.set(key, { at: this.now(), id });
    if (!id) return null;
    // users.lookupByEmail answers with the same user object as users.info: no second call.
    return this.remember(id, user);
  }

  /** A display name for an email: the Slack name when known, else the email itself. */
  async nameOf(email: string): Promise<string> {
    try {
      return (await this.byEmail(email))?.name ?? email;
    } catch {
      return email;
    }
  }

  async names(emails: string[]): Promise<Map<string, string>> {
    const entries = await Promise.all(emails.map(async (e) => [e, await this.nameOf(e)] as const));
    return new Map(entries);
  }
}
