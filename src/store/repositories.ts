/**
 * The repositories of ports.ts, written once against the collection seam (collection.ts). Every
 * guard is part of the filter of one `findOneAndUpdate`, so each state transition is a single
 * atomic compare-and-swap on both MongoDB and the memory store.
 */
import type { AccessRequest, AuditEvent, Grant, MessageRef } from '../domain/model.js';
import type {
  AuditRepo,
  GrantChange,
  GrantGuard,
  GrantQuery,
  GrantRepo,
  MessageRefRepo,
  Repositories,
  RequestQuery,
  RequestRepo,
} from '../domain/ports.js';
import type { DocCollection, Filter, UpdateFilter } from './collection.js';

/** What is stored: the domain record with `id` as `_id`. */
export type StoredAs<E extends { id: string }> = Omit<E, 'id'> & { _id: string };
export type RequestDoc = StoredAs<AccessRequest>;
export type GrantDoc = StoredAs<Grant>;
export type AuditDoc = StoredAs<AuditEvent>;
export type MessageRefDoc = StoredAs<MessageRef>;

export interface Collections {
  requests: DocCollection<RequestDoc>;
  grants: DocCollection<GrantDoc>;
  audit: DocCollection<AuditDoc>;
  messages: DocCollection<MessageRefDoc>;
}

/** How many records a `list` returns when the query gives no limit. */
export const DEFAULT_LIST_LIMIT = 100;

export function createRepositories(collections: Collections): Repositories {
  return {
    requests: requestRepo(collections.requests),
    grants: grantRepo(collections.grants),
    audit: auditRepo(collections.audit),
    messages: messageRefRepo(collections.messages),
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

// ---------------------------------------------------------------- message references

function messageRefRepo(messages: DocCollection<MessageRefDoc>): MessageRefRepo {
  return {
    /** Upsert on the unique key. A replaced reference keeps the `id` it was first saved with. */
    async save(ref) {
      const { id, platform, subjectId, purpose, recipient, ...rest } = ref;
      await messages.findOneAndUpdate(
        { platform, subjectId, purpose, recipient },
        { $set: compact(rest), $setOnInsert: { _id: id } },
        { returnDocument: 'after', upsert: true },
      );
    },

    async find(subjectId, purpose) {
      const filter: Filter<MessageRefDoc> = { subjectId };
      if (purpose !== undefined) filter.purpose = purpose;
      const docs = await messages.find(filter, { sort: { createdAt: 1, _id: 1 } });
      return docs.map(fromDoc);
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
