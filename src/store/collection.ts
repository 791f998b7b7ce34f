/**
 * The narrow seam every repository is written against. Two implementations: MongoDB through
 * mongoose (mongo/) and an in-process one evaluated by mingo (memory.ts). Filters and updates
 * are ordinary MongoDB filter and update documents, typed with the driver's own types.
 *
 * Documents are stored with `_id` = the domain `id` (a string); the repositories map `_id` ↔ `id`.
 */
import type { Filter, Sort, UpdateFilter } from 'mongodb';

export type { Filter, UpdateFilter } from 'mongodb';

/**
 * A sort specification: field paths in priority order, ascending (1) or descending (-1).
 * A subset of the driver's `Sort` that both implementations read the same way.
 */
export type DocSort = Readonly<Record<string, 1 | -1>>;

// DocSort must stay acceptable wherever the driver takes a `Sort`.
const _sortIsDriverSort = (s: DocSort): Sort => s;
void _sortIsDriverSort;

export interface FindOptions {
  sort?: DocSort;
  /** Positive: at most this many documents. Absent: all of them. */
  limit?: number;
}

export interface FindOneAndUpdateOptions {
  /** Which version of the document to return: after the update, or as it was before it. */
  returnDocument: 'after' | 'before';
  /**
   * Insert when nothing matches: the new document is made of the filter's top-level equality
   * conditions, then `$setOnInsert` and the other update operators. `_id` must come from the
   * filter or `$setOnInsert` (documents have string ids).
   */
  upsert?: boolean;
  /** Which document to update when several match. */
  sort?: DocSort;
}

export interface UpdateManyResult {
  matchedCount: number;
  modifiedCount: number;
}

export interface DocCollection<T extends { _id: string }> {
  /** The collection's name (`requests`, `grants`, `audit`, `messages`). */
  readonly name: string;
  /** Throws `DuplicateKeyError` (naming the key, e.g. `_id` or `submissionKey`) on a unique violation. */
  insertOne(doc: T): Promise<void>;
  findOne(filter: Filter<T>): Promise<T | null>;
  find(filter: Filter<T>, options?: FindOptions): Promise<T[]>;
  /**
   * Atomically updates the first matching document. Returns it (as selected by
   * `returnDocument`), or null when nothing matched (and nothing was upserted; with
   * `returnDocument: 'before'` an upsert also returns null). Throws `DuplicateKeyError` when the
   * update or upsert would break a unique key; the document is then unchanged.
   */
  findOneAndUpdate(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    options: FindOneAndUpdateOptions,
  ): Promise<T | null>;
  /**
   * Applies `update` to every matching document. Throws `DuplicateKeyError` like `findOneAndUpdate`
   * (the memory store then changes nothing; MongoDB keeps the documents it updated before the clash).
   */
  updateMany(filter: Filter<T>, update: UpdateFilter<T>): Promise<UpdateManyResult>;
  countDocuments(filter: Filter<T>): Promise<number>;
  /** Deletes every matching document; returns how many. */
  deleteMany(filter: Filter<T>): Promise<number>;
}
