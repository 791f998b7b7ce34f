/**
 * Every query the repositories issue has an index that serves it (indexes.ts). The queries are not
 * copied into a table by hand: the repository calls the code makes are run against collections
 * that record each filter and sort, and each recorded query is checked against INDEXES.
 *
 * "Serves" means, in MongoDB's terms (equality, then sort or range): the index starts with one or
 * more fields the query compares for equality (or `$in`), and when the query sorts or takes a
 * range, the next field of the index is its first sort field or its range field. A query that
 * sorts only a small, bounded set may say so, and then needs only the equality prefix.
 */
import { describe, expect, it } from 'vitest';
import type { Repositories } from '../../src/domain/ports.js';
import type {
  DocCollection,
  Filter,
  FindOneAndUpdateOptions,
  FindOptions,
  UpdateFilter,
} from '../../src/store/collection.js';
import { type CollectionName, INDEXES } from '../../src/store/indexes.js';
import { MemoryCollection } from '../../src/store/memory.js';
import { type Collections, createRepositories } from '../../src/store/repositories.js';

interface Recorded {
  collection: CollectionName;
  filter: Record<string, unknown>;
  sort: Record<string, 1 | -1> | undefined;
}

/** A memory collection that records the filter and sort of every query. */
function recording<T extends { _id: string }>(name: CollectionName, log: Recorded[]): DocCollection<T> {
  const inner = new MemoryCollection<T>(name);
  const note = (filter: Filter<T>, sort?: Record<string, 1 | -1>) => {
    log.push({ collection: name, filter: structuredClone(filter) as Record<string, unknown>, sort });
  };
  return {
    name,
    insertOne: (doc: T) => inner.insertOne(doc),
    findOne(filter: Filter<T>) {
      note(filter);
      return inner.findOne(filter);
    },
    find(filter: Filter<T>, options?: FindOptions) {
      note(filter, options?.sort);
      return inner.find(filter, options);
    },
    findOneAndUpdate(filter: Filter<T>, update: UpdateFilter<T>, options: FindOneAndUpdateOptions) {
      note(filter, options.sort);
      return inner.findOneAndUpdate(filter, update, options);
    },
    updateMany(filter: Filter<T>, update: UpdateFilter<T>) {
      note(filter);
      return inner.updateMany(filter, update);
    },
    countDocuments(filter: Filter<T>) {
      note(filter);
      return inner.countDocuments(filter);
    },
    deleteMany(filter: Filter<T>) {
      note(filter);
      return inner.deleteMany(filter);
    },
  };
}

function recordingRepositories(log: Recorded[]): Repositories {
  const collections: Collections = {
    requests: recording('requests', log),
    grants: recording('grants', log),
    audit: recording('audit', log),
    messages: recording('messages', log),
    outbox: recording('outbox', log),
    conversations: recording('conversations', log),
    resource_settings: recording('resource_settings', log),
    sightings: recording('sightings', log),
  };
  return createRepositories(collections);
}

const now = new Date('2030-01-01T00:00:00Z');
const open = ['provisioning', 'active'] as const;
const all = ['provisioning', 'active', 'revoking', 'expired', 'revoked'] as const;

/**
 * The repository calls the code makes (src/domain, src/system.ts, src/bot), each with what the
 * query sorts in memory when that is a bounded set.
 */
