/**
 * The indexes of every collection, declared once. The mongoose schemas (mongo/schemas.ts) create
 * them in MongoDB, and the memory store (memory.ts) enforces the unique ones, so the two cannot
 * drift. Each index is there for a query the repositories (repositories.ts) issue; the store tests
 * check every query shape against this table (test/store/indexes.test.ts).
 */

export type CollectionName =
  | 'requests'
  | 'grants'
  | 'audit'
  | 'messages'
  | 'outbox'
  | 'conversations'
  | 'resource_settings'
  | 'sightings';

/**
 * Which documents an index covers: only those that have every listed field (MongoDB's
 * `partialFilterExpression` with `$exists: true`, the one form both stores implement). A unique
 * index with it constrains only the documents that have the field; any number may lack it.
 */
export type PartialFilter = Readonly<Record<string, { readonly $exists: true }>>;

export interface IndexSpec {
  /** Field paths (dotted for nested fields) in key order, each ascending (1) or descending (-1). */
  readonly fields: Readonly<Record<string, 1 | -1>>;
  readonly unique?: boolean;
  readonly partialFilterExpression?: PartialFilter;
  /**
   * A TTL index (one date field): MongoDB deletes a document once the field's time plus this many
   * seconds has passed. The memory store keeps no lookup map for it (its queries are ranges) and
   * deletes through the repository instead (`OutboxRepo.purge`, called by the sweep).
   */
  readonly expireAfterSeconds?: number;
}

export const INDEXES: Readonly<Record<CollectionName, readonly IndexSpec[]>> = {
  requests: [
    { fields: { submissionKey: 1 }, unique: true },
    // findOverdue: pending requests by deadline
    { fields: { status: 1, decideBy: 1 } },
    // list({ requesterEmail, ... }) newest first: a person's requests
    { fields: { 'requester.email': 1, createdAt: 1 } },
    // list({ status, decidedSince }): the sweep's recently approved requests
    { fields: { status: 1, decidedAt: 1 } },
    // findUnsettled: the sweep's requests whose last move still owes effects, oldest first; only
    // those documents are in it (the mark is removed once settled)
    { fields: { createdAt: 1, _id: 1 }, partialFilterExpression: { unsettled: { $exists: true } } },
    // list({ resourceId, status }) newest first: a closed resource's waiting requests
    { fields: { resourceId: 1, status: 1, createdAt: 1 } },
  ],
  grants: [
    { fields: { requestId: 1 }, unique: true },
    // One open grant per person and resource: `openKey` exists only while the grant is open.
    { fields: { openKey: 1 }, unique: true, partialFilterExpression: { openKey: { $exists: true } } },
    // findDue, one index per branch of its $or
    { fields: { status: 1, expiresAt: 1 } },
    { fields: { status: 1, nextAttemptAt: 1 } },
    { fields: { status: 1, 'pendingExtension.nextAttemptAt': 1 } },
    // findRemindersDue: reminders owed (and, from before `remindAt`, grants never reminded)
    { fields: { status: 1, remindAt: 1 } },
    // list({ holderEmail, ... }) and list({ resourceId, ... }), newest first
    { fields: { 'holder.email': 1, createdAt: 1 } },
    { fields: { resourceId: 1, createdAt: 1 } },
    // search(): dashboards and reports, newest first, by status when no resource or holder is named
    { fields: { status: 1, createdAt: 1 } },
    // findUnsettled: the sweep's grants whose last move still owes effects, oldest first (partial)
    { fields: { createdAt: 1, _id: 1 }, partialFilterExpression: { unsettled: { $exists: true } } },
  ],
  audit: [
    // A lifecycle event recorded once per move (`<requestId>:approved`): a repeat is refused.
    { fields: { key: 1 }, unique: true, partialFilterExpression: { key: { $exists: true } } },
    // list({ requestId }) and list({ grantId }) (timelines), and list({}), oldest first
    { fields: { requestId: 1, at: 1 } },
    { fields: { grantId: 1, at: 1 } },
    { fields: { at: 1 } },
    // history({ resourceId, types }): a resource's access history, newest first
    { fields: { resourceId: 1, at: 1 } },
  ],
  messages: [
    { fields: { platform: 1, subjectId: 1, purpose: 1, recipient: 1 }, unique: true },
    // find({ subjectId, purpose?, recipient? }) oldest first: a subject has a handful of records
    { fields: { subjectId: 1, createdAt: 1 } },
  ],
  outbox: [
    { fields: { key: 1 }, unique: true },
    // head(lane): the lane's oldest pending item
    { fields: { lane: 1, status: 1, createdAt: 1 } },
    // dueLanes(now): pending items by due time; count({ status })
    { fields: { status: 1, nextAttemptAt: 1 } },
    // list({ subjectId })
    { fields: { subjectId: 1, createdAt: 1 } },
    // Retention: a done item is deleted at its `purgeAt` (set when it is sent or given up, to
    // OUTBOX_RETENTION later); pending items have none. Also purge(now), the memory store's way.
    { fields: { purgeAt: 1 }, expireAfterSeconds: 0 },
  ],
  // get(email) and save(record) go by `_id` (the email) alone
  conversations: [],
  // get, getMany and save go by `_id` (the resource id); windowsEndedBy(by): windows by their end;
  // switchedOff(): the resources switched off, newest change first; findUnsettled(): saves whose
  // effects are still owed, oldest first (only those documents are in it)
  resource_settings: [
    { fields: { windowEndsAt: 1 } },
    { fields: { jitEnabled: 1, updatedAt: 1 } },
    { fields: { updatedAt: 1, _id: 1 }, partialFilterExpression: { unsettled: { $exists: true } } },
  ],
  // get(email) and record(sighting) go by `_id` (the email) alone
  sightings: [],
};

/**
 * The name a duplicate-key error reports for a unique key: its field paths joined with `+`
 * (`submissionKey`, `platform+subjectId+purpose+recipient`; `_id` for the primary key). Both stores
 * use it, so `DuplicateKeyError.key` is the same whichever store raised it.
 */
export function uniqueKeyName(fields: Iterable<string>): string {
  return [...fields].join('+');
}

/** A unique key: its field paths, and which documents it constrains when not all of them. */
export interface UniqueKey {
  readonly fields: readonly string[];
  readonly partialFilterExpression?: PartialFilter;
}

/** The unique keys of a collection, `_id` first. */
export function uniqueKeys(collection: CollectionName): UniqueKey[] {
  return [
    { fields: ['_id'] },
    ...INDEXES[collection]
      .filter((i) => i.unique)
      .map((i) => ({
        fields: Object.keys(i.fields),
        ...(i.partialFilterExpression ? { partialFilterExpression: i.partialFilterExpression } : {}),
      })),
  ];
}
