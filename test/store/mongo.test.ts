/**
 * The MongoDB store.
 *
 * 1. Against a real MongoDB whenever one is reachable (see test/setup/mongo-probe.ts); skipped,
 *    saying so, otherwise.
 * 2. Always: the whole mongoose store (src/store/mongo/: schemas, validation, strict mode, query
 *    and update casting, `lean()`, `syncIndexes`, E11000 mapping) through mongoose's own
 *    connection, onto a driver-level stand-in (test/support/mingo-db.ts: a `MongoClient` whose
 *    databases are evaluated by mingo). That stand-in is not MongoDB, and it shares no code with the
 *    memory store, so the contract suite compares two independent engines.
 */
import { type Db, MongoServerError } from 'mongodb';
import mongoose from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Log } from '../../src/domain/events.js';
import { createAgendaRunner, JOBS_COLLECTION } from '../../src/jobs/agenda.js';
import { migrateIndexes } from '../../src/migrate.js';
import type { Store } from '../../src/store/index.js';
import { INDEXES, uniqueKeyName } from '../../src/store/indexes.js';
import { openMongoCollections, openMongoStore } from '../../src/store/mongo/connect.js';
import { toDuplicateKeyError } from '../../src/store/mongo/duplicate-key.js';
import { startEmbeddedMongo } from '../../src/store/mongo/embedded.js';
import { createRepositories } from '../../src/store/repositories.js';
import { MingoClient } from '../support/mingo-db.js';
import { connectTestMongoStore, describeMongo, mongoUri, uniqueDbName } from '../support/mongo.js';
import { runCollectionContract, runStoreContract } from './contract.js';
import { runReadContract } from './read-contract.js';

// ---------------------------------------------------------------- real MongoDB

describeMongo('MongoDB store', () => {
  runStoreContract('repositories', () => connectTestMongoStore('store'));
  runReadContract('repositories', () => connectTestMongoStore('reads'));

  runCollectionContract('collections', async () => {
    const uri = mongoUri() as string;
    const conn = await mongoose
      .createConnection(uri, { dbName: uniqueDbName('coll'), autoIndex: false })
      .asPromise();
    return {
      collections: await openMongoCollections(conn),
      async dispose() {
        await conn.dropDatabase();
        await conn.close();
      },
    };
  });

  it('creates the declared indexes, unique and partial ones included', async () => {
    const store = await connectTestMongoStore('indexes');
    try {
      const db = store.db;
      if (!db) throw new Error('no db');
      const indexes = await db.collection('messages').indexes();
      const unique = indexes.find((i) => i.unique);
      expect(unique?.key).toEqual({ platform: 1, subjectId: 1, purpose: 1, recipient: 1 });
      expect(unique?.name).toBe('platform+subjectId+purpose+recipient');
      const requestIndexes = (await db.collection('requests').indexes()).map((i) => i.key);
      expect(requestIndexes).toContainEqual({ status: 1, decideBy: 1 });
      const openKey = (await db.collection('grants').indexes()).find((i) => i.name === 'openKey');
      expect(openKey).toMatchObject({
        key: { openKey: 1 },
        unique: true,
        partialFilterExpression: { openKey: { $exists: true } },
      });
    } finally {
      await store.close();
    }
  });
});

// ---------------------------------------------------------------- mongoose onto the mingo stand-in

/** What mongoose handed the driver (its `operation-start` event), for the assertions below. */
interface Sent {
  method: string;
  collection: string;
  params: unknown[];
}

/**
 * A mongoose connection of its own whose client is a MingoClient: `setClient` makes it open, and
 * from then on every model on it calls the stand-in's collections through mongoose's own driver
 * layer, exactly as it would call the driver's.
 */
async function standInConnection(sent?: Sent[]): Promise<mongoose.Connection> {
  const client = await new MingoClient(uniqueDbName('standin')).connect();
  const conn = mongoose.createConnection().setClient(client);
  if (sent) {
    conn.on('operation-start', (op: { method: string; collectionName: string; params: unknown[] }) => {
      sent.push({ method: op.method, collection: op.collectionName, params: op.params });
    });
  }
  return conn;
}

/** The store exactly as connectMongo makes it, on a stand-in connection. */
async function standInStore(sent?: Sent[]): Promise<Store> {
  return openMongoStore(await standInConnection(sent));
}