const CALLS: Array<{ call: string; run: (r: Repositories) => Promise<unknown>; sortsInMemory?: string }> = [
  { call: 'requests.get', run: (r) => r.requests.get('r1') },
  { call: 'requests.findBySubmissionKey', run: (r) => r.requests.findBySubmissionKey('k') },
  {
    call: 'requests.decide',
    run: (r) => r.requests.decide('r1', { status: 'approved', by: 'b@example.com', byName: 'B' }, now),
  },
  { call: 'requests.expire', run: (r) => r.requests.expire('r1', now) },
  { call: 'requests.cancel', run: (r) => r.requests.cancel('r1', 'a@example.com', now) },
  {
    call: 'requests.close',
    run: (r) => r.requests.close('r1', { email: 'o@example.com', name: 'O' }, now, 'closed'),
  },
  {
    call: 'requests.list: the waiting requests of the closed resources (sweep)',
    run: (r) => r.requests.list({ status: 'pending', resourceIds: ['db', 'web'], limit: 100 }),
  },
  {
    call: 'grants.search: the open grants of the closed resources (sweep)',
    run: (r) => r.grants.search({ status: ['provisioning', 'active'], resourceIds: ['db', 'web'] }, 100),
  },
  {
    call: "requests.list: a closed resource's waiting requests",
    run: (r) => r.requests.list({ resourceId: 'db', status: 'pending', limit: 1000 }),
  },
  { call: 'requests.findOverdue (sweep)', run: (r) => r.requests.findOverdue(now, 200) },
  { call: 'requests.findUnsettled (sweep)', run: (r) => r.requests.findUnsettled(200) },
  { call: 'requests.settle', run: (r) => r.requests.settle('r1', 'approved') },
  {
    call: "requests.list: a person's pending request for a resource (submitting)",
    run: (r) =>
      r.requests.list({
        requesterEmail: 'a@example.com',
        resourceId: 'db',
        kind: 'access',
        status: 'pending',
        limit: 1,
      }),
  },
  {
    call: 'requests.list: approvals of the last day (sweep)',
    run: (r) => r.requests.list({ status: 'approved', decidedSince: now, limit: 200 }),
  },
  { call: 'requests.list: a requester', run: (r) => r.requests.list({ requesterEmail: 'a@example.com' }) },

  { call: 'grants.get', run: (r) => r.grants.get('g1') },
  { call: 'grants.findByRequestId', run: (r) => r.grants.findByRequestId('r1') },
  {
    call: 'grants.update (a lease)',
    run: (r) =>
      r.grants.update(
        'g1',
        { status: 'provisioning', attempts: 0, nextAttemptAt: null },
        { set: { attempts: 1 } },
      ),
  },
  {
    call: 'grants.update (activation)',
    run: (r) => r.grants.update('g1', { status: 'provisioning' }, { set: { status: 'active' } }),
  },
  { call: 'grants.findDue (sweep)', run: (r) => r.grants.findDue(now, 200) },
  { call: 'grants.findUnsettled (sweep)', run: (r) => r.grants.findUnsettled(200) },
  {
    call: 'grants.update (settling a move)',
    run: (r) => r.grants.update('g1', { status: 'active', unsettled: 'activated' }, { unset: ['unsettled'] }),
  },
  {
    call: 'grants.count: retrying (metrics)',
    run: (r) => r.grants.count({ status: ['provisioning', 'active', 'revoking'], retrying: true }),
    sortsInMemory: 'grants not ended, by status: the retry counts are filtered among them',
  },
  {
    call: "grants.list: a person's open grant for a resource (submitting, approving)",
    run: (r) =>
      r.grants.list({ holderEmail: 'a@example.com', resourceId: 'db', status: [...open], limit: 1 }),
  },
  { call: 'grants.list: a resource', run: (r) => r.grants.list({ resourceId: 'db' }) },
  {
    call: 'grants.list: every grant not ended (startup check)',
    run: (r) => r.grants.list({ status: ['provisioning', 'active', 'revoking'], limit: 1000 }),
    sortsInMemory: 'grants not ended: a bounded set, read once at startup',
  },

  {
    call: 'grants.search: an admin, every grant, newest first (dashboard, report)',
    run: (r) => r.grants.search({ status: [...all] }, 26),
  },
  {
    call: 'grants.search: the next page (keyset cursor, ties included)',
    run: (r) => r.grants.search({ status: [...all], after: { createdAt: now, id: 'g1' } }, 26),
  },
  {
    call: 'grants.search: an approver and holder (their resources, or their own), with filters',
    run: (r) =>
      r.grants.search(
        {
          status: ['expired', 'revoked'],
          anyOf: [{ resourceIds: ['db', 'web'] }, { holderEmail: 'a@example.com' }],
          expiresFrom: now,
          createdSince: now,
          after: { createdAt: now, id: 'g1' },
        },
        26,
      ),
  },
  {
    call: 'grants.search: a group, for one user',
    run: (r) =>
      r.grants.search({ status: [...all], resourceIds: ['db', 'web'], holderEmail: 'a@example.com' }, 26),
  },
  { call: 'grants.count: everything', run: (r) => r.grants.count({ status: [...all] }) },
  {
    call: 'grants.count: by expiry',
    run: (r) =>
      r.grants.count({ status: [...all], anyOf: [{ holderEmail: 'a@example.com' }], expiresTo: now }),
  },
  { call: 'grants.getMany (history, report)', run: (r) => r.grants.getMany(['g1', 'g2']) },
  { call: 'requests.getMany (report)', run: (r) => r.requests.getMany(['r1', 'r2']) },
  {
    call: "grants.list: a person's grants of a resource (was access held then?)",
    run: (r) => r.grants.list({ holderEmail: 'a@example.com', resourceId: 'db', limit: 100 }),
  },
  {
    call: "audit.history: a resource's access history, a later page",
    run: (r) =>
      r.audit.history({
        resourceId: 'db',
        types: ['grant.activated', 'access.used'],
        before: { at: now, id: 'e1' },
        limit: 26,
      }),
  },

  { call: 'audit.list: a request (timeline)', run: (r) => r.audit.list({ requestId: 'r1' }) },
  { call: 'audit.list: a grant (timeline)', run: (r) => r.audit.list({ grantId: 'g1' }) },
  { call: 'audit.list: everything, oldest first', run: (r) => r.audit.list({}) },

  {
    call: 'messages.save',
    run: (r) =>
      r.messages.save({
        id: 'm1',
        platform: 'slack',
        subjectId: 's',
        purpose: 'p',
        recipient: 'b@example.com',
        address: '{}',
        createdAt: now,
      }),
  },
  { call: 'messages.find: a subject', run: (r) => r.messages.find({ subjectId: 's' }) },
  { call: 'messages.find: a purpose', run: (r) => r.messages.find({ subjectId: 's', purpose: 'p' }) },
  {
    call: 'messages.find: a recipient',
    run: (r) => r.messages.find({ subjectId: 's', purpose: 'p', recipient: 'b@example.com' }),
  },

  { call: 'outbox.head', run: (r) => r.outbox.head('lane') },
  {
    call: 'outbox.update',
    run: (r) =>
      r.outbox.update('o1', { status: 'pending', nextAttemptAt: now, attempts: 0 }, { set: { attempts: 1 } }),
  },
  { call: 'outbox.dueLanes', run: (r) => r.outbox.dueLanes(now, 50) },
  { call: 'outbox.list: a subject', run: (r) => r.outbox.list({ subjectId: 's' }) },
  { call: 'outbox.list: a lane', run: (r) => r.outbox.list({ lane: 'lane', status: 'pending' }) },
  { call: 'outbox.count', run: (r) => r.outbox.count({ status: 'undeliverable' }) },
  { call: 'outbox.purge', run: (r) => r.outbox.purge(now) },

  {
    call: 'conversations.save',
    run: (r) =>
      r.conversations.save({ email: 'b@example.com', platform: 'teams', reference: '{}', updatedAt: now }),
  },
  { call: 'conversations.get', run: (r) => r.conversations.get('b@example.com') },

  { call: 'settings.get', run: (r) => r.settings.get('db') },
  {
    call: 'settings.save',
    run: (r) =>
      r.settings.save(
        {
          resourceId: 'db',
          jitEnabled: false,
          windowEndsAt: now,
          updatedBy: 'o@example.com',
          updatedByName: 'O',
          updatedAt: now,
          version: 2,
        },
        1,
      ),
  },
  { call: 'settings.windowsEndedBy', run: (r) => r.settings.windowsEndedBy(now, 50) },
  {
    call: 'settings.getMany (the sweep: owner-controlled resources)',
    run: (r) => r.settings.getMany(['a', 'b']),
  },
  { call: 'settings.settle', run: (r) => r.settings.settle('db', 2) },
  { call: 'settings.findUnsettled (sweep)', run: (r) => r.settings.findUnsettled(50) },
  { call: 'settings.switchedOff', run: (r) => r.settings.switchedOff(50) },
  {
    call: 'sightings.record',
    run: (r) => r.sightings.record({ email: 'b@example.com', platform: 'slack', seenAt: now }),
  },
  { call: 'sightings.get', run: (r) => r.sightings.get('b@example.com') },
];

