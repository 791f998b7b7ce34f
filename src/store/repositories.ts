/**
 * The repositories of ports.ts, written once against the collection seam (collection.ts). Every
 * guard is part of the filter of one `findOneAndUpdate`, so each state transition is a single
 * atomic compare-and-swap on both MongoDB and the memory store.
 */
import type { AccessRequest, AuditEvent, Grant, MessageRecord, OutboxItem } from '../domain/model.js';
import type {
  AuditRepo,
  GrantChange,
  GrantGuard,
  GrantQuery,
  GrantRepo,
  MessageRecordRepo,
  OutboxRepo,
  Repositories,
  RequestQuery,
  RequestRepo,
} from '../domain/ports.js';
import { DuplicateKeyError } from '../domain/ports.js';
import type { DocCollection, Filter, UpdateFilter } from './collection.js';

/** What is stored: the domain record with `id` as `_id`. */
export type StoredAs<E extends { id: string }> = Omit<E, 'id'> & { _id: string };
export type RequestDoc = StoredAs<AccessRequest>;
export type GrantDoc = StoredAs<Grant>;
export type AuditDoc = StoredAs<AuditEvent>;
export type MessageRecordDoc = StoredAs<MessageRecord>;
export type OutboxDoc = StoredAs<OutboxItem>;

export interface Collections {
  requests: DocCollection<RequestDoc>;
  grants: DocCollection<GrantDoc>;
  audit: DocCollection<AuditDoc>;
  messages: DocCollection<MessageRecordDoc>;
  outbox: DocCollection<OutboxDoc>;
}

/** How many records a `list` returns when the query gives no limit. */
export const DEFAULT_LIST_LIMIT = 100;

export function createRepositories(collections: Collections): Repositories {
  return {
    requests: requestRepo(collections.requests),
    grants: grantRepo(collections.grants),
    audit: auditRepo(collections.audit),
    messages: messageRecordRepo(collections.messages),
    outbox: outboxRepo(collections.outbox),
  };
}

// ---------------------------------------------------------------- requests

function requestRepo(requests: DocCollection<RequestDoc>): RequestRepo {
  const after = { returnDocument: 'after' } as const;
  const decideOne = async (filter: Filter<RequestDoc>, update: UpdateFilter<RequestDoc>) => {
    const doc = await requests.findOneAndUpdate(filter, update, after);
    return doc ? fromDoc(doc) : null;
  };

  return {
    async insert(request) {
      const doc = toDoc(request);
      await requests.insertOne(doc);
      return fromDoc(structuredClone(doc));
    },

    async get(id) {
      const doc = await requests.findOne({ _id: id });
      return doc ? fromDoc(doc) : null;
    },

    async findBySubmissionKey(key) {
      const doc = await requests.findOne({ submissionKey: key });
      return doc ? fromDoc(doc) : null;
    },

    decide(id, decision, now) {
      return decideOne(
        {
          _id: id,
          status: 'pending',
          decideBy: { $gt: now },
          ...(decision.by === 'system' ? {} : { approvers: decision.by }),
        },
        {
          $set: {
            status: decision.status,
            decidedAt: now,
            decidedBy: decision.by,
            decidedByName: decision.byName,
            ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
          },
        },
      );
    },

    expire(id, now) {
      return decideOne(
        { _id: id, status: 'pending', decideBy: { $lte: now } },
        { $set: { status: 'expired', decidedAt: now, decidedBy: 'system' } },
      );
    },

    cancel(id, by, now, reason) {
      return decideOne(
        { _id: id, status: 'pending', 'requester.email': by },
        {
          $set: {
            status: 'cancelled',
            decidedAt: now,
            decidedBy: by,
            ...(reason !== undefined ? { reason } : {}),
          },
        },
      );
    },

    async findOverdue(now, limit) {
      const docs = await requests.find(
        { status: 'pending', decideBy: { $lte: now } },
        { sort: { decideBy: 1, _id: 1 }, limit },
      );
      return docs.map(fromDoc);
    },

    async list(query: RequestQuery) {
      const filter: Filter<RequestDoc> = {};
      if (query.status !== undefined) filter.status = oneOrIn(query.status);
      if (query.resourceId !== undefined) filter.resourceId = query.resourceId;
      if (query.requesterEmail !== undefined) filter['requester.email'] = query.requesterEmail;
      if (query.approverEmail !== undefined) filter.approvers = query.approverEmail;
      if (query.grantId !== undefined) filter.grantId = query.grantId;
      if (query.kind !== undefined) filter.kind = query.kind;
      if (query.decidedSince !== undefined) filter.decidedAt = { $gte: query.decidedSince };
      const docs = await requests.find(filter, {
        sort: { createdAt: -1, _id: -1 },
        limit: query.limit ?? DEFAULT_LIST_LIMIT,
      });
      return docs.map(fromDoc);
    },
  };
}

