/**
 * The repositories of ports.ts, written once against the collection seam (collection.ts). Every
 * guard is part of the filter of one `findOneAndUpdate`, so each state transition is a single
 * atomic compare-and-swap on both MongoDB and the memory store.
 */
import type {
  AccessRequest,
  AuditEvent,
  ConversationRecord,
  Grant,
  GrantStatus,
  MessageRecord,
  OutboxItem,
  Sighting,
} from '../domain/model.js';
import type {
  AuditRepo,
  ConversationRepo,
  GrantChange,
  GrantGuard,
  GrantQuery,
  GrantRepo,
  GrantSearch,
  MessageRecordRepo,
  OutboxRepo,
  Repositories,
  RequestQuery,
  RequestRepo,
  SightingRepo,
} from '../domain/ports.js';
import { DuplicateKeyError } from '../domain/ports.js';
import type { DocCollection, Filter, UpdateFilter } from './collection.js';
import { type ResourceSettingDoc, resourceSettingRepo } from './settings-repo.js';

/** What is stored: the domain record with `id` as `_id`. */
export type StoredAs<E extends { id: string }> = Omit<E, 'id'> & { _id: string };
export type RequestDoc = StoredAs<AccessRequest>;
/**
 * A stored grant. `openKey` (`<holder.email>|<resourceId>`) is the store's own: present exactly
 * while the grant is open (provisioning or active), under a unique index that covers only the
 * documents that have it, so that the data itself holds at most one open grant per person and
 * resource. The repository sets and removes it; the domain never sees it.
 */
export type GrantDoc = StoredAs<Grant> & { openKey?: string };
export type AuditDoc = StoredAs<AuditEvent>;
export type MessageRecordDoc = StoredAs<MessageRecord>;
export type OutboxDoc = StoredAs<OutboxItem>;
/** A stored conversation reference: keyed by the person's email. */
export type ConversationDoc = Omit<ConversationRecord, 'email'> & { _id: string };
/** Where a person was last seen: keyed by their email. */
export type SightingDoc = Omit<Sighting, 'email'> & { _id: string };

export interface Collections {
  requests: DocCollection<RequestDoc>;
  grants: DocCollection<GrantDoc>;
  audit: DocCollection<AuditDoc>;
  messages: DocCollection<MessageRecordDoc>;
  outbox: DocCollection<OutboxDoc>;
  conversations: DocCollection<ConversationDoc>;
  resource_settings: DocCollection<ResourceSettingDoc>;
  sightings: DocCollection<SightingDoc>;
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
    conversations: conversationRepo(collections.conversations),
    settings: resourceSettingRepo(collections.resource_settings),
    sightings: sightingRepo(collections.sightings),
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
          ...(decision.by === 'system'
            ? {}
            : decision.asAdmin
              ? { 'requester.email': { $ne: decision.by } }
              : { approvers: decision.by }),
        },
        {
          $set: {
            status: decision.status,
            decidedAt: now,
            decidedBy: decision.by,
            decidedByName: decision.byName,
            unsettled: decision.status,
            ...(decision.asAdmin ? { decidedAs: 'admin' as const } : {}),
            ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
          },
        },
      );
    },

    expire(id, now) {
      return decideOne(
        { _id: id, status: 'pending', decideBy: { $lte: now } },
        { $set: { status: 'expired', decidedAt: now, decidedBy: 'system', unsettled: 'expired' } },
      );
    },

    close(id, by, now, reason) {
      return decideOne(
        { _id: id, status: 'pending' },
        {
          $set: {
            status: 'cancelled',
            decidedAt: now,
            decidedBy: by.email,
            decidedByName: by.name,
            closedReason: 'closed-by-owner',
            reason,
            unsettled: 'cancelled',
          },
        },
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
            unsettled: 'cancelled',
            ...(reason !== undefined ? { reason } : {}),
          },
        },
      );
    },

    undoApproval(id, by, decidedAt) {
      return decideOne(
        { _id: id, status: 'approved', decidedBy: by, decidedAt },
        {
          $set: { status: 'pending' },
          $unset: {
            decidedAt: '',
            decidedBy: '',
            decidedByName: '',
            decidedAs: '',
            reason: '',
            unsettled: '',
          },
        },
      );
    },

    async settle(id, status) {
      await requests.findOneAndUpdate(
        { _id: id, unsettled: status },
        { $unset: { unsettled: '' } },
        { returnDocument: 'after' },
      );
    },

    async findUnsettled(limit) {
      const docs = await requests.find(
        { unsettled: { $exists: true } },
        { sort: { createdAt: 1, _id: 1 }, limit },
      );
      return docs.map(fromDoc);
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
      else if (query.resourceIds !== undefined) filter.resourceId = { $in: [...query.resourceIds] };
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

    async getMany(ids) {
      if (ids.length === 0) return [];
      const docs = await requests.find({ _id: { $in: [...new Set(ids)] } });
      return docs.map(fromDoc);
    },
  };
}