describe('mongoose store through its own connection onto a mingo stand-in for the driver (not MongoDB)', () => {
  runStoreContract('repositories', () => standInStore());
  runReadContract('repositories', () => standInStore());

  runCollectionContract('collections', async () => {
    const conn = await standInConnection();
    return {
      collections: await openMongoCollections(conn),
      dispose: () => conn.close(),
    };
  });

  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('connects through the stand-in client: ping, and the declared indexes created at start', async () => {
    store = await standInStore();
    expect(await store.ping()).toBe(true);
    const db = store.db;
    if (!db) throw new Error('no db');
    for (const [name, specs] of Object.entries(INDEXES)) {
      const listed = await db.collection(name).listIndexes().toArray();
      expect(listed).toEqual([
        { v: 2, key: { _id: 1 }, name: '_id_' },
        ...specs.map((spec) =>
          expect.objectContaining({
            key: spec.fields,
            ...(spec.unique ? { unique: true, name: uniqueKeyName(Object.keys(spec.fields)) } : {}),
            ...(spec.partialFilterExpression
              ? { partialFilterExpression: spec.partialFilterExpression }
              : {}),
          }),
        ),
      ]);
    }
  });

  it('hands the driver the filters, updates and options the repositories wrote, unchanged', async () => {
    const sent: Sent[] = [];
    store = await standInStore(sent);
    const repos = store.repos;
    const now = new Date('2030-01-01T00:00:00Z');
    await repos.requests.insert({
      id: 'r1',
      kind: 'access',
      resourceId: 'db',
      requester: { email: 'a@example.com', name: '' },
      approvers: ['b@example.com'],
      duration: 'PT1H',
      justification: 'j',
      approval: 'manual',
      status: 'pending',
      createdAt: now,
      decideBy: new Date(now.getTime() + 60_000),
      submissionKey: 'k1',
    });
    sent.length = 0;
    await repos.requests.decide('r1', { status: 'approved', by: 'b@example.com', byName: 'B' }, now);
    expect(sent).toEqual([
      {
        method: 'findOneAndUpdate',
        collection: 'requests',
        params: [
          { _id: 'r1', status: 'pending', decideBy: { $gt: now }, approvers: 'b@example.com' },
          {
            $set: {
              status: 'approved',
              decidedAt: now,
              decidedBy: 'b@example.com',
              decidedByName: 'B',
              unsettled: 'approved',
            },
          },
          // runValidators is mongoose's own, and mongoose adds the legacy returnOriginal: the driver reads neither.
          {
            returnDocument: 'after',
            upsert: false,
            includeResultMetadata: false,
            runValidators: true,
            returnOriginal: false,
          },
        ],
      },
    ]);

    sent.length = 0;
    await repos.grants.findDue(now, 5);
    expect(sent).toEqual([
      {
        method: 'find',
        collection: 'grants',
        params: [
          {
            $or: [
              { status: 'active', expiresAt: { $lte: now } },
              { status: { $in: ['provisioning', 'revoking'] }, nextAttemptAt: { $lte: now } },
              { status: 'active', 'pendingExtension.nextAttemptAt': { $lte: now } },
            ],
          },
          { sort: { createdAt: 1, _id: 1 }, limit: 5 },
        ],
      },
    ]);
  });

  it('validates documents: required fields, enums, types, unknown fields', async () => {
    const conn = await standInConnection();
    const collections = await openMongoCollections(conn);
    store = {
      kind: 'mongo',
      repos: createRepositories(collections),
      ping: async () => true,
      close: () => conn.close(),
    };
    const repos = store.repos;
    const good = {
      id: 'e1',
      type: 'request.created',
      at: new Date(0),
      actor: 'a@example.com',
    } as const;
    await expect(repos.audit.append({ ...good, type: 'nonsense' as never })).rejects.toThrow(/type/);
    await expect(repos.audit.append({ ...good, actor: undefined as never })).rejects.toThrow(/actor/);
    await expect(repos.audit.append({ ...good, at: 'not a date' as never })).rejects.toThrow(/at/);
    await expect(repos.audit.append({ ...good, extra: 1 } as never)).rejects.toThrow(/extra/);
    await repos.audit.append(good);
    // Updates are validated too.
    const grants = collections.grants;
    await grants.insertOne({
      _id: 'g1',
      requestId: 'r1',
      resourceId: 'db',
      holder: { email: 'a@example.com', name: 'A' },
      duration: 'PT1H',
      justification: 'j',
      status: 'active',
      createdAt: new Date(0),
      attempts: 0,
    });
    await expect(
      grants.findOneAndUpdate(
        { _id: 'g1' },
        { $set: { status: 'bogus' as never } },
        { returnDocument: 'after' },
      ),
    ).rejects.toThrow(/status/);
    await expect(
      grants.findOneAndUpdate(
        { _id: 'g1' },
        { $set: { unknownField: 1 } as never },
        { returnDocument: 'after' },
      ),
    ).rejects.toThrow(/unknownField/);
    // A filter on a field the schema does not know is an error, not a filter that matches everything.
    await expect(grants.find({ nosuchfield: 'x' } as never)).rejects.toThrow(/nosuchfield/);
  });
});