// ---------------------------------------------------------------- grants

function grantRepo(grants: DocCollection<GrantDoc>): GrantRepo {
  return {
    async insert(grant) {
      const doc = toDoc(grant);
      await grants.insertOne(doc);
      return fromDoc(structuredClone(doc));
    },

    async get(id) {
      const doc = await grants.findOne({ _id: id });
      return doc ? fromDoc(doc) : null;
    },

    async findByRequestId(requestId) {
      const doc = await grants.findOne({ requestId });
      return doc ? fromDoc(doc) : null;
    },

    async update(id: string, guard: GrantGuard, change: GrantChange) {
      const filter: Filter<GrantDoc> = { _id: id, status: oneOrIn(guard.status) };
      if (guard.expiresAt !== undefined) filter.expiresAt = guard.expiresAt;
      if (guard.attempts !== undefined) filter.attempts = guard.attempts;
      if (guard.pendingExtensionAt !== undefined) {
        filter['pendingExtension.nextAttemptAt'] = guard.pendingExtensionAt;
      }
      if (guard.nextAttemptAt !== undefined) {
        filter.nextAttemptAt = guard.nextAttemptAt === null ? { $exists: false } : guard.nextAttemptAt;
      }
      const update = grantUpdate(change);
      const doc = update
        ? await grants.findOneAndUpdate(filter, update, { returnDocument: 'after' })
        : await grants.findOne(filter);
      return doc ? fromDoc(doc) : null;
    },

    async findDue(now, limit) {
      const docs = await grants.find(
        {
          $or: [
            { status: 'active', expiresAt: { $lte: now } },
            { status: { $in: ['provisioning', 'revoking'] }, nextAttemptAt: { $lte: now } },
            { status: 'active', 'pendingExtension.nextAttemptAt': { $lte: now } },
          ],
        },
        { sort: { createdAt: 1, _id: 1 }, limit },
      );
      return docs.map(fromDoc);
    },

    async list(query: GrantQuery) {
      const filter: Filter<GrantDoc> = {};
      if (query.status !== undefined) filter.status = oneOrIn(query.status);
      if (query.resourceId !== undefined) filter.resourceId = query.resourceId;
      if (query.holderEmail !== undefined) filter['holder.email'] = query.holderEmail;
      const docs = await grants.find(filter, {
        sort: { createdAt: -1, _id: -1 },
        limit: query.limit ?? DEFAULT_LIST_LIMIT,
      });
      return docs.map(fromDoc);
    },
  };
}

/**
 * `$set`/`$unset` of a grant change; null when it changes nothing. Fields set to `undefined` are
 * left alone (use `unset` to remove a field).
 */
function grantUpdate(change: GrantChange): UpdateFilter<GrantDoc> | null {
  const set = compact(change.set ?? {}) as Partial<GrantDoc> & { id?: unknown };
  const unset = change.unset ?? [];
  if ('id' in set || unset.includes('id')) throw new Error('a grant update cannot change its id');
  const both = unset.filter((k) => k in set);
  if (both.length > 0) throw new Error(`a grant update cannot both set and unset ${both.join(', ')}`);
  const update: UpdateFilter<GrantDoc> = {};
  if (Object.keys(set).length > 0) update.$set = set;
  if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((k) => [k, '' as const]));
  return Object.keys(update).length > 0 ? update : null;
}

// ---------------------------------------------------------------- audit

function auditRepo(audit: DocCollection<AuditDoc>): AuditRepo {
  return {
    async append(event) {
      await audit.insertOne(toDoc(event));
    },

    async list(query) {
      const filter: Filter<AuditDoc> = {};
      if (query.requestId !== undefined) filter.requestId = query.requestId;
      if (query.grantId !== undefined) filter.grantId = query.grantId;
      if (query.resourceId !== undefined) filter.resourceId = query.resourceId;
      if (query.actor !== undefined) filter.actor = query.actor;
      if (query.type !== undefined) filter.type = query.type;
      const docs = await audit.find(filter, {
        sort: { at: 1, _id: 1 },
        limit: query.limit ?? DEFAULT_LIST_LIMIT,
      });
      return docs.map(fromDoc);
    },
  };
}

