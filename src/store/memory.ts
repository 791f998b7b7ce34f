/**
 * The in-process implementation of the collection seam: the same documents as MongoDB would hold,
 * with filters, sorts and updates evaluated by the fast paths of memory-ops.ts and, beyond them, by
 * mingo and mingo's updater (loaded on first need), and the unique keys declared in indexes.ts
 * enforced (a partial one only over the documents that have its field). For tests and the
 * zero-setup demo only: nothing survives the process.
 *
 * Every operation runs synchronously inside its promise, so a `findOneAndUpdate` is atomic within
 * the process exactly as it is on one MongoDB document. Documents are deep-cloned on the way in and
 * out (copy.ts: strings are shared, and a Date is kept as a bigint of its milliseconds and handed
 * out as a Date again), so no caller ever shares a mutable reference with the store.
 */
import { createRequire } from 'node:module';
import type { Query } from 'mingo';
import type { AnyObject, Options } from 'mingo/types';
import type { update as mingoUpdate } from 'mingo/updater';
import { DuplicateKeyError } from '../domain/ports.js';
import type {
  DocCollection,
  Filter,
  FindOneAndUpdateOptions,
  FindOptions,
  UpdateFilter,
  UpdateManyResult,
} from './collection.js';
import { copyDoc, storedCopy, timeOf } from './copy.js';
import type { Store } from './index.js';
import {
  type CollectionName,
  INDEXES,
  type PartialFilter,
  type UniqueKey,
  uniqueKeyName,
  uniqueKeys,
} from './indexes.js';
import { isScalar, type LookupIndex, LookupIndexes, touches } from './memory-index.js';
import { appliedFast, compareForSort, compileMatcher } from './memory-ops.js';
import { type Collections, createRepositories } from './repositories.js';

const QUERY_OPTIONS: Partial<Options> = { scriptEnabled: false };

const requireNow = createRequire(import.meta.url);
let mingo: { Query: typeof Query; update: typeof mingoUpdate } | undefined;

/**
 * mingo, loaded the first time a filter, sort or update falls outside the fast paths of
 * memory-ops.ts, which cover every query the repositories issue in a running app: it adds about
 * 14 MB to the process. Loaded synchronously (`require`), so every operation stays atomic.
 */
function lib(): { Query: typeof Query; update: typeof mingoUpdate } {
  mingo ??= {
    Query: (requireNow('mingo') as typeof import('mingo')).Query,
    update: (requireNow('mingo/updater') as typeof import('mingo/updater')).update,
  };
  return mingo;
}

/** Update operators MongoDB accepts in `findOneAndUpdate`/`updateMany` that this store applies. */
const UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$setOnInsert',
  '$inc',
  '$min',
  '$max',
  '$mul',
  '$rename',
  '$push',
  '$addToSet',
  '$pull',
  '$pullAll',
  '$pop',
  '$currentDate',
  '$bit',
]);

/**
 * A unique key besides `_id`: its field paths. Which document holds a key is found through the
 * lookup maps (every unique key's fields have one), not a map of its own: a map from each key to
 * its holder cost a fifth of the maps' memory, and for a key of several fields a string per document.
 */
interface UniqueIndex {
  readonly fields: readonly string[];
  /** Only documents that have every one of these fields hold a key (a partial index); null: all. */
  readonly requires: readonly string[] | null;
  /** The fields and the required ones: an update that writes none of them leaves the key as it was. */
  readonly reads: readonly string[];
}

/** The key `doc` holds in `index`, or null when the index does not cover it (partial index). */
function indexKey(index: UniqueIndex, doc: unknown): string | null {
  if (index.requires?.some((f) => getPath(doc, f) === undefined)) return null;
  return keyOf(doc, index.fields);
}

/** The fields a partial filter requires; anything but `{ field: { $exists: true } }` is refused. */
function requiredFields(filter: PartialFilter | undefined): string[] | null {
  if (filter === undefined) return null;
  return Object.entries(filter).map(([field, condition]) => {
    if (Object.keys(condition).length !== 1 || condition.$exists !== true) {
      throw new Error(`memory store: partial index filter on '${field}' must be { $exists: true }`);
    }
    return field;
  });
}

