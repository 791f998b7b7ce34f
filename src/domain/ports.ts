/**
 * What the domain needs from the outside world. Implemented in src/store (repositories),
 * src/jobs (scheduler), src/connectors (provisioning) and src/bot/* (notifications).
 * Nothing here knows about Slack, Teams, mongoose or Agenda.
 */
import type {
  AccessRequest,
  AuditEvent,
  ConversationRecord,
  Grant,
  GrantSettlement,
  GrantStatus,
  MessageRecord,
  OutboxItem,
  OutboxStatus,
  RequestStatus,
  ResourceSetting,
  Sighting,
} from './model.js';

// ---------------------------------------------------------------- repositories

export interface RequestQuery {
  status?: RequestStatus | RequestStatus[];
  resourceId?: string;
  /** any of these resources (ignored when `resourceId` is given) */
  resourceIds?: readonly string[];
  requesterEmail?: string;
  approverEmail?: string;
  grantId?: string;
  kind?: 'access' | 'extension';
  /** only requests decided at or after this time */
  decidedSince?: Date;
  /** newest first by default */
  limit?: number;
}

export interface RequestRepo {
  /** Throws `DuplicateKeyError` when `id` or `submissionKey` already exists. */
  insert(request: AccessRequest): Promise<AccessRequest>;
  get(id: string): Promise<AccessRequest | null>;
  findBySubmissionKey(key: string): Promise<AccessRequest | null>;
  /**
   * First decision wins: sets status/decidedAt/decidedBy/decidedByName/reason only if the request
   * is still `pending`, `decideBy > now`, and `by` is one of `approvers` (or `by === 'system'`
   * for auto-approval). With `asAdmin`, `by` need not be a chosen approver but must not be the
   * requester, and the request records `decidedAs: 'admin'`. Returns the updated request, or null
   * when the guard did not match.
   */
  decide(
    id: string,
    decision: {
      status: 'approved' | 'denied';
      by: string;
      byName: string;
      reason?: string;
      asAdmin?: boolean;
    },
    now: Date,
  ): Promise<AccessRequest | null>;
  /** pending and `decideBy <= now` → expired (decidedBy `system`). Null when the guard did not match. */
  expire(id: string, now: Date): Promise<AccessRequest | null>;
  /**
   * pending → cancelled because the resource was closed (`closedReason: 'closed-by-owner'`), decided
   * by `by` (an owner's email, or `system`), with `reason` (what the requester is told). Null when
   * the guard did not match.
   */
  close(
    id: string,
    by: { email: string; name: string },
    now: Date,
    reason: string,
  ): Promise<AccessRequest | null>;
  /** pending and requester.email === by → cancelled. Null when the guard did not match. */
  cancel(id: string, by: string, now: Date, reason?: string): Promise<AccessRequest | null>;
  /**
   * Takes back an approval that could not take effect (the requester already holds the resource),
   * before anyone was told of it: approved by `by` at `decidedAt` → pending again. Null when the
   * guard did not match.
   */
  undoApproval(id: string, by: string, decidedAt: Date): Promise<AccessRequest | null>;
  /** pending requests with `decideBy <= now`, oldest first. */
  findOverdue(now: Date, limit: number): Promise<AccessRequest[]>;
  /** Removes `unsettled` if it still says `status` (a later move's is kept). */
  settle(id: string, status: RequestStatus): Promise<void>;
  /** Requests whose last move still owes effects (`unsettled` set), oldest first. */
  findUnsettled(limit: number): Promise<AccessRequest[]>;
  list(query: RequestQuery): Promise<AccessRequest[]>;
  /** The requests with these ids that exist, in no particular order (reports join them to grants). */
  getMany(ids: readonly string[]): Promise<AccessRequest[]>;
}

/** One branch of what a viewer may see: grants matching every given field. */
export interface GrantScope {
  resourceIds?: readonly string[];
  holderEmail?: string;
}

/**
 * A page of grants for dashboards, reports and the API, newest first (by `createdAt`, then `id`).
 * Every given condition must hold; `anyOf` (when given) keeps the grants that match at least one of
 * its branches (the viewer's visibility). `status` is always given, so an index on status serves it.
 */
export interface GrantSearch {
  status: readonly GrantStatus[];
  anyOf?: readonly GrantScope[];
  resourceIds?: readonly string[];
  holderEmail?: string;
  /** `expiresAt` within [expiresFrom, expiresTo] (either bound optional). */
  expiresFrom?: Date;
  expiresTo?: Date;
  createdSince?: Date;
  /** Keyset cursor: only grants that come after this one, newest first. */
  after?: { createdAt: Date; id: string };
  /**
   * Only grants whose connector call has failed and is being retried (`attempts > 0`, or a pending
   * extension delivery with `attempts > 0`), for the metrics.
   */
  retrying?: boolean;
}

export interface GrantQuery {
  status?: GrantStatus | GrantStatus[];
  resourceId?: string;
  holderEmail?: string;
  /** newest first by default */
  limit?: number;
}