interface Shape {
  equality: string[];
  range: string | undefined;
  sort: string | undefined;
  /** Fields the query requires to exist (`{ $exists: true }`): what a partial index may require. */
  exists: string[];
}

const RANGE = ['$lt', '$lte', '$gt', '$gte'];

function isOperatorObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Date) &&
    !Array.isArray(value) &&
    Object.keys(value).some((k) => k.startsWith('$'))
  );
}

/** The shapes of a query: one per branch of a top-level `$or`, each with the other conditions. */
function shapesOf(query: Recorded): Shape[] {
  const { $or, ...rest } = query.filter;
  const branches = Array.isArray($or) ? $or.map((b) => ({ ...rest, ...(b as object) })) : [rest];
  const sort = Object.keys(query.sort ?? {})[0];
  return branches.map((branch) => {
    const shape: Shape = { equality: [], range: undefined, sort, exists: [] };
    for (const [field, condition] of Object.entries(branch)) {
      if (field.startsWith('$')) throw new Error(`unexpected ${field} in ${JSON.stringify(query.filter)}`);
      if (!isOperatorObject(condition) || '$in' in condition || '$eq' in condition)
        shape.equality.push(field);
      else if (condition.$exists === true && Object.keys(condition).length === 1) shape.exists.push(field);
      else if (Object.keys(condition).some((op) => RANGE.includes(op))) shape.range = field;
    }
    return shape;
  });
}

