/**
 * The MongoDB store.
 *
 * 1. Against a real MongoDB whenever one is reachable (see test/setup/mongo-probe.ts); skipped,
 *    saying so, otherwise.
 * 2. Always: the mongoose half of it (schemas, validation, strict mode, query and update casting,
 *    `lean()`, the options handed to the driver, E11000 mapping) over a stand-in for the driver's
 *    collections that evaluates what mongoose sends with mingo. This is not MongoDB: it checks that
 *    mongo.ts and the schemas hand the driver exactly the filters and updates the memory store
 *    runs, and that every document the contract writes passes the schemas' validation.
 */
import { MongoServerError } from 'mongodb';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DuplicateKeyError } from '../../src/domain/ports.js';
import type { Store } from '../../src/store/index.js';
import { uniqueKeyName } from '../../src/store/indexes.js';
import { MemoryCollection } from '../../src/store/memory.js';
import {
  createModels,
  createMongoCollections,
  type MongoModels,
  startEmbeddedMongo,
  toDuplicateKeyError,
} from '../../src/store/mongo.js';
import { createRepositories } from '../../src/store/repositories.js';
import { connectTestMongoStore, describeMongo, mongoUri, uniqueDbName } from '../support/mongo.js';
import { runCollectionContract, runStoreContract } from './contract.js';

// ---------------------------------------------------------------- real MongoDB

describeMongo('MongoDB store', () => {
  runStoreContract('repositories', () => connectTestMongoStore('store'));

  runCollectionContract('collections', async () => {
    const uri = mongoUri() as string;
    const conn = await mongoose
      .createConnection(uri, { dbName: uniqueDbName('coll'), autoIndex: false })
      .asPromise();
    const models = createModels(conn);
    for (const model of Object.values(models) as mongoose.Model<{ _id: string }>[]) await model.syncIndexes();
    return {
      collections: createMongoCollections(models),
      async dispose() {
        await conn.dropDatabase();
        await conn.close();
      },
    };
  });

  it('creates the declared indexes, unique ones included', async () => {
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
    } finally {
      await store.close();
    }
  });
});

// ---------------------------------------------------------------- mongoose over a stand-in driver

type AnyDoc = { _id: string } & Record<string, unknown>;

/** What the stand-in saw mongoose send, for the assertions below. */
interface Sent {
  op: string;
  collection: string;
  filter?: unknown;
  update?: unknown;
  options?: unknown;
}

/** What BSON serialization makes of a value: `toBSON()` is honoured (mongoose subdocuments, arrays). */
function asBson<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const withToBson = value as { toBSON?: () => unknown };
  if (typeof withToBson.toBSON === 'function') return asBson(withToBson.toBSON()) as T;
  if (Array.isArray(value)) return value.map((v) => asBson(v)) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asBson(v)])) as T;
}

function plainSort(sort: unknown): Record<string, 1 | -1> | undefined {
  if (sort === undefined) return undefined;
  if (sort === null || typeof sort !== 'object' || Array.isArray(sort) || sort instanceof Map) {
    throw new Error(`stand-in: unexpected sort ${String(sort)}`);
  }
  for (const v of Object.values(sort))
    if (v !== 1 && v !== -1) throw new Error(`stand-in: unexpected sort ${v}`);
  return sort as Record<string, 1 | -1>;
}

/**
 * Replaces the driver calls of each model's collection with a mingo-backed stand-in that enforces
 * the unique indexes the *mongoose schema* declares and throws E11000 errors shaped like MongoDB's.
 */