/** Guard of a conditional grant update: every given field must match exactly. */
export interface GrantGuard {
  status: GrantStatus | GrantStatus[];
  expiresAt?: Date;
  attempts?: number;
  /** `null` matches a grant without one. */
  nextAttemptAt?: Date | null;
  /** `pendingExtension.nextAttemptAt`, the lease of an extension delivery. */
  pendingExtensionAt?: Date;
  unsettled?: GrantSettlement;
}

export interface GrantChange {
  set?: Partial<Omit<Grant, 'id'>>;
  unset?: Array<keyof Grant>;
}

export interface GrantRepo {
  /** Throws `DuplicateKeyError` when `id` or `requestId` already exists (one grant per request). */
  insert(grant: Grant): Promise<Grant>;
  get(id: string): Promise<Grant | null>;
  findByRequestId(requestId: string): Promise<Grant | null>;
  /** Compare-and-swap: applies `change` only if the guard matches; returns the new grant or null. */
  update(id: string, guard: GrantGuard, change: GrantChange): Promise<Grant | null>;
  /**
   * Work that is due: active grants with `expiresAt <= now`; provisioning or revoking grants with
   * `nextAttemptAt <= now`; grants whose `pendingExtension.nextAttemptAt <= now`. Oldest first.
   */
  findDue(now: Date, limit: number): Promise<Grant[]>;
  /**
   * Active grants whose reminder is owed by `now` (`remindAt <= now`), earliest first; then active
   * grants stored before `remindAt` existed that were never reminded (no `remindAt`, no `remindedFor`).
   */
  findRemindersDue(now: Date, limit: number): Promise<Grant[]>;
  /** Grants whose last move still owes effects (`unsettled` set), oldest first. */
  findUnsettled(limit: number): Promise<Grant[]>;
  list(query: GrantQuery): Promise<Grant[]>;
  /** The grants with these ids that exist, in no particular order. */
  getMany(ids: readonly string[]): Promise<Grant[]>;
  /** At most `limit` grants matching `search`, newest first. */
  search(search: GrantSearch, limit: number): Promise<Grant[]>;
  /** How many grants match `search` (its cursor ignored). */
  count(search: GrantSearch): Promise<number>;
}

export interface AuditRepo {
  /**
   * Append-only: there is no update or delete. Throws `DuplicateKeyError` when `id`, or `key` (an
   * event recorded once), already exists.
   */
  append(event: AuditEvent): Promise<void>;
  /** Oldest first. */
  list(query: {
    requestId?: string;
    grantId?: string;
    resourceId?: string;
    actor?: string;
    type?: AuditEvent['type'];
    limit?: number;
  }): Promise<AuditEvent[]>;
  /**
   * A resource's events of the given types, newest first (by `at`, then `id`), after the keyset
   * cursor `before` when given: the access history.
   */
  history(query: {
    resourceId: string;
    types: readonly AuditEvent['type'][];
    before?: { at: Date; id: string };
    limit: number;
  }): Promise<AuditEvent[]>;
}

export interface MessageRecordRepo {
  /** Upsert on (platform, subjectId, purpose, recipient): a re-send replaces the old record. */
  save(record: MessageRecord): Promise<void>;
  /**
   * Compare-and-swap: replaces the address (and time) of the record with the same key only if its
   * address is still `expectedAddress`. False when it changed meanwhile, or is gone.
   */
  replace(record: MessageRecord, expectedAddress: string): Promise<boolean>;
  /** Oldest first. */
  find(query: { subjectId: string; purpose?: string; recipient?: string }): Promise<MessageRecord[]>;
}

/** Guard of a conditional outbox update: every given field must match exactly. */
export interface OutboxGuard {
  status: OutboxStatus;
  nextAttemptAt?: Date;
  attempts?: number;
}

export interface OutboxQuery {
  lane?: string;
  status?: OutboxStatus | OutboxStatus[];
  recipient?: string;
  subjectId?: string;
  /** oldest first by default */
  limit?: number;
}

export interface OutboxRepo {
  /**
   * Stores the items whose `key` is new, in order; an item whose key exists already is skipped
   * (it was enqueued before). Returns the items stored now.
   */
  enqueue(items: OutboxItem[]): Promise<OutboxItem[]>;
  /** The lane's oldest pending item (by `createdAt`, then `id`), or null when none is left. */
  head(lane: string): Promise<OutboxItem | null>;
  /** Compare-and-swap, like `GrantRepo.update`. */
  update(
    id: string,
    guard: OutboxGuard,
    change: { set?: Partial<Omit<OutboxItem, 'id'>>; unset?: Array<keyof OutboxItem> },
  ): Promise<OutboxItem | null>;
  /** Lanes holding a pending item due at `now` (its `nextAttemptAt <= now`), most overdue first. */
  dueLanes(now: Date, limit: number): Promise<string[]>;
  /** Oldest first. */
  list(query: OutboxQuery): Promise<OutboxItem[]>;
  /** How many items have this status; with `retrying`, only those that failed at least once. */
  count(query: { status: OutboxStatus; retrying?: boolean }): Promise<number>;
  /**
   * Deletes the done items whose `purgeAt` has passed (MongoDB's TTL index does the same on its
   * own). Returns how many it deleted. Pending items are never deleted.
   */
  purge(now: Date): Promise<number>;
}

