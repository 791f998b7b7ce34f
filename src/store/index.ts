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
export {
  connectMongo,
  type MongoStoreOptions,
  migrateMongoIndexes,
  openConnection,
  openMongoCollections,
  openMongoStore,
} from './mongo/connect.js';
export { startEmbeddedMongo } from './mongo/embedded.js';
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
