/**
 * The records the product keeps. Plain data, no I/O. Every time is a UTC `Date`; durations are
 * ISO-8601 strings (`PT4H`) wherever they are stored or configured.
 */

/** People are identified by email across Slack and Teams (lower-cased). */
export interface Person {
  email: string;
  name: string;
  /** IANA time zone, when the chat platform knows it: times in what this person is told use it. */
  tz?: string;
}

export type RequestStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';
export type RequestKind = 'access' | 'extension';
export type ApprovalMode = 'manual' | 'auto';

export interface AccessRequest {
  id: string;
  kind: RequestKind;
  /** For `kind: 'extension'`: the grant whose expiry moves when approved. */
  grantId?: string;
  resourceId: string;
  requester: Person;
  /** Emails of the approvers the requester chose (empty under auto-approval). */
  approvers: string[];
  /** ISO-8601 duration asked for, already checked against policy. */
  duration: string;
  justification: string;
  ticket?: string;
  approval: ApprovalMode;
  status: RequestStatus;
  createdAt: Date;
  /** When an undecided request expires (createdAt + approvalWindow). */
  decideBy: Date;
  decidedAt?: Date;
  /** Email of who decided; `system` for auto-approval and expiry. */
  decidedBy?: string;
  decidedByName?: string;
  /**
   * `admin`: decided by an administrator who was not one of the chosen approvers (an admin
   * decision; the chosen approvers are told). Absent for a chosen approver's decision.
   */
  decidedAs?: 'admin';
  /** Deny reason or cancel reason (for a request closed with its resource: why, as the requester is told). */
  reason?: string;
  /**
   * Set on a request cancelled because its resource was closed (its owners switched JIT access off,
   * their window ended, or a reload made it owner-controlled): nobody may decide it any more.
   */
  closedReason?: 'closed-by-owner';
  /** Client-supplied idempotency key (e.g. Slack view id) so a replayed submission creates nothing new. */
  submissionKey: string;
  /**
   * Set by the write that moved the request to `status`, removed once that move's effects (audit,
   * timers, messages) are all done: a crash in between leaves it set, and the sweep finishes them
   * (see ../domain/settle.ts).
   */
  unsettled?: RequestStatus;
}

/**
 * provisioning: approved, connector not yet confirmed (retrying); shown as pending.
 * active: connector confirmed; counts from startsAt.
 * revoking: expiry or early end reached, connector revocation not yet confirmed (retrying).
 * expired: revoked at expiry. revoked: ended early by holder or admin.
 * Neither provisioning nor revoking is ever marked done without the connector's confirmation.
 * A fault that may pass is retried until the connector confirms or access is ended; a refusal by
 * the target (a non-retryable failure) stops the retries and leaves the grant provisioning or
 * revoking without a `nextAttemptAt` until someone ends the access (see ./connector-calls.ts).
 */
export type GrantStatus = 'provisioning' | 'active' | 'revoking' | 'expired' | 'revoked';

/** A provisioning or revoking grant whose retries were stopped by a non-retryable failure. */
export function retriesStopped(grant: Grant): boolean {
  return (grant.status === 'provisioning' || grant.status === 'revoking') && !grant.nextAttemptAt;
}

export interface Grant {
  id: string;
  requestId: string;
  resourceId: string;
  holder: Person;
  /** ISO duration granted (sum of the original and approved extensions is in expiresAt). */
  duration: string;
  justification: string;
  status: GrantStatus;
  createdAt: Date;
  /** Set when the connector confirms activation. */
  startsAt?: Date;
  expiresAt?: Date;
  /** The expiry a reminder was already sent for, so a repeated job sends nothing new. */
  remindedFor?: Date;
  /**
   * When the pre-expiry prompt for the current expiry is due; present only while it is owed (set
   * with `expiresAt`, removed in the write that records it sent), so the sweep finds a reminder
   * whose job was lost by this field alone, however many grants are active.
   */
  remindAt?: Date;
  /** Why and by whom revocation started, when it did. */
  endReason?: 'expired' | 'ended-by-holder' | 'revoked-by-admin' | 'closed-by-owner';
  endedBy?: string;
  /** The reason given by whoever revoked it (an admin, an owner, the API), if any. */
  endComment?: string;
  endedAt?: Date;
  /** Connector retry bookkeeping for the current pending operation. */
  attempts: number;
  /**
   * When the next connector attempt is due (while one runs, the end of its lease). Absent on a
   * provisioning or revoking grant: its retries were stopped by a non-retryable failure.
   */
  nextAttemptAt?: Date;
  lastError?: string;
  /** Ids of the extension requests already applied to `expiresAt`, so none is applied twice. */
  appliedExtensions?: string[];
  /** Pending connector notification of an approved extension (grant.extended), if any. */
  pendingExtension?: { requestId: string; attempts: number; nextAttemptAt: Date };
  /**
   * The effects (audit, timers, messages) still owed for the grant's last move: `activated`,
   * `extended:<request id>` or `ended`; set by the write that made the move, removed once they are
   * all done (see ../domain/settle.ts).
   */
  unsettled?: GrantSettlement;
}

export type GrantSettlement = 'activated' | 'ended' | `extended:${string}`;