export interface ConversationRepo {
  /**
   * Remembers where a person can be reached (an upsert by email). A sighting older than the one
   * stored changes nothing, so activities handled out of order leave the newest. A record without
   * `tz` keeps the zone stored before.
   */
  save(record: ConversationRecord): Promise<void>;
  /** The record of this (normalised) email, or null. */
  get(email: string): Promise<ConversationRecord | null>;
}

export interface ResourceSettingRepo {
  /** The setting of this resource, or null when its owners never saved one. */
  get(resourceId: string): Promise<ResourceSetting | null>;
  /**
   * Compare-and-swap: stores `setting` only if the stored version is `expectedVersion` (0: none
   * stored yet). Returns the stored setting, or null when another save came first.
   */
  save(setting: ResourceSetting, expectedVersion: number): Promise<ResourceSetting | null>;
  /** Settings whose window ends at or before `by`, soonest first (the sweep's safety net). */
  windowsEndedBy(by: Date, limit: number): Promise<ResourceSetting[]>;
  /** Settings with JIT access switched off, most recently changed first (the sweep's safety net). */
  switchedOff(limit: number): Promise<ResourceSetting[]>;
  /** The settings of these resources that exist, in no particular order. */
  getMany(resourceIds: readonly string[]): Promise<ResourceSetting[]>;
  /** Removes `unsettled` if it still names `version` (a later save's mark is kept). */
  settle(resourceId: string, version: number): Promise<void>;
  /** Settings whose save still owes effects (`unsettled` set), oldest change first. */
  findUnsettled(limit: number): Promise<ResourceSetting[]>;
}

export interface SightingRepo {
  /** Remembers that the person was seen on a platform (an upsert by email); an older sighting changes nothing. */
  record(sighting: Sighting): Promise<void>;
  /** The latest sighting of this (normalised) email, or null. */
  get(email: string): Promise<Sighting | null>;
}

export interface Repositories {
  requests: RequestRepo;
  grants: GrantRepo;
  audit: AuditRepo;
  messages: MessageRecordRepo;
  outbox: OutboxRepo;
  conversations: ConversationRepo;
  settings: ResourceSettingRepo;
  sightings: SightingRepo;
}

export class DuplicateKeyError extends Error {
  readonly code = 'DUPLICATE_KEY';
  constructor(readonly key: string) {
    super(`duplicate key: ${key}`);
    this.name = 'DuplicateKeyError';
  }
}

/**
 * The store could not be reached (network, no primary, closed connection): nothing was written by
 * the call that failed. What a person is told ("try again in a minute") differs from a bug's.
 */
/** What a person is told when their action met a `StoreUnavailableError`. */
export const STORE_UNAVAILABLE_MESSAGE =
  'The bot could not reach its database just now. Try again in a minute: what you did was either saved in full or not at all.';

export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(readonly detail: string) {
    super(`store unavailable: ${detail}`);
    this.name = 'StoreUnavailableError';
  }
}

// ---------------------------------------------------------------- scheduler

export type JobName =
  | 'request.expire'
  | 'grant.remind'
  | 'grant.expire'
  | 'grant.retry'
  | 'outbox.deliver'
  | 'resource.window_end'
  | 'home.refresh';

export interface JobData {
  /**
   * request id for request.*, grant id for grant.*, the lane for outbox.deliver, resource id for
   * resource.*, an email for home.refresh
   */
  id: string;
  /** The id of the work that scheduled it (src/request-id.ts), so its run logs under the same id. */
  reqId?: string;
}

/** The domain's view of the scheduler: one pending job per (name, id); scheduling again replaces it. */
export interface Scheduler {
  schedule(name: JobName, at: Date, data: JobData): Promise<void>;
  cancel(name: JobName, id: string): Promise<void>;
}

// ---------------------------------------------------------------- connectors

export type ConnectorEventName = 'grant.activated' | 'grant.extended' | 'grant.revoked';

/** The webhook body, exactly. Other connectors receive the same object. */
export interface ConnectorEvent {
  event: ConnectorEventName;
  grant: {
    id: string;
    resourceId: string;
    user: { email: string; name: string };
    startsAt: string;
    expiresAt: string;
    requestId: string;
    justification: string;
  };
  /** Stable across retries of the same operation. */
  idempotencyKey: string;
}

export interface Connector {
  readonly type: string;
  /** Resolves when the target system confirmed; throws `ConnectorError` otherwise. */
  deliver(event: ConnectorEvent): Promise<void>;
}

export class ConnectorError extends Error {
  readonly code = 'CONNECTOR_FAILED';
  constructor(
    message: string,
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'ConnectorError';
  }
}

export interface ConnectorRegistry {
  forResource(resourceId: string): Connector;
}