// ---------------------------------------------------------------- grants

/** Statuses of a grant that hold access or are about to: at most one per person and resource. */
const OPEN_GRANT_STATUSES: ReadonlySet<GrantStatus> = new Set<GrantStatus>(['provisioning', 'active']);

/** The value of `openKey` for a grant of `holderEmail` to `resourceId` (see GrantDoc). */
function openGrantKey(holderEmail: string, resourceId: string): string {
  return `${holderEmail}|${resourceId}`;
}

function grantToDoc(grant: Grant): GrantDoc {
  const doc: GrantDoc = toDoc(grant);
  if (OPEN_GRANT_STATUSES.has(grant.status)) doc.openKey = openGrantKey(grant.holder.email, grant.resourceId);
  return doc;
}

function grantFromDoc(doc: GrantDoc): Grant {
  const { openKey: _storeOnly, ...rest } = doc;
  return fromDoc(rest);
}

function grantRepo(grants: DocCollection<GrantDoc>): GrantRepo {
  /**
   * The `openKey` part of an update that sets `status`: removed when the grant closes; (re)set
   * when it is open afterwards, from its holder and resource, which never change.
   */
  const openKeyUpdate = async (id: string, status: GrantStatus | undefined) => {
    if (status === undefined) return {};
    if (!OPEN_GRANT_STATUSES.has(status)) return { unset: 'openKey' as const };
    const current = await grants.findOne({ _id: id });
    return current ? { set: openGrantKey(current.holder.email, current.resourceId) } : {};
  };

  return {
    async insert(grant) {
      const doc = grantToDoc(grant);
      await grants.insertOne(doc);
      return grantFromDoc(structuredClone(doc));
    },

    async get(id) {
      const doc = await grants.findOne({ _id: id });
      return doc ? grantFromDoc(doc) : null;
    },

    async findByRequestId(requestId) {
      const doc = await grants.findOne({ requestId });
      return doc ? grantFromDoc(doc) : null;
    },

    async update(id: string, guard: GrantGuard, change: GrantChange) {
      const filter: Filter<GrantDoc> = { _id: id, status: oneOrIn(guard.status) };
      if (guard.expiresAt !== undefined) filter.expiresAt = guard.expiresAt;
      if (guard.attempts !== undefined) filter.attempts = guard.attempts;
      if (guard.unsettled !== undefined) filter.unsettled = guard.unsettled;
      if (guard.pendingExtensionAt !== undefined) {
        filter['pendingExtension.nextAttemptAt'] = guard.pendingExtensionAt;
      }
      if (guard.nextAttemptAt !== undefined) {
        filter.nextAttemptAt = guard.nextAttemptAt === null ? { $exists: false } : guard.nextAttemptAt;
      }
      const { set, unset } = grantChange(change);
      const openKey = await openKeyUpdate(id, change.set?.status);
      if (openKey.set !== undefined) set.openKey = openKey.set;
      if (openKey.unset) unset.push(openKey.unset);
      const update = toUpdate(set, unset);
      const doc = update
        ? await grants.findOneAndUpdate(filter, update, { returnDocument: 'after' })
        : await grants.findOne(filter);
      return doc ? grantFromDoc(doc) : null;
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
      return docs.map(grantFromDoc);
    },

    async findRemindersDue(now, limit) {
      const owed = await grants.find(
        { status: 'active', remindAt: { $lte: now } },
        { sort: { remindAt: 1, _id: 1 }, limit },
      );
      if (owed.length >= limit) return owed.map(grantFromDoc);
      const older = await grants.find(
        { status: 'active', remindAt: { $exists: false }, remindedFor: { $exists: false } },
        { sort: { createdAt: 1, _id: 1 }, limit: limit - owed.length },
      );
      return [...owed, ...older].map(grantFromDoc);
    },

    async findUnsettled(limit) {
      const docs = await grants.find(
        { unsettled: { $exists: true } },
        { sort: { createdAt: 1, _id: 1 }, limit },
      );
      return docs.map(grantFromDoc);
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
      return docs.map(grantFromDoc);
    },

    async getMany(ids) {
      if (ids.length === 0) return [];
      const docs = await grants.find({ _id: { $in: [...new Set(ids)] } });
      return docs.map(grantFromDoc);
    },

    async search(search, limit) {
      const docs = await grants.find(grantSearchFilter(search, true), {
        sort: { createdAt: -1, _id: -1 },
        limit: Math.max(1, limit),
      });
      return docs.map(grantFromDoc);
    },

    count(search) {
      return grants.countDocuments(grantSearchFilter(search, false));
    },
  };
}