export type AuditEventType =
  | 'request.created'
  | 'request.approved'
  | 'request.denied'
  | 'request.expired'
  | 'request.cancelled'
  | 'request.auto_approved'
  | 'grant.provisioning_failed'
  | 'grant.activated'
  | 'grant.extended'
  | 'grant.reminded'
  | 'grant.revocation_failed'
  | 'grant.revoked'
  | 'grant.expired'
  | 'message.undeliverable'
  | 'action.refused'
  /** A use of access reported by the protected system (`at` is when it happened). */
  | 'access.used'
  | 'resource.settings_changed';

export interface AuditEvent {
  id: string;
  type: AuditEventType;
  at: Date;
  /** Email of the person, or `system`. */
  actor: string;
  requestId?: string;
  grantId?: string;
  resourceId?: string;
  /** Error code for refusals, free-form small details otherwise. Never raw payloads. */
  details?: Record<string, string | number | boolean | null>;
  /**
   * Set on an event that is recorded once for its move (e.g. `<requestId>:approved`): a second
   * event under the same key is refused by the store (unique), so an effect finished again after a
   * crash is recorded once. The id stays a sortable one, so same-instant events keep their order.
   */
  key?: string;
}

/**
 * Where a message about a request or grant was delivered, so later events edit it in place. The
 * address is opaque to everything but the platform that wrote it (Slack: channel and timestamp;
 * Teams: a conversation reference and activity id), stored as the platform's own JSON.
 */
export interface MessageRecord {
  id: string;
  /** The chat platform that holds the message (`slack`, `teams`). */
  platform: string;
  /** request or grant id */
  subjectId: string;
  /** approval-card | requester-status | reminder */
  purpose: string;
  /** email */
  recipient: string;
  address: string;
  createdAt: Date;
}

/**
 * Where the bot can reach a person on a chat platform that cannot look people up by email (Teams):
 * the platform's own address of its conversation with them, stored when they installed the app or
 * wrote to the bot. One per person (by email); the latest sighting wins.
 */
export interface ConversationRecord {
  /** Normalised email of the person. */
  email: string;
  /** The platform the reference belongs to (`teams`). */
  platform: string;
  /** The platform's conversation reference, as its own JSON; opaque to everything else. */
  reference: string;
  /** The person's IANA time zone, when the platform told it. */
  tz?: string;
  /** When the bot last saw the person there. */
  updatedAt: Date;
}

/**
 * What a resource's owners set at run time (`/access-settings`), layered over the policy file:
 * whether the resource may be requested at all, and until when. One per resource; each save
 * bumps `version` (a compare-and-swap, so two owners saving at once never lose a change unseen).
 */
export interface ResourceSetting {
  resourceId: string;
  /** Off: no new requests, and open grants are revoked. */
  jitEnabled: boolean;
  /** UTC end of the access window; absent: always allow. */
  windowEndsAt?: Date;
  /** Email of the owner who saved it. */
  updatedBy: string;
  updatedByName: string;
  updatedAt: Date;
  /** 1 for the first save, then +1 per save. */
  version: number;
  /**
   * The version whose effects (audit, the approvers' message, the window job, revocations and
   * request closings) are still owed: written by the save itself, removed once they are all done.
   * A crash in between leaves it, and the sweep finishes them (see ../domain/resource-closing.ts).
   */
  unsettled?: number;
}

/**
 * Where and when the bot last saw a person (by email): any Slack interaction, any Teams activity
 * or app installation. Messages go to that platform first (unless the policy says otherwise).
 */
export interface Sighting {
  /** Normalised email of the person. */
  email: string;
  /** `slack`, `teams`. */
  platform: string;
  seenAt: Date;
}

/**
 * pending: waiting to be delivered (or retried); sent: the platform accepted it;
 * undeliverable: given up (the recipient cannot be reached, or it kept failing until `giveUpAt`).
 */
export type OutboxStatus = 'pending' | 'sent' | 'undeliverable';

/**
 * One message a person should get, stored before it is attempted (the outbox). A delivery job
 * sends the items of one lane in order, retrying with backoff, so a chat outage delays messages
 * and never loses them; the unique `key` makes each delivery happen at most once.
 */
export interface OutboxItem {
  /** Sorts in enqueue order (time first). */
  id: string;
  /** Idempotency key: one delivery per recipient and purpose (a repeated enqueue is ignored). */
  key: string;
  /** Items of one lane (a request's or grant's messages to one person) go out in order. */
  lane: string;
  recipient: string;
  /** A new message, or an edit of the one recorded for (subjectId, purpose, recipient). */
  mode: 'send' | 'update';
  subjectId: string;
  /** For `send`: remember where it went under this purpose (empty: a one-off notice). */
  purpose: string;
  /**
   * What to show, as data; rendered for the recipient (their zone, their platform) when sent. Once
   * the item is done (sent or given up) only its kind is kept (`{ view }`, or `{ type }` for a
   * notification): nothing reads the rest again, and it was most of the outbox's size.
   */
  message: Record<string, unknown>;
  status: OutboxStatus;
  createdAt: Date;
  attempts: number;
  /** When it is next due; while an attempt runs, the end of that attempt's lease. */
  nextAttemptAt: Date;
  /** After this, a failing delivery is given up and recorded as undeliverable. */
  giveUpAt: Date;
  sentAt?: Date;
  /** The platform it went out on. */
  platform?: string;
  lastError?: string;
  /** The id of the work that queued it (src/request-id.ts): its delivery logs under the same id. */
  reqId?: string;
  /**
   * Set when the item is done (sent or given up): when the store deletes it (`OUTBOX_RETENTION`
   * after that; MongoDB's TTL index, the memory store's sweep). Pending items never have it.
   */
  purgeAt?: Date;
}
