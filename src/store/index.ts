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
 * needs (test/lazy-loading.test.ts holds it). Each of these is the function of the same name in
 * ./mongo/connect.ts or ./mongo/embedded.ts.
 */
type Connect = typeof import('./mongo/connect.js');
type Embedded = typeof import('./mongo/embedded.js');

export async function connectMongo(...args: Parameters<Connect['connectMongo']>) {
  return (await import('./mongo/connect.js')).connectMongo(...args);
}
export async function openConnection(...args: Parameters<Connect['openConnection']>) {
  return (await import('./mongo/connect.js')).openConnection(...args);
}
export async function openMongoCollections(...args: Parameters<Connect['openMongoCollections']>) {
  return (await import('./mongo/connect.js')).openMongoCollections(...args);
}
export async function openMongoStore(...args: Parameters<Connect['openMongoStore']>) {
  return (await import('./mongo/connect.js')).openMongoStore(...args);
}
export async function migrateMongoIndexes(...args: Parameters<Connect['migrateMongoIndexes']>) {
  return (await import('./mongo/connect.js')).migrateMongoIndexes(...args);
}
export async function startEmbeddedMongo(...args: Parameters<Embedded['startEmbeddedMongo']>) {
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
