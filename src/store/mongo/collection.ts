/**
 * The MongoDB implementation of the collection seam (collection.ts), through mongoose models:
 * filters and updates go through mongoose's casting and validation (`runValidators`), queries run
 * with `lean()` so repositories get plain documents, and E11000 becomes `DuplicateKeyError`.
 */
import type mongoose from 'mongoose';
import type { Model } from 'mongoose';
import { StoreUnavailableError } from '../../domain/ports.js';
import type {
  DocCollection,
  Filter,
  FindOneAndUpdateOptions,
  FindOptions,
  UpdateFilter,
  UpdateManyResult,
} from '../collection.js';
import type { Collections } from '../repositories.js';
import { toDuplicateKeyError } from './duplicate-key.js';
import type { MongoModels } from './schemas.js';

/** Driver errors that mean MongoDB could not be reached, by the driver's own error names. */
const UNREACHABLE = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
]);

/** E11000 as `DuplicateKeyError`, an unreachable server as `StoreUnavailableError`, else as it was. */
function storeError(e: unknown): unknown {
  const duplicate = toDuplicateKeyError(e);
  if (duplicate) return duplicate;
  if (e instanceof Error && UNREACHABLE.has(e.name)) return new StoreUnavailableError(e.message);
  return e;
}

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
      throw storeError(e);
    }
  }

  async findOne(filter: Filter<T>): Promise<T | null> {
    const doc = await this.model
      .findOne(this.#filter(filter))
      .lean<T>()
      .exec()
      .catch((e: unknown) => Promise.reject(storeError(e)));
    return doc ?? null;
  }

  async find(filter: Filter<T>, options: FindOptions = {}): Promise<T[]> {
    const query = this.model.find(this.#filter(filter));
    if (options.sort && Object.keys(options.sort).length > 0) query.sort({ ...options.sort });
    if (options.limit !== undefined && options.limit > 0) query.limit(options.limit);
    return query
      .lean<T[]>()
      .exec()
      .catch((e: unknown) => Promise.reject(storeError(e)));
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
      throw storeError(e);
    }
  }

  async updateMany(filter: Filter<T>, update: UpdateFilter<T>): Promise<UpdateManyResult> {
    try {
      const result = await this.model
        .updateMany(this.#filter(filter), update as UpdateQueryOf<T>, { runValidators: true })
        .exec();
      return { matchedCount: result.matchedCount, modifiedCount: result.modifiedCount };
    } catch (e) {
      throw storeError(e);
    }
  }

  async countDocuments(filter: Filter<T>): Promise<number> {
    return this.model
      .countDocuments(this.#filter(filter))
      .exec()
      .catch((e: unknown) => Promise.reject(storeError(e)));
  }

  async deleteMany(filter: Filter<T>): Promise<number> {
    try {
      return (await this.model.deleteMany(this.#filter(filter)).exec()).deletedCount;
    } catch (e) {
      throw storeError(e);
    }
  }

  #filter(filter: Filter<T>): QueryFilterOf<T> {
    return filter as QueryFilterOf<T>;
  }
}

export function createMongoCollections(models: MongoModels): Collections {
  return {
    requests: new MongoCollection(models.requests),
    grants: new MongoCollection(models.grants),
    audit: new MongoCollection(models.audit),
    messages: new MongoCollection(models.messages),
    outbox: new MongoCollection(models.outbox),
    conversations: new MongoCollection(models.conversations),
    resource_settings: new MongoCollection(models.resource_settings),
    sightings: new MongoCollection(models.sightings),
  };
}