function serves(fields: readonly string[], shape: Shape, sortsInMemory: boolean): boolean {
  let i = 0;
  while (i < fields.length && shape.equality.includes(fields[i] as string)) i++;
  const next = fields[i];
  if (i === 0 && shape.equality.length > 0) return false;
  if (i === 0) return next !== undefined && (next === shape.range || next === shape.sort);
  // Every field of the index fixed by equality, the sort field among them: the query reads only the
  // documents that share one key (the ties a keyset cursor resolves by `_id`), a handful.
  if (i === fields.length && shape.sort !== undefined && shape.equality.includes(shape.sort)) return true;
  if (sortsInMemory || (shape.range === undefined && shape.sort === undefined)) return true;
  return next === shape.range || next === shape.sort;
}

describe('indexes match the queries', () => {
  it.each(CALLS)('$call', async ({ run, sortsInMemory }) => {
    const log: Recorded[] = [];
    await run(recordingRepositories(log));
    expect(log.length).toBeGreaterThan(0);
    for (const query of log) {
      for (const shape of shapesOf(query)) {
        // A partial index serves only the queries that require what it requires (MongoDB uses it
        // only when the query's filter implies its partialFilterExpression).
        const indexes = [
          ['_id'],
          ...INDEXES[query.collection]
            .filter((i) =>
              Object.keys(i.partialFilterExpression ?? {}).every((f) => shape.exists.includes(f)),
            )
            .map((i) => Object.keys(i.fields)),
        ];
        const serving = indexes.filter((fields) => serves(fields, shape, sortsInMemory !== undefined));
        expect(serving, `${query.collection} ${JSON.stringify(shape)}`).not.toEqual([]);
      }
    }
  });

  it('the sweep finds unsettled requests and grants through partial indexes, oldest first', async () => {
    const log: Recorded[] = [];
    const repos = recordingRepositories(log);
    await repos.requests.findUnsettled(10);
    await repos.grants.findUnsettled(10);
    expect(log.map((q) => [q.collection, q.filter, q.sort])).toEqual([
      ['requests', { unsettled: { $exists: true } }, { createdAt: 1, _id: 1 }],
      ['grants', { unsettled: { $exists: true } }, { createdAt: 1, _id: 1 }],
    ]);
    for (const collection of ['requests', 'grants'] as const) {
      expect(INDEXES[collection]).toContainEqual({
        fields: { createdAt: 1, _id: 1 },
        partialFilterExpression: { unsettled: { $exists: true } },
      });
    }
  });

  it('a partial index serves no query that does not require its field', () => {
    const shape: Shape = { equality: [], range: undefined, sort: 'createdAt', exists: [] };
    const partial = INDEXES.grants.filter((i) => i.partialFilterExpression?.unsettled);
    expect(partial).toHaveLength(1);
    const usable = partial.filter((i) =>
      Object.keys(i.partialFilterExpression ?? {}).every((f) => shape.exists.includes(f)),
    );
    expect(usable).toEqual([]);
  });

  it('the sweep takes every branch of findDue through an index of its own', async () => {
    const log: Recorded[] = [];
    await recordingRepositories(log).grants.findDue(now, 10);
    const [query] = log;
    if (!query) throw new Error('no query recorded');
    expect(shapesOf(query)).toEqual([
      { equality: ['status'], range: 'expiresAt', sort: 'createdAt', exists: [] },
      { equality: ['status'], range: 'nextAttemptAt', sort: 'createdAt', exists: [] },
      { equality: ['status'], range: 'pendingExtension.nextAttemptAt', sort: 'createdAt', exists: [] },
    ]);
  });

  it('the check itself tells a serving index from one that is not', () => {
    const shape: Shape = { equality: ['status'], range: 'decideBy', sort: 'decideBy', exists: [] };
    expect(serves(['status', 'decideBy'], shape, false)).toBe(true);
    expect(serves(['status', 'createdAt'], shape, false)).toBe(false);
    expect(serves(['status', 'createdAt'], shape, true)).toBe(true);
    expect(serves(['decideBy'], shape, false)).toBe(false);
    expect(serves(['at'], { equality: [], range: undefined, sort: 'at', exists: [] }, false)).toBe(true);
    expect(
      serves(['requestId', 'at'], { equality: [], range: undefined, sort: 'at', exists: [] }, false),
    ).toBe(false);
    const ties: Shape = { equality: ['status', 'createdAt'], range: '_id', sort: 'createdAt', exists: [] };
    expect(serves(['status', 'createdAt'], ties, false)).toBe(true);
    expect(serves(['status', 'expiresAt'], ties, false)).toBe(false);
  });

  it('declares no index twice, nor one that is a prefix of another non-unique one', () => {
    for (const [name, specs] of Object.entries(INDEXES)) {
      const keys = specs.map((s) => JSON.stringify(Object.entries(s.fields)));
      expect(new Set(keys).size, name).toBe(keys.length);
      for (const a of specs) {
        if (a.unique) continue;
        const fa = Object.keys(a.fields);
        for (const b of specs) {
          const fb = Object.keys(b.fields);
          if (a === b || fb.length <= fa.length) continue;
          expect(
            fb.slice(0, fa.length),
            `${name}: ${fa.join(',')} is a prefix of ${fb.join(',')}`,
          ).not.toEqual(fa);
        }
      }
    }
  });
});