export class MemoryCollection<T extends { _id: string }> implements DocCollection<T> {
  /** By `_id`, in insertion order (the "natural order" of an unsorted find). */
  readonly #docs = new Map<string, T>();
  /** The unique keys besides `_id`, in declaration order (the order duplicates are reported in). */
  readonly #unique: UniqueIndex[];
  /** Maps over indexed fields, so a query reads only the documents that can match. */
  readonly #lookups: LookupIndexes;
  /** The last place given in the natural order (see ORDER). */
  #inserted = 0;
  /** Top-level fields whose strings are not internalized on insert (see the constructor). */
  readonly #transient: ReadonlySet<string> | undefined;

  /**
   * @param uniqueKeys each unique key besides `_id` (which is always unique): its field paths, or a
   *   `UniqueKey` (a partial one constrains only the documents that have its required fields).
   * @param lookupIndexes the field paths of each index queries may use (see memory-index.ts);
   *   without any, every query reads every document.
   * @param transient top-level fields an inserted document holds only briefly: their strings are
   *   not internalized (copy.ts `storedCopy`).
   */
  constructor(
    readonly name: string,
    uniqueKeys: ReadonlyArray<readonly string[] | UniqueKey> = [],
    lookupIndexes: ReadonlyArray<LookupIndex> = [],
    transient: readonly string[] = [],
  ) {
    this.#transient = transient.length > 0 ? new Set(transient) : undefined;
    this.#unique = uniqueKeys
      .map((k): UniqueKey => (isFieldList(k) ? { fields: k } : k))
      .filter((k) => !(k.fields.length === 1 && k.fields[0] === '_id'))
      .map((k) => {
        const requires = requiredFields(k.partialFilterExpression);
        return { fields: [...k.fields], requires, reads: [...new Set([...k.fields, ...(requires ?? [])])] };
      });
    // Every unique key gets lookup maps over its fields (see #holderOf); the same index given twice
    // gives its maps once.
    this.#lookups = new LookupIndexes(
      [
        ...lookupIndexes,
        ...this.#unique.map((k) => (k.requires ? { fields: k.fields, requires: k.requires } : k.fields)),
      ],
      () => this.#docs.entries(),
    );
  }

  async insertOne(doc: T): Promise<void> {
    const copy = storedCopy(doc, this.#transient);
    requireStringId(copy);
    this.#assertUnique(copy, null);
    this.#put(copy, undefined);
  }

  async findOne(filter: Filter<T>): Promise<T | null> {
    const found = this.#select(filter, { limit: 1 })[0];
    return found ? copyDoc(found) : null;
  }

  async find(filter: Filter<T>, options: FindOptions = {}): Promise<T[]> {
    return this.#select(filter, options).map((d) => copyDoc(d));
  }

  async findOneAndUpdate(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    options: FindOneAndUpdateOptions,
  ): Promise<T | null> {
    const operators = checkUpdate(update);
    const current = this.#select(filter, options.sort ? { sort: options.sort, limit: 1 } : { limit: 1 })[0];
    if (!current) {
      if (!options.upsert) return null;
      const created = upsertDocument(filter, operators);
      requireStringId(created);
      this.#assertUnique(created, null);
      this.#put(created, undefined);
      return options.returnDocument === 'after' ? copyDoc(created) : null;
    }
    const { next, changed } = applied(current, operators);
    this.#assertUnique(next, current._id, changed);
    this.#put(next, current, changed);
    return copyDoc(options.returnDocument === 'after' ? next : current);
  }

  async updateMany(filter: Filter<T>, update: UpdateFilter<T>): Promise<UpdateManyResult> {
    const operators = checkUpdate(update);
    const matched = this.#select(filter, {});
    const changes = new Map<string, T>();
    let modifiedCount = 0;
    for (const doc of matched) {
      const { next } = applied(doc, operators);
      if (!sameDocument(doc, next)) modifiedCount++;
      changes.set(doc._id, next);
    }
    // All or nothing: check the unique keys over the collection as it would be. A changed
    // document clashes with another changed one, or with an unchanged one that holds the key.
    for (const index of this.#unique) {
      const claimed = new Set<string>();
      for (const next of changes.values()) {
        const key = indexKey(index, next);
        if (key === null) continue;
        if (claimed.has(key) || this.#holderOf(index, next, key, (id) => changes.has(id)) !== undefined) {
          throw new DuplicateKeyError(uniqueKeyName(index.fields));
        }
        claimed.add(key);
      }
    }
    // Out of the lookup maps with their old values first, then in with the new ones.
    for (const id of changes.keys()) this.#release(this.#docs.get(id) as T);
    for (const next of changes.values()) this.#put(next, undefined);
    return { matchedCount: matched.length, modifiedCount };
  }

  async countDocuments(filter: Filter<T>): Promise<number> {
    return this.#select(filter, {}).length;
  }

  async deleteMany(filter: Filter<T>): Promise<number> {
    const matched = this.#select(filter, {});
    for (const doc of matched) {
      this.#release(doc);
      this.#docs.delete(doc._id);
    }
    return matched.length;
  }

  /**
   * The stored documents (not copies) that match, sorted and limited. Filters and sorts in the
   * subset of memory-ops.ts are evaluated directly; anything else (and any document the fast
   * matcher cannot decide) by mingo.
   */
  #select(filter: Filter<T>, options: FindOptions): T[] {
    const fast = compileMatcher(filter as AnyObject);
    let query: Query<AnyObject> | undefined;
    const matches = (doc: T): boolean => {
      const decided = fast?.(doc) ?? null;
      if (decided !== null) return decided;
      query ??= new (lib().Query)<AnyObject>(filter as AnyObject, QUERY_OPTIONS);
      return query.test(copyDoc(doc)); // mingo sees Dates, not the stored bigints
    };
    const id = (filter as AnyObject)._id;
    if (typeof id === 'string') {
      // `_id` is unique: at most one candidate, so sorting and limiting have nothing to do.
      const candidate = this.#docs.get(id);
      return candidate !== undefined && matches(candidate) ? [candidate] : [];
    }
    const ids = this.#lookups.candidates(filter as AnyObject);
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
    const sort = options.sort && Object.keys(options.sort).length > 0 ? options.sort : undefined;
    // A sort that ends in `_id` leaves no ties, so the candidates' natural order cannot matter.
    const ordered = ids !== null && !(sort && Object.hasOwn(sort, '_id'));
    const candidates =
      ids === null ? this.#docs.values() : ordered ? this.#inNaturalOrder(ids) : this.#byId(ids);
    const found: T[] = [];
    for (const doc of candidates) {
      if (!matches(doc)) continue;
      found.push(doc);
      if (!sort && limit !== undefined && found.length >= limit) break;
    }
    if (!sort) return found;
    const compare = compareForSort(sort, found);
    if (!compare) {
      // mingo sorts copies with Dates in them; each is mapped back to the stored document.
      const stored = new Map(found.map((doc) => [copyDoc(doc), doc]));
      const sorted = new (lib().Query)<AnyObject>({}, QUERY_OPTIONS)
        .find<T>([...stored.keys()])
        .sort({ ...sort });
      return (limit !== undefined ? sorted.limit(limit) : sorted).all().map((view) => stored.get(view) as T);
    }
    found.sort(compare); // stable: ties keep the natural order
    return limit !== undefined ? found.slice(0, limit) : found;
  }

  /** The documents with these ids, in no particular order. */
  *#byId(ids: Set<string>): Generator<T> {
    for (const id of ids) {
      const doc = this.#docs.get(id);
      if (doc !== undefined) yield doc;
    }
  }

  /** The documents with these ids, in natural order. */
  #inNaturalOrder(ids: Set<string>): T[] {
    const docs: T[] = [];
    for (const id of ids) {
      const doc = this.#docs.get(id);
      if (doc !== undefined) docs.push(doc);
    }
    return docs.sort((a, b) => placeOf(a) - placeOf(b));
  }

  /**
   * Throws DuplicateKeyError when `doc` would share a unique key with another document (the one
   * whose `_id` is `replacing` excepted). `changed`: the paths an update of `replacing` wrote, when
   * known; a key over none of them is the one the document held already, alone (checked when it
   * was written), so it is not looked up again.
   */
  #assertUnique(doc: T, replacing: string | null, changed: readonly string[] | null = null): void {
    if (replacing === null && this.#docs.has(doc._id)) throw new DuplicateKeyError('_id');
    for (const index of this.#unique) {
      if (changed !== null && !touches(index.reads, changed)) continue;
      const key = indexKey(index, doc);
      if (key !== null && this.#holderOf(index, doc, key, (id) => id === replacing) !== undefined) {
        throw new DuplicateKeyError(uniqueKeyName(index.fields));
      }
    }
  }

  /**
   * The `_id` of a stored document, other than those `skip` names, that holds `key` (`doc`'s key in
   * `index`). Read through the lookup maps: a holder has the same value in each field, so only the
   * documents under `doc`'s scalar values are candidates (a handful at most). A field that is not
   * a scalar (null, missing, an object or array: never so in this app's keys) narrows nothing; when
   * none narrows, every document is read.
   */
  #holderOf(index: UniqueIndex, doc: T, key: string, skip: (id: string) => boolean): string | undefined {
    const filter: Record<string, unknown> = {};
    for (const field of index.fields) {
      const value = getPath(doc, field);
      const time = timeOf(value);
      const scalar = time !== undefined ? new Date(time) : value;
      if (isScalar(scalar)) filter[field] = scalar;
    }
    const ids = this.#lookups.candidates(filter);
    for (const other of ids === null ? this.#docs.values() : this.#byId(ids)) {
      if (!skip(other._id) && indexKey(index, other) === key) return other._id;
    }
    return undefined;
  }

  /**
   * Stores `doc` (replacing `previous`, the same document before a change that wrote the paths
   * `changed`, when known).
   */
  #put(doc: T, previous: T | undefined, changed: readonly string[] | null = null): void {
    if (previous !== undefined) this.#lookups.replace(doc._id, previous, doc, changed);
    else this.#lookups.add(doc._id, doc);
    // A new version keeps the place of the document it replaces (its first insertion).
    const held = previous ?? this.#docs.get(doc._id);
    (doc as Placed)[ORDER] = held === undefined ? ++this.#inserted : placeOf(held);
    this.#docs.set(doc._id, doc);
  }

  /** Takes `doc` out of the lookup maps (its unique keys with it). */
  #release(doc: T): void {
    this.#lookups.remove(doc._id, doc);
  }
}