// ---------------------------------------------------------------- pieces

// ---------------------------------------------------------------- indexes at start, and migrate

describe('indexes at start and `jit-access-bot migrate`, on a mingo stand-in for the driver (not MongoDB)', () => {
  indexTests(async () => {
    const conn = await standInConnection();
    return { conn, dispose: () => conn.close() };
  });
});

describeMongo('indexes at start and `jit-access-bot migrate`, on MongoDB', () => {
  indexTests(async () => {
    const conn = await mongoose
      .createConnection(mongoUri() as string, { dbName: uniqueDbName('migrate'), autoIndex: false })
      .asPromise();
    return {
      conn,
      async dispose() {
        await conn.dropDatabase();
        await conn.close();
      },
    };
  });
});

/** A log that keeps its entries' event names and fields. */
function recordingLog() {
  const entries: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (fields: object, msg = '') =>
      void entries.push({ level, msg, fields: fields as Record<string, unknown> });
  const log: Log = {
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    child: () => log,
  };
  const named = (prefix: string) => entries.filter((e) => e.msg.startsWith(prefix));
  return { log, entries, named };
}

function indexTests(
  connection: () => Promise<{ conn: mongoose.Connection; dispose(): Promise<void> }>,
): void {
  /** A database whose indexes an older version (or a person) made otherwise. */
  async function drifted(conn: mongoose.Connection) {
    const db = conn.db;
    if (!db) throw new Error('no db');
    // Declared unique under this name; here it is not.
    await db.collection('requests').createIndex({ submissionKey: 1 }, { name: 'submissionKey' });
    // Not declared at all (any more).
    await db.collection('requests').createIndex({ legacyField: 1 }, { name: 'legacyField_1' });
    // The scheduler's index, under its name with another key.
    await db.collection(JOBS_COLLECTION).createIndex({ name: 1 }, { name: 'name_data_id' });
    return db;
  }
  const byName = async (db: Db, collection: string) =>
    new Map(
      (await db.collection(collection).listIndexes().toArray()).map((i) => [
        i.name as string,
        i as { key: Record<string, unknown>; unique?: boolean },
      ]),
    );

  it('creates the missing indexes at start and drops none: one defined otherwise is kept, and reported', async () => {
    const { conn, dispose } = await connection();
    try {
      const db = await drifted(conn);
      const { log, named } = recordingLog();
      const store = await openMongoStore(conn, { log });
      const requests = await byName(db, 'requests');
      expect(requests.get('submissionKey')?.unique).toBeUndefined(); // kept as it was
      expect(requests.get('legacyField_1')?.key).toEqual({ legacyField: 1 }); // not dropped
      expect([...requests.values()].map((i) => i.key)).toContainEqual({ status: 1, decideBy: 1 }); // created
      expect((await byName(db, 'grants')).get('openKey')?.unique).toBe(true);
      // The outbox's retention: a TTL index that deletes a done item at its purgeAt.
      expect((await byName(db, 'outbox')).get('purgeAt_1')).toMatchObject({
        key: { purgeAt: 1 },
        expireAfterSeconds: 0,
      });
      const conflicts = named('store.index_conflict');
      expect(conflicts.map((e) => [e.level, e.fields.collection, e.fields.index, e.fields.unique])).toEqual([
        ['error', 'requests', 'submissionKey', true],
      ]);
      expect(conflicts[0]?.msg).toContain('jit-access-bot migrate');
      // The scheduler starts too, keeping its conflicting index and saying so.
      const runner = createAgendaRunner({ db, logger: log, processEvery: 200 });
      await runner.start();
      await runner.stop();
      expect((await byName(db, JOBS_COLLECTION)).get('name_data_id')?.key).toEqual({ name: 1 });
      expect(named('store.index_conflict').map((e) => e.fields.index)).toEqual([
        'submissionKey',
        'name_data_id',
      ]);
      expect(await store.ping()).toBe(true);
    } finally {
      await dispose();
    }
  });

  it('migrate drops what is no longer declared or defined otherwise, and builds the declarations', async () => {
    const { conn, dispose } = await connection();
    try {
      const db = await drifted(conn);
      const { log } = recordingLog();
      const changes = await migrateIndexes(conn, log);
      const requests = await byName(db, 'requests');
      expect(requests.get('submissionKey')?.unique).toBe(true);
      expect(requests.has('legacyField_1')).toBe(false);
      expect((await byName(db, JOBS_COLLECTION)).get('name_data_id')?.key).toEqual({ name: 1, 'data.id': 1 });
      const of = (collection: string) => changes.find((c) => c.collection === collection);
      expect(of('requests')?.dropped.sort()).toEqual(['legacyField_1', 'submissionKey']);
      expect(of('requests')?.created).toContain('submissionKey');
      expect(of(JOBS_COLLECTION)).toEqual({
        collection: JOBS_COLLECTION,
        dropped: ['name_data_id'],
        created: ['findAndLockNextJobIndex', 'name_data_id'],
      });
      // Run again, nothing is left to change; and a start then reports no conflict.
      const again = await migrateIndexes(conn, log);
      expect(again.every((c) => c.dropped.length === 0 && c.created.length === 0)).toBe(true);
      const start = recordingLog();
      await openMongoStore(conn, { log: start.log });
      expect(start.named('store.index_conflict')).toEqual([]);
    } finally {
      await dispose();
    }
  });
}

