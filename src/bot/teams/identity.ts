/**
 * Who is behind a Teams activity. The person is the activity's `from` (the Teams user id and Entra
 * object id), which the adapter has verified with the activity's token, resolved to an email
 * through Teams itself (`TeamsInfo.getMember`: `email`, else `userPrincipalName`). Never a name or
 * an email typed in a card. Lookups are cached briefly, so a person removed from the tenant loses
 * their say within `IDENTITY_TTL_MS`.
 *
 * So the mapping is a security setting, as Slack's is: whoever can change a user's mail or UPN in
 * Entra ID (tenant admins) can take on that identity here.
 */
import { TeamsInfo, type TurnContext } from 'botbuilder';
import { normalizeEmail } from '../../domain/email.js';
import { connectorFailure } from './connector.js';

export interface TeamsPerson {
  email: string;
  name: string;
  /** The Teams user id (`29:…`). */
  userId: string;
  aadObjectId?: string;
}

/** How long a lookup is trusted. */
export const IDENTITY_TTL_MS = 2 * 60 * 1000;
/** At most this many people are cached; the oldest go first. */
const MAX_CACHED = 10_000;

/** The email Teams gives for a member: `email`, else `userPrincipalName`, normalised; null when neither. */
export function emailOfMember(member: {
  email?: string | null;
  userPrincipalName?: string | null;
}): string | null {
  const raw = member.email?.trim() || member.userPrincipalName?.trim();
  return raw ? normalizeEmail(raw) : null;
}

export class TeamsIdentity {
  private readonly cache = new Map<string, { at: number; person: TeamsPerson }>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The person who sent `context.activity`, or null when Teams knows no email for them (or says
   * they are not a member of the conversation). Throws when Teams cannot answer.
   */
  async of(context: TurnContext): Promise<TeamsPerson | null> {
    const from = context.activity.from;
    if (!from?.id) return null;
    const tenant = context.activity.conversation?.tenantId ?? '';
    const key = `${tenant}|${from.aadObjectId ?? from.id}`;
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.at < IDENTITY_TTL_MS) return cached.person;
    let member: Awaited<ReturnType<typeof TeamsInfo.getMember>>;
    try {
      member = await TeamsInfo.getMember(context, from.id);
    } catch (error) {
      const status = connectorFailure(error).status;
      if (status === 404) return null;
      throw error;
    }
    const email = emailOfMember(member);
    if (!email) return null;
    const person: TeamsPerson = {
      email,
      name: member.name || email,
      userId: member.id || from.id,
      ...(member.aadObjectId ? { aadObjectId: member.aadObjectId } : {}),
    };
    this.cache.delete(key);
    this.cache.set(key, { at: this.now(), person });
    if (this.cache.size > MAX_CACHED) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return person;
  }
}