type Operators = Record<string, AnyObject>;

/**
 * Each stored document's place in the natural order (its first insertion), for candidates found
 * by lookup: a property of the document under a symbol, which no copy, comparison or query sees
 * (they read string keys only). A Map from `_id` to it cost about 45 bytes a document.
 */
const ORDER = Symbol('order');
type Placed = { [ORDER]?: number };
const placeOf = (doc: object): number => (doc as Placed)[ORDER] ?? 0;

/** Rejects what MongoDB would reject: replacement documents, empty updates, unknown operators. */
function checkUpdate(update: object): Operators {
  const keys = Object.keys(update);
  if (keys.length === 0) throw new Error('Update document requires atomic operators');
  for (const key of keys) {
    if (!key.startsWith('$')) throw new Error(`Update document requires atomic operators (got "${key}")`);
    if (!UPDATE_OPERATORS.has(key)) throw new Error(`Unsupported update operator ${key}`);
  }
  return storedCopy(update) as Operators;
}

/**
 * A copy of `doc` with the update applied (`$setOnInsert` only applies to upserts): directly when
 * the update is plain `$set`/`$unset`/`$inc` (memory-ops.ts), otherwise by mingo's updater. With
 * it, the paths the update wrote when the fast path applied it (every other value of `next` is
 * `doc`'s own), or null when mingo did.
 */