describe('toDuplicateKeyError', () => {
  it('names the key from keyPattern, or from the index name of older servers', () => {
    const withPattern = new MongoServerError({
      message: 'E11000',
      code: 11000,
      keyPattern: { requestId: 1 },
    });
    expect(toDuplicateKeyError(withPattern)?.key).toBe('requestId');
    const compound = new MongoServerError({
      message: 'E11000',
      code: 11000,
      keyPattern: { platform: 1, subjectId: 1, purpose: 1, recipient: 1 },
    });
    expect(toDuplicateKeyError(compound)?.key).toBe('platform+subjectId+purpose+recipient');
    const old = new MongoServerError({
      message: 'E11000 duplicate key error collection: db.requests index: submissionKey dup key: { : "k" }',
      code: 11000,
    });
    expect(toDuplicateKeyError(old)?.key).toBe('submissionKey');
    const id = new MongoServerError({
      message: 'E11000 duplicate key error index: _id_ dup key',
      code: 11000,
    });
    expect(toDuplicateKeyError(id)?.key).toBe('_id');
    expect(toDuplicateKeyError(new MongoServerError({ message: 'other', code: 2 }))).toBeNull();
    expect(toDuplicateKeyError(new Error('x'))).toBeNull();
  });
});

describe('startEmbeddedMongo', () => {
  let dir: string;
  beforeAll(async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    dir = await mkdtemp(join(tmpdir(), 'jit-embedded-'));
  });
  afterAll(async () => {
    const { rm } = await import('node:fs/promises');
    await rm(dir, { recursive: true, force: true });
    vi.unstubAllEnvs();
  });

  it('explains what to do when no mongod can be started', async () => {
    vi.stubEnv('MONGOMS_SYSTEM_BINARY', '/nonexistent/mongod');
    const error = await startEmbeddedMongo(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^Could not start the embedded MongoDB \(.+\)\. Set MONGODB_URI to a MongoDB server, or STORE=memory for a throwaway in-memory store\.$/,
    );
  });
});
