/**
 * The mongoose schemas and models of the seven collections: every document written is validated
 * (required fields, enums, types; unknown fields are an error), and each schema declares the
 * indexes of indexes.ts, unique and partial ones included, under the names duplicate-key errors
 * report.
 */
import { type Connection, type Model, Schema } from 'mongoose';
import { type CollectionName, INDEXES, uniqueKeyName } from '../indexes.js';
import type {
  AuditDoc,
  ConversationDoc,
  GrantDoc,
  MessageRecordDoc,
  OutboxDoc,
  RequestDoc,
  SightingDoc,
} from '../repositories.js';
import type { ResourceSettingDoc } from '../settings-repo.js';
import {
  APPROVAL_MODES,
  AUDIT_EVENT_TYPES,
  END_REASONS,
  GRANT_STATUSES,
  OUTBOX_MODES,
  OUTBOX_STATUSES,
  REQUEST_KINDS,
  REQUEST_STATUSES,
} from './enums.js';

const requiredString = { type: String, required: true } as const;
const requiredDate = { type: Date, required: true } as const;

/**
 * Options shared by every schema: string `_id`s are given, never generated; no version key; a
 * field that is not in the schema is an error (on write and in a filter), never silently dropped;
 * empty objects are kept; indexes are built by `openMongoStore` (connect.ts), not on model compilation.
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

/** Declares the indexes of indexes.ts on `schema`; unique ones are named by their key. */
function withIndexes<S extends Schema>(schema: S, collection: CollectionName): S {
  for (const index of INDEXES[collection]) {
    schema.index(
      { ...index.fields },
      {
        ...(index.unique ? { unique: true, name: uniqueKeyName(Object.keys(index.fields)) } : {}),
        ...(index.partialFilterExpression
          ? { partialFilterExpression: structuredClone(index.partialFilterExpression) }
          : {}),
        ...(index.expireAfterSeconds !== undefined ? { expireAfterSeconds: index.expireAfterSeconds } : {}),
      },
    );
  }
  return schema;
}

/** The mongoose schemas of the seven collections (exported for tests). */
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
      decidedAs: { type: String, enum: ['admin'] },
      reason: { type: String },
      closedReason: { type: String, enum: ['closed-by-owner'] },
      submissionKey: requiredString,
      unsettled: { type: String, enum: REQUEST_STATUSES },
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
      remindAt: { type: Date },
      endReason: { type: String, enum: END_REASONS },
      endedBy: { type: String },
      endComment: { type: String },
      endedAt: { type: Date },
      attempts: { type: Number, required: true, min: 0 },
      nextAttemptAt: { type: Date },
      lastError: { type: String },
      pendingExtension: { type: pendingExtension },
      appliedExtensions: { type: [String], default: undefined },
      unsettled: { type: String, match: /^(activated|ended|extended:.+)$/ },
      // Kept by the repository while the grant is open (repositories.ts): not part of the domain.
      openKey: { type: String },
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
      key: { type: String },
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
      mode: { type: String, required: true, enum: OUTBOX_MODES },
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
      reqId: { type: String },
      purgeAt: { type: Date },
    },
    schemaOptions('outbox'),
  );

  const conversations = new Schema(
    {
      // the person's email
      _id: requiredString,
      platform: requiredString,
      reference: requiredString,
      tz: { type: String },
      updatedAt: requiredDate,
    },
    schemaOptions('conversations'),
  );

  const resourceSettings = new Schema(
    {
      // the resource id
      _id: requiredString,
      jitEnabled: { type: Boolean, required: true },
      windowEndsAt: { type: Date },
      updatedBy: requiredString,
      updatedByName: { type: String },
      updatedAt: requiredDate,
      version: { type: Number, required: true, min: 1 },
      unsettled: { type: Number, min: 1 },
    },
    schemaOptions('resource_settings'),
  );

  const sightings = new Schema(
    {
      // the person's email
      _id: requiredString,
      platform: requiredString,
      seenAt: requiredDate,
    },
    schemaOptions('sightings'),
  );

  return {
    requests: withIndexes(requests, 'requests'),
    grants: withIndexes(grants, 'grants'),
    audit: withIndexes(audit, 'audit'),
    messages: withIndexes(messages, 'messages'),
    outbox: withIndexes(outbox, 'outbox'),
    conversations: withIndexes(conversations, 'conversations'),
    resource_settings: withIndexes(resourceSettings, 'resource_settings'),
    sightings: withIndexes(sightings, 'sightings'),
  };
}

export interface MongoModels {
  requests: Model<RequestDoc>;
  grants: Model<GrantDoc>;
  audit: Model<AuditDoc>;
  messages: Model<MessageRecordDoc>;
  outbox: Model<OutboxDoc>;
  conversations: Model<ConversationDoc>;
  resource_settings: Model<ResourceSettingDoc>;
  sightings: Model<SightingDoc>;
}

/**
 * Compiles the models on `conn` (which need not be open yet), or gives those compiled on it
 * before (the store and `jit-access-bot migrate` may share a connection).
 */
export function createModels(conn: Connection): MongoModels {
  const schemas = buildSchemas();
  const model = <T>(name: string, schema: unknown): Model<T> =>
    (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema as Schema<T>);
  return {
    requests: model<RequestDoc>('AccessRequest', schemas.requests),
    grants: model<GrantDoc>('Grant', schemas.grants),
    audit: model<AuditDoc>('AuditEvent', schemas.audit),
    messages: model<MessageRecordDoc>('MessageRecord', schemas.messages),
    outbox: model<OutboxDoc>('OutboxItem', schemas.outbox),
    conversations: model<ConversationDoc>('ConversationReference', schemas.conversations),
    resource_settings: model<ResourceSettingDoc>('ResourceSetting', schemas.resource_settings),
    sightings: model<SightingDoc>('Sighting', schemas.sightings),
  };
}
