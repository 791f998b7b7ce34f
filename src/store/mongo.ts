/**
 * The MongoDB implementation of the collection seam, through mongoose: schemas validate every
 * document written (required fields, enums, types) and declare the indexes of indexes.ts,
 * including the unique keys. Queries run with `lean()`, so repositories get plain documents.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MongoMemoryServer } from 'mongodb-memory-server';
import mongoose, { type Connection, type Model, Schema } from 'mongoose';
import type {
  ApprovalMode,
  AuditEventType,
  Grant,
  GrantStatus,
  OutboxStatus,
  RequestKind,
  RequestStatus,
} from '../domain/model.js';
import { DuplicateKeyError } from '../domain/ports.js';
import type {
  DocCollection,
  Filter,
  FindOneAndUpdateOptions,
  FindOptions,
  UpdateFilter,
  UpdateManyResult,
} from './collection.js';
import type { Store } from './index.js';
import { type CollectionName, INDEXES, uniqueKeyName } from './indexes.js';
import {
  type AuditDoc,
  type Collections,
  createRepositories,
  type GrantDoc,
  type MessageRecordDoc,
  type OutboxDoc,
  type RequestDoc,
} from './repositories.js';

// ---------------------------------------------------------------- enums (checked against model.ts)

/** `values` must list every member of `U`: a missing one is a compile error. */
const everyOf =
  <U extends string>() =>
  <const A extends readonly U[]>(
    values: A & ([Exclude<U, A[number]>] extends [never] ? unknown : { missing: Exclude<U, A[number]> }),
  ): A =>
    values;

export const REQUEST_KINDS = everyOf<RequestKind>()(['access', 'extension']);
export const APPROVAL_MODES = everyOf<ApprovalMode>()(['manual', 'auto']);
export const REQUEST_STATUSES = everyOf<RequestStatus>()([
  'pending',
  'approved',
  'denied',
  'expired',
  'cancelled',
]);
export const GRANT_STATUSES = everyOf<GrantStatus>()([
  'provisioning',
  'active',
  'revoking',
  'expired',
  'revoked',
]);
export const END_REASONS = everyOf<NonNullable<Grant['endReason']>>()([
  'expired',
  'ended-by-holder',
  'revoked-by-admin',
]);
export const AUDIT_EVENT_TYPES = everyOf<AuditEventType>()([
  'request.created',
  'request.approved',
  'request.denied',
  'request.expired',
  'request.cancelled',
  'request.auto_approved',
  'grant.provisioning_failed',
  'grant.activated',
  'grant.extended',
  'grant.reminded',
  'grant.revocation_failed',
  'grant.revoked',
  'grant.expired',
  'message.undeliverable',
  'action.refused',
]);
export const OUTBOX_STATUSES = everyOf<OutboxStatus>()(['pending', 'sent', 'undeliverable']);

// ---------------------------------------------------------------- schemas

const requiredString = { type: String, required: true } as const;
const requiredDate = { type: Date, required: true } as const;

/**
 * Options shared by every schema: string `_id`s are given, never generated; no version key; a
 * field that is not in the schema is an error (on write and in a filter), never silently dropped;
 * empty objects are kept; indexes are built by `connectMongo`, not on model compilation.
 */
const schemaOptions = (collection: CollectionName) =>
  ({
    collection,
    versionKey: false,
    strict: 'throw',
    strictQuery: 'throw',
    minimize: false,
    autoIndex: false,
    id: false,
  }) as const;

const subSchemaOptions = { _id: false, strict: 'throw', minimize: false, id: false } as const;

function personSchema() {
  return new Schema(
    {
      email: requiredString,
      // A display name may be empty (mongoose's `required` would refuse ''), so it is only typed.
      name: { type: String },
    },
    subSchemaOptions,
  );
}

function withIndexes<S extends Schema>(schema: S, collection: CollectionName): S {
  for (const index of INDEXES[collection]) {
    schema.index(
      { ...index.fields },
      index.unique ? { unique: true, name: uniqueKeyName(Object.keys(index.fields)) } : {},
    );
  }
  return schema;
}

