/**
 * Connecting the MongoDB store: a dedicated mongoose connection (the global `mongoose` connection
 * is left alone), the models of schemas.ts on it, and the indexes of indexes.ts brought in line.
 */
import mongoose, { type Connection, type Model } from 'mongoose';
import type { Store } from '../index.js';
import { type Collections, createRepositories } from '../repositories.js';
import { createMongoCollections } from './collection.js';
import { createModels } from './schemas.js';

export interface MongoStoreOptions {
  /** Database name; defaults to the one in the URI (or `test`, MongoDB's default). */
  dbName?: string;
  /** How long to look for a server before giving up (default 10 s). */
  serverSelectionTimeoutMS?: number;
}

/** Connects to the MongoDB at `uri` and returns the store on it (see `openMongoStore`). */
export async function connectMongo(uri: string, opts: MongoStoreOptions = {}): Promise<Store> {
  const conn = mongoose.createConnection(uri, {
    ...(opts.dbName !== undefined ? { dbName: opts.dbName } : {}),
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 10_000,
    autoIndex: false,
    autoCreate: true,
  });
  try {
    await conn.asPromise();
    return await openMongoStore(conn);
  } catch (e) {
    await conn.close().catch(() => {});
    throw e;
  }
}

/**
 * The collections on `conn`, an open mongoose connection: compiles the models and brings the
 * indexes of indexes.ts in line (`syncIndexes`: the collections are created, missing indexes are
 * built, ones that no longer match a declaration are dropped and rebuilt).
 */
export async function syncMongoCollections(conn: Connection): Promise<Collections> {
  const models = createModels(conn);
  for (const model of Object.values(models) as Model<{ _id: string }>[]) {
    await model.syncIndexes();
  }
  return createMongoCollections(models);
}

/** The store on `conn`, an open mongoose connection (see `syncMongoCollections`). `close()` closes `conn`. */
export async function openMongoStore(conn: Connection): Promise<Store> {
  const collections = await syncMongoCollections(conn);
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