function applied<T extends { _id: string }>(
  doc: T,
  operators: Operators,
): { next: T; changed: readonly string[] | null } {
  // The operators are the store's own copy (checkUpdate), so their values may be held as they are.
  const fast = appliedFast(doc, operators, true);
  if (fast) return { next: fast, changed: writtenPaths(operators) };
  const { $setOnInsert: _ignored, ...rest } = operators;
  const next = Object.keys(rest).length > 0 ? applyMingo(doc, rest) : doc;
  if (next._id !== doc._id)
    throw new Error(`Performing an update on the path '_id' would modify the immutable field '_id'`);
  return { next, changed: null };
}

/** The paths an update of the fast path's operators writes (`$setOnInsert` writes none on an update). */
function writtenPaths(operators: Operators): string[] {
  const paths: string[] = [];
  for (const op of ['$set', '$unset', '$inc']) {
    const fields = operators[op];
    if (fields !== undefined) for (const path of Object.keys(fields)) paths.push(path);
  }
  return paths;
}

/** The document an upsert inserts: the filter's top-level equality conditions, then the update. */
function upsertDocument<T>(filter: Filter<T>, operators: Operators): T {
  const equalities: AnyObject = {};
  for (const [path, value] of Object.entries(filter as AnyObject)) {
    if (path.startsWith('$') || isOperatorObject(value)) continue;
    equalities[path] = value;
  }
  const { $setOnInsert = {}, ...rest } = operators;
  const { _id: filterId, ...fromFilter } = equalities;
  const { _id: insertId, ...onInsert } = $setOnInsert;
  // mingo (like MongoDB's $set) refuses to write `_id`, so the new document starts with it.
  const doc: AnyObject =
    insertId !== undefined ? { _id: insertId } : filterId !== undefined ? { _id: filterId } : {};
  let next = doc;
  const steps: Operators[] = [];
  if (Object.keys(fromFilter).length > 0) steps.push({ $set: storedCopy(fromFilter) });
  if (Object.keys(onInsert).length > 0) steps.push({ $set: onInsert });
  if (Object.keys(rest).length > 0) steps.push(rest);
  for (const step of steps) next = appliedFast(next, step, true) ?? applyMingo(next, step);
  return next as T;
}

