/**
 * Connecting the MongoDB store: a dedicated mongoose connection (the global `mongoose` connection
 * is left alone), the models of schemas.ts on it, and the indexes of indexes.ts created (never
 * dropped: see create-index.ts). Rebuilding indexes whose definition changed is `migrateMongoIndexes`,
 * run by `jit-access-bot migrate` only.
 */
import mongoose, { type Connection, type Model } from 'mongoose';
import type { Log } from '../../domain/events.js';
import type { Store } from '../index.js';
import { type Collections, createRepositories } from '../repositories.js';
import { createMongoCollections } from './collection.js';
import { createIndexKeepingExisting, type IndexOptions } from './create-index.js';
import { createModels } from './schemas.js';

export interface MongoStoreOptions {
  /** Database name; defaults to the one in the URI (or `test`, MongoDB's default). */
  dbName?: string;
  /** How long to look for a server before giving up (default 10 s). */
  serverSelectionTimeoutMS?: number;
  /** Where an index conflict at start is reported. Default: nowhere. */
  log?: Log;
}

/** Connects to the MongoDB at `uri` and returns the store on it (see `openMongoStore`). */
export async function connectMongo(uri: string, opts: MongoStoreOptions = {}): Promise<Store> {
  const conn = await openConnection(uri, opts);
  try {
    return await openMongoStore(conn, opts.log ? { log: opts.log } : {});
  } catch (e) {
    await conn.close().catch(() => {});
    throw e;
  }
}

/** An open mongoose connection of its own to `uri`, with no automatic index builds. */
export async function openConnection(uri: string, opts: MongoStoreOptions = {}): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    ...(opts.dbName !== undefined ? { dbName: opts.dbName } : {}),
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 10_000,
    autoIndex: false,
    autoCreate: true,
  });
  try {
    await conn.asPromise();
    return conn;
  } catch (e) {
    await conn.close().catch(() => {});
    throw e;
  }
}

const silent: Log = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent };

type AnyModel = Model<{ _id: string }>;

/**
 * The collections on `conn`, an open mongoose connection: compiles the models, creates the
 * collections and every declared index that is missing. An index that exists with another
 * definition is kept and reported (`store.index_conflict`), never dropped: several replicas start
 * at once, and dropping one would leave its key unenforced until it is built again.
 */
export async function openMongoCollections(conn: Connection, opts: { log?: Log } = {}): Promise<Collections> {
  const log = opts.log ?? silent;
  const models = createModels(conn);
  for (const model of Object.values(models) as AnyModel[]) {
    await createCollection(model);
    for (const [keys, options] of model.schema.indexes()) {
      await createIndexKeepingExisting(
        model.collection,
        keys as Record<string, 1 | -1>,
        options as IndexOptions,
        log,
      );
    }
  }
  return createMongoCollections(models);
}

/**
 * `jit-access-bot migrate`: brings every collection's indexes in line with the declarations
 * (mongoose's `syncIndexes`): indexes whose definition changed, or that are no longer declared, are
 * dropped, and the declared ones built. Run it with one instance only: between a drop and the
 * rebuild a unique key is not enforced. Returns what was dropped and created, per collection.
 */
export async function migrateMongoIndexes(
  conn: Connection,
  log: Log,
): Promise<Array<{ collection: string; dropped: string[]; created: string[] }>> {
  const models = createModels(conn);
  const changes: Array<{ collection: string; dropped: string[]; created: string[] }> = [];
  for (const model of Object.values(models) as AnyModel[]) {
    await createCollection(model);
    const diff = await model.diffIndexes({ indexOptionsToCreate: true });
    const dropped = await model.syncIndexes();
    const created = (diff.toCreate as unknown[]).map(indexName);
    const collection = model.collection.collectionName;
    for (const name of dropped) log.info({ collection, index: name }, 'store.index_dropped');
    for (const name of created) log.info({ collection, index: name }, 'store.index_created');
    changes.push({ collection, dropped, created });
  }
  return changes;
}

/** The name of an index in diffIndexes' `toCreate` (`[keys, options]`): its given name, or its key. */
function indexName(spec: unknown): string {
  const [keys, options] = Array.isArray(spec) ? spec : [spec, undefined];
  const name = (options as { name?: unknown } | undefined)?.name;
  if (typeof name === 'string') return name;
  return Object.entries((keys ?? {}) as Record<string, unknown>)
    .map(([field, direction]) => `${field}_${String(direction)}`)
    .join('_');
}

/** Creates the collection of `model` unless it exists (server code 48, NamespaceExists). */
async function createCollection(model: AnyModel): Promise<void> {
  try {
    await model.createCollection();
  } catch (error) {
    if ((error as { code?: unknown }).code !== 48) throw error;
  }
}

/** The store on `conn`, an open mongoose connection (see `openMongoCollections`). `close()` closes `conn`. */
export async function openMongoStore(conn: Connection, opts: { log?: Log } = {}): Promise<Store> {
  const collections = await openMongoCollections(conn, opts);
  const db = conn.db;
  if (!db) throw new Error('mongoose connection has no database after connecting');
  return {
    kind: 'mongo',
    repos: createRepositories(collections),
    db,
    async ping() {
      try {
        const res = await db.command({ ping: 1 });
        return res.ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      await conn.close();
    },
  };
}