/**
 * The filter of a grant search: the conditions every grant must meet, and-ed into each branch of
 * the viewer's scope and of the keyset cursor, so the filter is one top-level `$or` whose every
 * branch an index serves (status or resource or holder first, then `createdAt`).
 */
function grantSearchFilter(search: GrantSearch, withCursor: boolean): Filter<GrantDoc> {
  const base: Filter<GrantDoc> = { status: { $in: [...search.status] } };
  if (search.resourceIds !== undefined) base.resourceId = { $in: [...search.resourceIds] };
  if (search.holderEmail !== undefined) base['holder.email'] = search.holderEmail;
  if (search.expiresFrom !== undefined || search.expiresTo !== undefined) {
    base.expiresAt = {
      ...(search.expiresFrom !== undefined ? { $gte: search.expiresFrom } : {}),
      ...(search.expiresTo !== undefined ? { $lte: search.expiresTo } : {}),
    };
  }
  const scopes: Filter<GrantDoc>[] = [];
  for (const scope of search.anyOf ?? [{}]) {
    const branch: Filter<GrantDoc> = {};
    if (scope.resourceIds !== undefined) {
      const allowed = search.resourceIds
        ? scope.resourceIds.filter((id) => search.resourceIds?.includes(id))
        : [...scope.resourceIds];
      if (allowed.length === 0) continue; // this branch can match nothing
      branch.resourceId = { $in: allowed };
    }
    if (scope.holderEmail !== undefined) branch['holder.email'] = scope.holderEmail;
    scopes.push(branch);
  }
  const after = withCursor ? search.after : undefined;
  const since = search.createdSince;
  const times: Filter<GrantDoc>[] = after
    ? [
        { createdAt: { $lt: after.createdAt, ...(since ? { $gte: since } : {}) } },
        { createdAt: after.createdAt, _id: { $lt: after.id } },
      ]
    : [since ? { createdAt: { $gte: since } } : {}];
  const branches: Filter<GrantDoc>[] = [];
  for (const scope of scopes) {
    // A scope's own holder condition must agree with the search's (else the branch matches nothing).
    if (scope['holder.email'] !== undefined && base['holder.email'] !== undefined) {
      if (scope['holder.email'] !== base['holder.email']) continue;
    }
    for (const time of times) branches.push({ ...base, ...scope, ...time });
  }
  if (search.retrying) {
    // Each branch twice: a failed connector call, or a failed extension delivery, being retried.
    const retrying: Filter<GrantDoc>[] = [
      { attempts: { $gt: 0 } },
      { 'pendingExtension.attempts': { $gt: 0 } },
    ];
    branches.splice(0, branches.length, ...branches.flatMap((b) => retrying.map((r) => ({ ...b, ...r }))));
  }
  if (branches.length === 0) return { _id: { $in: [] } };
  return branches.length === 1 ? (branches[0] as Filter<GrantDoc>) : { $or: branches };
}

/** Fields a grant keeps for life: `openKey` is derived from the holder and the resource. */
const IMMUTABLE_GRANT_FIELDS = ['id', 'holder', 'resourceId'] as const;

/**
 * The fields a grant change sets and unsets, checked. Fields set to `undefined` are left alone
 * (use `unset` to remove a field).
 */
function grantChange(change: GrantChange): { set: Partial<GrantDoc>; unset: string[] } {
  const set = compact(change.set ?? {}) as Partial<GrantDoc>;
  const unset: string[] = [...(change.unset ?? [])];
  for (const field of IMMUTABLE_GRANT_FIELDS) {
    if (field in set || unset.includes(field)) throw new Error(`a grant update cannot change its ${field}`);
  }
  const both = unset.filter((k) => k in set);
  if (both.length > 0) throw new Error(`a grant update cannot both set and unset ${both.join(', ')}`);
  return { set, unset };
}