// ---------------------------------------------------------------- message records

function messageRecordRepo(messages: DocCollection<MessageRecordDoc>): MessageRecordRepo {
  return {
    /** Upsert on the unique key. A replaced record keeps the `id` it was first saved with. */
    async save(record) {
      const { id, platform, subjectId, purpose, recipient, ...rest } = record;
      await messages.findOneAndUpdate(
        { platform, subjectId, purpose, recipient },
        { $set: compact(rest), $setOnInsert: { _id: id } },
        { returnDocument: 'after', upsert: true },
      );
    },

    async find(query) {
      const filter: Filter<MessageRecordDoc> = { subjectId: query.subjectId };
      if (query.purpose !== undefined) filter.purpose = query.purpose;
      if (query.recipient !== undefined) filter.recipient = query.recipient;
      const docs = await messages.find(filter, { sort: { createdAt: 1, _id: 1 } });
      return docs.map(fromDoc);
    },
  };
}

// ---------------------------------------------------------------- outbox

function outboxRepo(outbox: DocCollection<OutboxDoc>): OutboxRepo {
  return {
    async enqueue(items) {
      const stored: OutboxItem[] = [];
      for (const item of items) {
        try {
          await outbox.insertOne(toDoc(item));
          stored.push(item);
        } catch (e) {
          // The same delivery was enqueued before (a repeated event): it happens once.
          if (!(e instanceof DuplicateKeyError && e.key === 'key')) throw e;
        }
      }
      return stored;
    },

    async head(lane) {
      const [doc] = await outbox.find(
        { lane, status: 'pending' },
        { sort: { createdAt: 1, _id: 1 }, limit: 1 },
      );
      return doc ? fromDoc(doc) : null;
    },

    async update(id, guard, change) {
      const filter: Filter<OutboxDoc> = { _id: id, status: guard.status };
      if (guard.nextAttemptAt !== undefined) filter.nextAttemptAt = guard.nextAttemptAt;
      if (guard.attempts !== undefined) filter.attempts = guard.attempts;
      const update: UpdateFilter<OutboxDoc> = {};
      const set = compact(change.set ?? {}) as Partial<OutboxDoc>;
      if (Object.keys(set).length > 0) update.$set = set;
      if (change.unset?.length) update.$unset = Object.fromEntries(change.unset.map((k) => [k, '' as const]));
      const doc =
        Object.keys(update).length > 0
          ? await outbox.findOneAndUpdate(filter, update, { returnDocument: 'after' })
          : await outbox.findOne(filter);
      return doc ? fromDoc(doc) : null;
    },

    async dueLanes(now, limit) {
      const lanes: string[] = [];
      const seen = new Set<string>();
      // Several due items may share a lane: read a few more than asked, keep the distinct lanes.
      const docs = await outbox.find(
        { status: 'pending', nextAttemptAt: { $lte: now } },
        { sort: { nextAttemptAt: 1, _id: 1 }, limit: limit * 4 },
      );
      for (const doc of docs) {
        if (seen.has(doc.lane)) continue;
        seen.add(doc.lane);
        lanes.push(doc.lane);
        if (lanes.length >= limit) break;
      }
      return lanes;
    },

    async list(query) {
      const filter: Filter<OutboxDoc> = {};
      if (query.lane !== undefined) filter.lane = query.lane;
      if (query.status !== undefined) filter.status = oneOrIn(query.status);
      if (query.recipient !== undefined) filter.recipient = query.recipient;
      if (query.subjectId !== undefined) filter.subjectId = query.subjectId;
      const docs = await outbox.find(filter, {
        sort: { createdAt: 1, _id: 1 },
        limit: query.limit ?? DEFAULT_LIST_LIMIT,
      });
      return docs.map(fromDoc);
    },

    count(query) {
      return outbox.countDocuments({ status: query.status });
    },
  };
}

// ---------------------------------------------------------------- mapping

function oneOrIn<S extends string>(value: S | S[]): S | { $in: S[] } {
  return Array.isArray(value) ? { $in: value } : value;
}

function toDoc<E extends { id: string }>(entity: E): StoredAs<E> {
  const { id, ...rest } = entity;
  return { _id: id, ...compact(rest) } as StoredAs<E>;
}

function fromDoc<D extends { _id: string }>(doc: D): Omit<D, '_id'> & { id: string } {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}

/**
 * A copy without `undefined` members (recursively through plain objects): MongoDB has no
 * `undefined`, so neither store keeps one.
 */
function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) ? compact(v) : v;
  }
  return out as T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