function standInDriver(models: MongoModels, sent: Sent[]): void {
  for (const [name, model] of Object.entries(models) as Array<[string, mongoose.Model<AnyDoc>]>) {
    const uniques = model.schema
      .indexes()
      .filter(([, options]) => options?.unique)
      .map(([fields, options]) => ({ fields: Object.keys(fields), name: String(options?.name) }));
    const memory = new MemoryCollection<AnyDoc>(
      name,
      uniques.map((u) => u.fields),
    );
    const e11000 = async <R>(run: () => Promise<R>): Promise<R> => {
      try {
        return await run();
      } catch (e) {
        if (!(e instanceof DuplicateKeyError)) throw e;
        const index = uniques.find((u) => uniqueKeyName(u.fields) === e.key);
        const fields = index?.fields ?? ['_id'];
        throw new MongoServerError({
          message: `E11000 duplicate key error collection: test.${name} index: ${index?.name ?? '_id_'} dup key`,
          code: 11000,
          keyPattern: Object.fromEntries(fields.map((f) => [f, 1])),
        });
      }
    };
    const driver = {
      insertOne: (raw: AnyDoc, options: unknown) => {
        const doc = asBson(raw);
        sent.push({ op: 'insertOne', collection: name, update: doc, options });
        return e11000(async () => {
          await memory.insertOne(doc);
          return { acknowledged: true, insertedId: doc._id };
        });
      },
      findOne: async (raw: object, options: unknown) => {
        const filter = asBson(raw);
        sent.push({ op: 'findOne', collection: name, filter, options });
        return memory.findOne(filter);
      },
      find: (raw: object, options: { sort?: unknown; limit?: number } = {}) => {
        const filter = asBson(raw);
        sent.push({ op: 'find', collection: name, filter, options });
        const sort = plainSort(options.sort);
        return {
          toArray: () =>
            memory.find(filter, {
              ...(sort ? { sort } : {}),
              ...(options.limit !== undefined ? { limit: options.limit } : {}),
            }),
        };
      },
      findOneAndUpdate: (
        rawFilter: object,
        rawUpdate: object,
        options: {
          returnDocument?: 'before' | 'after';
          upsert?: boolean;
          sort?: unknown;
          includeResultMetadata?: boolean;
        },
      ) => {
        const filter = asBson(rawFilter);
        const update = asBson(rawUpdate);
        sent.push({ op: 'findOneAndUpdate', collection: name, filter, update, options });
        if (options.includeResultMetadata) throw new Error('stand-in: includeResultMetadata is not expected');
        const sort = plainSort(options.sort);
        return e11000(() =>
          memory.findOneAndUpdate(filter, update, {
            returnDocument: options.returnDocument ?? 'before',
            upsert: options.upsert ?? false,
            ...(sort ? { sort } : {}),
          }),
        );
      },
      updateMany: (rawFilter: object, rawUpdate: object, options: unknown) => {
        const filter = asBson(rawFilter);
        const update = asBson(rawUpdate);
        sent.push({ op: 'updateMany', collection: name, filter, update, options });
        return e11000(async () => ({
          acknowledged: true,
          ...(await memory.updateMany(filter, update)),
          upsertedCount: 0,
          upsertedId: null,
        }));
      },
      countDocuments: (raw: object, options: unknown) => {
        const filter = asBson(raw);
        sent.push({ op: 'countDocuments', collection: name, filter, options });
        return memory.countDocuments(filter);
      },
    };
    Object.assign(model.collection, driver);
  }
}

function standInModels(sent: Sent[] = []): { models: MongoModels; conn: mongoose.Connection } {
  // Never connected: any call that gets past the stand-in would fail instead of buffering.
  const conn = mongoose.createConnection();
  conn.set('bufferCommands', false);
  const models = createModels(conn);
  standInDriver(models, sent);
  return { models, conn };
}

describe('mongoose store over a stand-in driver (not MongoDB: schemas, casting, validation, options)', () => {
  runStoreContract('repositories', async (): Promise<Store> => {
    const { models } = standInModels();
    return {
      kind: 'mongo',
      repos: createRepositories(createMongoCollections(models)),
      ping: async () => true,
      close: async () => {},
    };
  });

  runCollectionContract('collections', async () => ({
    collections: createMongoCollections(standInModels().models),
    dispose: async () => {},
  }));

  it('hands the driver the filters and updates unchanged, with the expected options', async () => {
    const sent: Sent[] = [];
    const repos = createRepositories(createMongoCollections(standInModels(sent).models));
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
        op: 'findOneAndUpdate',
        collection: 'requests',
        filter: { _id: 'r1', status: 'pending', decideBy: { $gt: now }, approvers: 'b@example.com' },
        update: {
          $set: { status: 'approved', decidedAt: now, decidedBy: 'b@example.com', decidedByName: 'B' },
        },
        options: expect.objectContaining({ returnDocument: 'after', upsert: false }),
      },
    ]);

    sent.length = 0;
    await repos.grants.findDue(now, 5);
    expect(sent[0]).toMatchObject({
      op: 'find',
      filter: {
        $or: [
          { status: 'active', expiresAt: { $lte: now } },
          { status: { $in: ['provisioning', 'revoking'] }, nextAttemptAt: { $lte: now } },
          { 'pendingExtension.nextAttemptAt': { $lte: now } },
        ],
      },
      options: { sort: { createdAt: 1, _id: 1 }, limit: 5 },
    });
  });

  it('validates documents: required fields, enums, types', async () => {
    const { models } = standInModels();
    const repos = createRepositories(createMongoCollections(models));
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
    const grants = createMongoCollections(models).grants;
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