/**
 * A new stored document: `doc` (stored) with `update` (stored) applied by mingo's updater, which
 * is shown Dates, not the bigints the store keeps for them (copy.ts).
 */
function applyMingo<D extends AnyObject>(doc: D, update: Operators): D {
  const view = copyDoc(doc);
  lib().update(view, copyDoc(update));
  return storedCopy(view);
}

function isOperatorObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || value instanceof Date || Array.isArray(value))
    return false;
  return Object.keys(value).some((k) => k.startsWith('$'));
}

function isFieldList(key: readonly string[] | UniqueKey): key is readonly string[] {
  return Array.isArray(key);
}

function requireStringId(doc: { _id: unknown }): void {
  if (typeof doc._id !== 'string' || doc._id.length === 0) {
    throw new Error('documents need a non-empty string _id');
  }
}

function getPath(doc: unknown, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * A comparable encoding of a document's unique key; a missing field counts as null, as in MongoDB.
 * A key of one string field is that string itself (the document's own, so it costs nothing more),
 * unless it starts with the character every other encoding starts with.
 */
function keyOf(doc: unknown, fields: readonly string[]): string {
  if (fields.length === 1) {
    const value = getPath(doc, fields[0] as string);
    if (typeof value === 'string' && !value.startsWith('\u0000')) return value;
  }
  return `\u0000${JSON.stringify(
    fields.map((f) => {
      const v = getPath(doc, f);
      const time = timeOf(v);
      return time !== undefined ? { $date: time } : (v ?? null);
    }),
  )}`;
}

function sameDocument(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) &&
      sameDocument((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/**
 * Fields held only briefly: an outbox item's message is replaced by its kind once the item is sent
 * (src/core/outbox.ts), so the strings of the message it was queued with are not internalized
 * (about 40 of them an item: two fifths of what a flow's writes internalized).
 */
const TRANSIENT: Partial<Record<CollectionName, readonly string[]>> = { outbox: ['message'] };

/** Fresh, empty in-memory collections with the unique keys declared in indexes.ts. */
export function createMemoryCollections(): Collections {
  const make = <T extends { _id: string }>(name: CollectionName) =>
    new MemoryCollection<T>(
      name,
      uniqueKeys(name),
      // No lookup map for an index of one field that is not unique: indexes.ts has those for sorting
      // and ranges only (the audit trail's `at`, a window's end, the outbox's TTL on `purgeAt`), where
      // a map would hold a key per document and narrow no query.
      INDEXES[name]
        .filter((index) => index.unique || Object.keys(index.fields).length > 1)
        .map((index) =>
          index.partialFilterExpression
            ? { fields: Object.keys(index.fields), requires: Object.keys(index.partialFilterExpression) }
            : Object.keys(index.fields),
        ),
      TRANSIENT[name],
    );
  return {
    requests: make('requests'),
    grants: make('grants'),
    audit: make('audit'),
    messages: make('messages'),
    outbox: make('outbox'),
    conversations: make('conversations'),
    resource_settings: make('resource_settings'),
    sightings: make('sightings'),
  };
}

/** A throwaway store held in this process (tests, the demo). */
export function createMemoryStore(): Store {
  const collections = createMemoryCollections();
  return {
    kind: 'memory',
    repos: createRepositories(collections),
    ping: async () => true,
    close: async () => {},
  };
}