/** The mongoose schemas of the four collections (exported for tests). */
export function buildSchemas() {
  const requests = new Schema(
    {
      _id: requiredString,
      kind: { type: String, required: true, enum: REQUEST_KINDS },
      grantId: { type: String },
      resourceId: requiredString,
      requester: { type: personSchema(), required: true },
      approvers: { type: [String] },
      duration: requiredString,
      justification: requiredString,
      ticket: { type: String },
      approval: { type: String, required: true, enum: APPROVAL_MODES },
      status: { type: String, required: true, enum: REQUEST_STATUSES },
      createdAt: requiredDate,
      decideBy: requiredDate,
      decidedAt: { type: Date },
      decidedBy: { type: String },
      decidedByName: { type: String },
      reason: { type: String },
      submissionKey: requiredString,
    },
    schemaOptions('requests'),
  );

  const pendingExtension = new Schema(
    {
      requestId: requiredString,
      attempts: { type: Number, required: true, min: 0 },
      nextAttemptAt: requiredDate,
    },
    subSchemaOptions,
  );

  const grants = new Schema(
    {
      _id: requiredString,
      requestId: requiredString,
      resourceId: requiredString,
      holder: { type: personSchema(), required: true },
      duration: requiredString,
      justification: requiredString,
      status: { type: String, required: true, enum: GRANT_STATUSES },
      createdAt: requiredDate,
      startsAt: { type: Date },
      expiresAt: { type: Date },
      remindedFor: { type: Date },
      endReason: { type: String, enum: END_REASONS },
      endedBy: { type: String },
      endedAt: { type: Date },
      attempts: { type: Number, required: true, min: 0 },
      nextAttemptAt: { type: Date },
      lastError: { type: String },
      pendingExtension: { type: pendingExtension },
      appliedExtensions: { type: [String], default: undefined },
    },
    schemaOptions('grants'),
  );

  const audit = new Schema(
    {
      _id: requiredString,
      type: { type: String, required: true, enum: AUDIT_EVENT_TYPES },
      at: requiredDate,
      actor: requiredString,
      requestId: { type: String },
      grantId: { type: String },
      resourceId: { type: String },
      details: { type: Schema.Types.Mixed },
    },
    schemaOptions('audit'),
  );

  const messages = new Schema(
    {
      _id: requiredString,
      platform: requiredString,
      subjectId: requiredString,
      purpose: requiredString,
      recipient: requiredString,
      address: requiredString,
      createdAt: requiredDate,
    },
    schemaOptions('messages'),
  );

  const outbox = new Schema(
    {
      _id: requiredString,
      key: requiredString,
      lane: requiredString,
      recipient: requiredString,
      mode: { type: String, required: true, enum: ['send', 'update'] },
      subjectId: requiredString,
      // '' for a one-off notice, so only typed
      purpose: { type: String },
      message: { type: Schema.Types.Mixed, required: true },
      status: { type: String, required: true, enum: OUTBOX_STATUSES },
      createdAt: requiredDate,
      attempts: { type: Number, required: true, min: 0 },
      nextAttemptAt: requiredDate,
      giveUpAt: requiredDate,
      sentAt: { type: Date },
      platform: { type: String },
      lastError: { type: String },
    },
    schemaOptions('outbox'),
  );

  return {
    requests: withIndexes(requests, 'requests'),
    grants: withIndexes(grants, 'grants'),
    audit: withIndexes(audit, 'audit'),
    messages: withIndexes(messages, 'messages'),
    outbox: withIndexes(outbox, 'outbox'),
  };
}

export interface MongoModels {
  requests: Model<RequestDoc>;
  grants: Model<GrantDoc>;
  audit: Model<AuditDoc>;
  messages: Model<MessageRecordDoc>;
  outbox: Model<OutboxDoc>;
}

/** Compiles the models on `conn` (which need not be open yet). */
export function createModels(conn: Connection): MongoModels {
  const schemas = buildSchemas();
  return {
    requests: conn.model<RequestDoc>('AccessRequest', schemas.requests as unknown as Schema<RequestDoc>),
    grants: conn.model<GrantDoc>('Grant', schemas.grants as unknown as Schema<GrantDoc>),
    audit: conn.model<AuditDoc>('AuditEvent', schemas.audit as unknown as Schema<AuditDoc>),
    messages: conn.model<MessageRecordDoc>(
      'MessageRecord',
      schemas.messages as unknown as Schema<MessageRecordDoc>,
    ),
    outbox: conn.model<OutboxDoc>('OutboxItem', schemas.outbox as unknown as Schema<OutboxDoc>),
  };
}

// ---------------------------------------------------------------- the collection seam

type QueryFilterOf<T> = mongoose.QueryFilter<T>;
type UpdateQueryOf<T> = mongoose.UpdateQuery<T>;

export class MongoCollection<T extends { _id: string }> implements DocCollection<T> {
  constructor(readonly model: Model<T>) {}

  get name(): string {
    return this.model.collection.collectionName;
  }

  async insertOne(doc: T): Promise<void> {
    try {
      await this.model.insertOne(doc as Parameters<Model<T>['insertOne']>[0]);
    } catch (e) {
      throw toDuplicateKeyError(e) ?? e;
    }
  }

