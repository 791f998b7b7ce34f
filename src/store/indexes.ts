/**
 * The indexes of every collection, declared once. The mongoose schemas (mongo.ts) create them in
 * MongoDB, and the memory store (memory.ts) enforces the unique ones, so the two cannot drift.
 */

export type CollectionName = 'requests' | 'grants' | 'audit' | 'messages' | 'outbox';

export interface IndexSpec {
  /** Field paths (dotted for nested fields) in key order, each ascending (1) or descending (-1). */
  readonly fields: Readonly<Record<string, 1 | -1>>;
  readonly unique?: boolean;
}

export const INDEXES: Readonly<Record<CollectionName, readonly IndexSpec[]>> = {
  requests: [
    { fields: { submissionKey: 1 }, unique: true },
    { fields: { status: 1, decideBy: 1 } },
    { fields: { 'requester.email': 1, createdAt: 1 } },
  ],
  grants: [
    { fields: { requestId: 1 }, unique: true },
    { fields: { status: 1, expiresAt: 1 } },
    { fields: { status: 1, nextAttemptAt: 1 } },
    { fields: { 'holder.email': 1 } },
    { fields: { resourceId: 1 } },
  ],
  audit: [{ fields: { requestId: 1, at: 1 } }, { fields: { grantId: 1, at: 1 } }, { fields: { at: 1 } }],
  messages: [
    { fields: { platform: 1, subjectId: 1, purpose: 1, recipient: 1 }, unique: true },
    // find({ subjectId, purpose?, recipient? }) sorted by createdAt
    { fields: { subjectId: 1, purpose: 1, recipient: 1, createdAt: 1 } },
  ],
  outbox: [
    { fields: { key: 1 }, unique: true },
    // head(lane): the lane's oldest pending item
    { fields: { lane: 1, status: 1, createdAt: 1 } },
    // dueLanes(now): pending items by due time
    { fields: { status: 1, nextAttemptAt: 1 } },
    { fields: { subjectId: 1, createdAt: 1 } },
  ],
};

/**
 * The name a duplicate-key error reports for a unique key: its field paths joined with `+`
 * (`submissionKey`, `platform+subjectId+purpose+recipient`; `_id` for the primary key). Both stores
 * use it, so `DuplicateKeyError.key` is the same whichever store raised it.
 */
export function uniqueKeyName(fields: Iterable<string>): string {
  return [...fields].join('+');
}

/** The unique keys of a collection as lists of field paths, `_id` first. */
export function uniqueKeys(collection: CollectionName): string[][] {
  return [['_id'], ...INDEXES[collection].filter((i) => i.unique).map((i) => Object.keys(i.fields))];
}
