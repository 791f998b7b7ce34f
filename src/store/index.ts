import type { Db } from 'mongodb';
import type { Repositories } from '../domain/ports.js';

export interface Store {
  repos: Repositories;
  kind: 'memory' | 'mongo';
  /** True when the store answers (always, for memory). */
  ping(): Promise<boolean>;
  /** Closes the connection (MongoDB); the store is unusable afterwards. */
  close(): Promise<void>;
  /** The native database, for Agenda to share (MongoDB only). */
  db?: Db;
}

export type {
  DocCollection,
  DocSort,
  FindOneAndUpdateOptions,
  FindOptions,
  UpdateManyResult,
} from './collection.js';
export {
  type CollectionName,
  INDEXES,
  type IndexSpec,
  type PartialFilter,
  type UniqueKey,
  uniqueKeyName,
  uniqueKeys,
} from './indexes.js';
export { createMemoryCollections, createMemoryStore, MemoryCollection } from './memory.js';
export type { MongoStoreOptions } from './mongo/connect.js';

/*
 * The MongoDB side is loaded on first use, not with this module: mongoose and the driver add about
 * 55 MB to a process, and mongodb-memory-server more, which an instance on the memory store never
 * needs (test/process/startup.test.ts holds it). Each of these is the function of the same name in
 * ./mongo/connect.ts or ./mongo/embedded.ts.
 */
type Connect = typeof import('./mongo/connect.js');

/** `name` of ./mongo/connect.ts, loading that module (and mongoose with it) on the first call. */
function fromConnect<K extends keyof Connect>(name: K) {
  return async (...args: Parameters<Connect[K]>): Promise<Awaited<ReturnType<Connect[K]>>> => {
    const run = (await import('./mongo/connect.js'))[name] as unknown as (
      ...a: Parameters<Connect[K]>
    ) => Promise<Awaited<ReturnType<Connect[K]>>>;
    return run(...args);
  };
}

export const connectMongo = fromConnect('connectMongo');
export const openConnection = fromConnect('openConnection');
export const openMongoCollections = fromConnect('openMongoCollections');
export const openMongoStore = fromConnect('openMongoStore');
export const migrateMongoIndexes = fromConnect('migrateMongoIndexes');
/** `startEmbeddedMongo` of ./mongo/embedded.ts, loading mongodb-memory-server on the call. */
export async function startEmbeddedMongo(
  ...args: Parameters<typeof import('./mongo/embedded.js').startEmbeddedMongo>
) {
  return (await import('./mongo/embedded.js')).startEmbeddedMongo(...args);
}

export {
  type AuditDoc,
  type Collections,
  type ConversationDoc,
  createRepositories,
  DEFAULT_LIST_LIMIT,
  type GrantDoc,
  type MessageRecordDoc,
  type OutboxDoc,
  type RequestDoc,
} from './repositories.js';
export type { ResourceSettingDoc } from './settings-repo.js';