  async findOne(filter: Filter<T>): Promise<T | null> {
    const doc = await this.model.findOne(this.#filter(filter)).lean<T>().exec();
    return doc ?? null;
  }

  async find(filter: Filter<T>, options: FindOptions = {}): Promise<T[]> {
    const query = this.model.find(this.#filter(filter));
    if (options.sort && Object.keys(options.sort).length > 0) query.sort({ ...options.sort });
    if (options.limit !== undefined && options.limit > 0) query.limit(options.limit);
    return query.lean<T[]>().exec();
  }

  async findOneAndUpdate(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    options: FindOneAndUpdateOptions,
  ): Promise<T | null> {
    try {
      const doc = await this.model
        .findOneAndUpdate(this.#filter(filter), update as UpdateQueryOf<T>, {
          returnDocument: options.returnDocument,
          upsert: options.upsert ?? false,
          includeResultMetadata: false,
          runValidators: true,
          setDefaultsOnInsert: false,
          ...(options.sort ? { sort: { ...options.sort } } : {}),
        })
        .lean<T>()
        .exec();
      return doc ?? null;
    } catch (e) {
      throw toDuplicateKeyError(e) ?? e;
    }
  }

  async updateMany(filter: Filter<T>, update: UpdateFilter<T>): Promise<UpdateManyResult> {
    try {
      const result = await this.model
        .updateMany(this.#filter(filter), update as UpdateQueryOf<T>, { runValidators: true })
        .exec();
      return { matchedCount: result.matchedCount, modifiedCount: result.modifiedCount };
    } catch (e) {
      throw toDuplicateKeyError(e) ?? e;
    }
  }

  async countDocuments(filter: Filter<T>): Promise<number> {
    return this.model.countDocuments(this.#filter(filter)).exec();
  }

  #filter(filter: Filter<T>): QueryFilterOf<T> {
    return filter as QueryFilterOf<T>;
  }
}

/** The DuplicateKeyError for MongoDB's E11000 error, or null for any other error. */
export function toDuplicateKeyError(e: unknown): DuplicateKeyError | null {
  if (e === null || typeof e !== 'object') return null;
  const err = e as { code?: unknown; keyPattern?: unknown; message?: unknown; errmsg?: unknown };
  if (err.code !== 11000 && err.code !== 11001) return null;
  if (
    err.keyPattern !== null &&
    typeof err.keyPattern === 'object' &&
    Object.keys(err.keyPattern).length > 0
  ) {
    return new DuplicateKeyError(uniqueKeyName(Object.keys(err.keyPattern)));
  }
  // Older servers only say which index: unique indexes are named by their key (see withIndexes).
  const text =
    typeof err.errmsg === 'string' ? err.errmsg : typeof err.message === 'string' ? err.message : '';
  const index = /index: (\S+) dup key/.exec(text)?.[1];
  return new DuplicateKeyError(index === undefined ? 'unknown' : index === '_id_' ? '_id' : index);
}

export function createMongoCollections(models: MongoModels): Collections {
  return {
    requests: new MongoCollection(models.requests),
    grants: new MongoCollection(models.grants),
    audit: new MongoCollection(models.audit),
    messages: new MongoCollection(models.messages),
    outbox: new MongoCollection(models.outbox),
  };
}

// ---------------------------------------------------------------- connecting

export interface MongoStoreOptions {
  /** Database name; defaults to the one in the URI (or `test`, MongoDB's default). */
  dbName?: string;
  /** How long to look for a server before giving up (default 10 s). */
  serverSelectionTimeoutMS?: number;
}

/**
 * Connects a dedicated mongoose connection (the global `mongoose` connection is left alone),
 * brings the indexes of indexes.ts in line (`syncIndexes`: missing ones are created, ones that no
 * longer match a declaration are dropped and rebuilt) and returns the store.
 */
export async function connectMongo(uri: string, opts: MongoStoreOptions = {}): Promise<Store> {
  const conn = mongoose.createConnection(uri, {
    ...(opts.dbName !== undefined ? { dbName: opts.dbName } : {}),
    serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 10_000,
    autoIndex: false,
    autoCreate: true,
  });
  try {
    await conn.asPromise();
    const models = createModels(conn);
    for (const model of Object.values(models) as Model<{ _id: string }>[]) {
      await model.syncIndexes();
    }
    const db = conn.db;
    if (!db) throw new Error('mongoose connection has no database after connecting');
    return {
      kind: 'mongo',
      repos: createRepositories(createMongoCollections(models)),
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
  } catch (e) {
    await conn.close().catch(() => {});
    throw e;
  }
}

/**
 * Starts a local `mongod` through mongodb-memory-server, with its data under `<dataDir>/mongo`
 * (kept on disk, so a restart loses nothing). `stop()` stops the server and keeps the data.
 */
export async function startEmbeddedMongo(dataDir: string): Promise<{ uri: string; stop(): Promise<void> }> {
  const dbPath = path.join(dataDir, 'mongo');
  let server: MongoMemoryServer;
  try {
    await mkdir(dbPath, { recursive: true });
    server = await MongoMemoryServer.create({ instance: { dbPath, storageEngine: 'wiredTiger' } });
  } catch (e) {
    throw new Error(
      `Could not start the embedded MongoDB (${briefReason(e)}). Set MONGODB_URI to a MongoDB server, or STORE=memory for a throwaway in-memory store.`,
      { cause: e },
    );
  }
  return {
    uri: server.getUri(),
    async stop() {
      await server.stop({ doCleanup: false });
    },
  };
}

/** An error's message on one line, short enough to read. */
function briefReason(e: unknown): string {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  return (message || 'unknown error').slice(0, 300);
}