/** The `$set`/`$unset` update of `set` and `unset`; null when it changes nothing. */
function toUpdate<D extends { _id: string }>(
  set: Partial<D>,
  unset: readonly string[],
): UpdateFilter<D> | null {
  const update: UpdateFilter<D> = {};
  if (Object.keys(set).length > 0) update.$set = set as UpdateFilter<D>['$set'];
  if (unset.length > 0)
    update.$unset = Object.fromEntries(unset.map((k) => [k, '' as const])) as UpdateFilter<D>['$unset'];
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

    async history(query) {
      const base: Filter<AuditDoc> = { resourceId: query.resourceId, type: { $in: [...query.types] } };
      const before = query.before;
      const filter: Filter<AuditDoc> = before
        ? {
            $or: [
              { ...base, at: { $lt: before.at } },
              { ...base, at: before.at, _id: { $lt: before.id } },
            ],
          }
        : base;
      const docs = await audit.find(filter, { sort: { at: -1, _id: -1 }, limit: Math.max(1, query.limit) });
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

    async replace(record, expectedAddress) {
      const { platform, subjectId, purpose, recipient, address, createdAt } = record;
      const updated = await messages.findOneAndUpdate(
        { platform, subjectId, purpose, recipient, address: expectedAddress },
        { $set: { address, createdAt } },
        { returnDocument: 'after' },
      );
      return updated !== null;
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
      const update = toUpdate<OutboxDoc>(compact(change.set ?? {}) as Partial<OutboxDoc>, change.unset ?? []);
      const doc = update
        ? await outbox.findOneAndUpdate(filter, update, { returnDocument: 'after' })
        : await outbox.findOne(filter);
      return doc ? fromDoc(doc) : null;
    },

    async dueLanes(now, limit) {
      const lanes: string[] = [];
      if (limit <= 0) return lanes;
      // Several due items may share a lane: read a few more than asked and keep the distinct lanes;
      // when one lane filled the whole batch, read on past the lanes already found.
      const batch = limit * 4;
      for (;;) {
        const docs = await outbox.find(
          {
            status: 'pending',
            nextAttemptAt: { $lte: now },
            ...(lanes.length > 0 ? { lane: { $nin: [...lanes] } } : {}),
          },
          { sort: { nextAttemptAt: 1, _id: 1 }, limit: batch },
        );
        for (const doc of docs) {
          if (lanes.includes(doc.lane)) continue;
          lanes.push(doc.lane);
          if (lanes.length >= limit) return lanes;
        }
        if (docs.length < batch) return lanes;
      }
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
      return outbox.countDocuments({
        status: query.status,
        ...(query.retrying ? { attempts: { $gt: 0 } } : {}),
      });
    },

    purge(now) {
      // `purgeAt` is set only by the write that marks an item done; the status check is a second guard.
      return outbox.deleteMany({ purgeAt: { $lte: now }, status: { $ne: 'pending' } });
    },
  };
}

// ---------------------------------------------------------------- conversations

function conversationRepo(conversations: DocCollection<ConversationDoc>): ConversationRepo {
  return {
    async save(record) {
      const { email, tz, ...rest } = record;
      try {
        await conversations.findOneAndUpdate(
          { _id: email, updatedAt: { $lte: record.updatedAt } },
          { $set: compact({ ...rest, tz }) },
          { returnDocument: 'after', upsert: true },
        );
      } catch (e) {
        // A newer sighting is stored: the filter passed it by and the upsert met its `_id`.
        if (!(e instanceof DuplicateKeyError && e.key === '_id')) throw e;
      }
    },

    async get(email) {
      const doc = await conversations.findOne({ _id: email });
      if (!doc) return null;
      const { _id, ...rest } = doc;
      return { email: _id, ...rest };
    },
  };
}

// ---------------------------------------------------------------- sightings

function sightingRepo(sightings: DocCollection<SightingDoc>): SightingRepo {
  return {
    async record({ email, ...rest }) {
      try {
        await sightings.findOneAndUpdate(
          { _id: email, seenAt: { $lte: rest.seenAt } },
          { $set: rest },
          { returnDocument: 'after', upsert: true },
        );
      } catch (e) {
        // A newer sighting is stored: the filter passed it by and the upsert met its `_id`.
        if (!(e instanceof DuplicateKeyError && e.key === '_id')) throw e;
      }
    },

    async get(email) {
      const doc = await sightings.findOne({ _id: email });
      if (!doc) return null;
      const { _id, ...rest } = doc;
      return { email: _id, ...rest };
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
