/**
 * A stand-in for the `mongodb` driver's `MongoClient` and `Db`, held in this process and evaluated by
 * mingo. It is NOT MongoDB: it implements the part of the driver API that Agenda 6's MongoBackend
 * (@agendajs/mongo-backend 4, MongoJobRepository), src/jobs/agenda.ts and mongoose 9 (through its
 * own connection, `conn.setClient(client)`, for the store in src/store/mongo/) call, so that they can
 * run where no MongoDB server can be had. It shares no code with the memory store (src/store/memory.ts),
 * so the two are independent engines under the same contract tests. Anything else is absent, and an
 * option it does not model throws instead of being ignored. Its own tests: test/support/mingo-db.test.ts.
 *
 * What it models, as the server does:
 * - Values go in and come out through a BSON round trip (the driver's serializer, `undefined` stored
 *   as null as with the driver's default `ignoreUndefined: false`), so ObjectIds and Dates survive,
 *   nothing is shared with the caller, and anything BSON cannot hold fails.
 * - Filters, sorts, projections and update operators are mingo's ($setOnInsert only on upsert).
 *   Sort directions may be 1/-1 or 'asc'/'desc' (MongoBackend sorts with the latter).
 * - Upserts insert the filter's equality conditions (top level, `$eq`, inside `$and`) and then the
 *   update; the new document gets an ObjectId `_id` first unless the filter or update gives one.
 * - findOneAndUpdate returns the document before (the driver's default) or after the update, or null.
 * - Every operation on one document is atomic within the process: its body runs synchronously.
 * - Update paths that conflict ("Updating the path 'x' would create a conflict at 'x'", code 40), a
 *   changed `_id` (code 66), updates without operators, and unique indexes (E11000, code 11000,
 *   with keyPattern/keyValue) are rejected like MongoDB does. updateMany stops at its first error,
 *   keeping the documents it already changed.
 * - A missing field of a unique index's key counts as null; a partial index
 *   (`partialFilterExpression`: equalities, $exists: true, $gt/$gte/$lt/$lte, $type) covers only
 *   the documents that match it, so a partial unique index constrains only those.
 * - Natural order (find without sort) is insertion order; an update keeps a document's place.
 * - A collection exists once it is created (createCollection: NamespaceExists, code 48, when it
 *   already does), written to, or indexed; listIndexes of one that does not exist fails with
 *   NamespaceNotFound (code 26), as mongoose's syncIndexes expects.
 *
 * Used by (collection methods): insertOne, findOne, find().sort().skip().limit().toArray(),
 * countDocuments, estimatedDocumentCount, findOneAndUpdate {returnDocument, upsert, sort,
 * includeResultMetadata: false}, updateOne, updateMany, deleteMany, aggregate().toArray()
 * (MongoBackend's $group of job names), createIndex {name, unique, partialFilterExpression},
 * listIndexes().toArray(), dropIndex. Db: collection, createCollection, command({ ping: 1 }),
 * dropDatabase. MongoClient: connect, db, close.
 */
import { Aggregator, Query } from 'mingo';
import type { AnyObject, Options } from 'mingo/types';
import { update as applyUpdate } from 'mingo/updater';
import {
  BSON,
  type Db,
  MongoClient,
  MongoCursorInUseError,
  MongoInvalidArgumentError,
  MongoServerError,
  ObjectId,
} from 'mongodb';

type Doc = Record<string, unknown>;
type SortSpec = Record<string, 1 | -1>;

const QUERY_OPTIONS: Partial<Options> = { scriptEnabled: false };

/** What storing a value in MongoDB and reading it back makes of it (a fresh copy). */
function viaBson<T>(value: T): T {
  const bytes = BSON.serialize({ v: value }, { ignoreUndefined: false });
  return BSON.deserialize(bytes).v as T;
}

function serverError(code: number, message: string, extra: Doc = {}): MongoServerError {
  return new MongoServerError({ message, errmsg: message, code, ok: 0, ...extra });
}

function unsupported(what: string): Error {
  return new Error(`mingo stand-in for MongoDB: ${what} is not modelled`);
}

/**
 * Options mongoose leaves in what it hands the driver that the driver itself never reads
 * (`runValidators` is mongoose's; `returnOriginal` is the pre-v4 spelling of `returnDocument`,
 * which mongoose still adds and driver 7 ignores): accepted and ignored, as the driver does.
 */
const IGNORED_BY_THE_DRIVER = ['runValidators', 'returnOriginal'] as const;

/** Throws when `options` has a key this stand-in does not model (so it is never silently ignored). */
function allowOptions(method: string, options: object | undefined, allowed: readonly string[]): void {
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined && !allowed.includes(key)) throw unsupported(`${method} option '${key}'`);
  }
}

function normalizeSort(sort: unknown): SortSpec | undefined {
  if (sort === undefined || sort === null) return undefined;
  if (typeof sort !== 'object' || Array.isArray(sort) || sort instanceof Map) {
    throw unsupported(`sort ${JSON.stringify(sort)} (only { field: direction })`);
  }
  const spec: SortSpec = {};
  for (const [field, dir] of Object.entries(sort)) {
    if (dir === 1 || dir === 'asc' || dir === 'ascending') spec[field] = 1;
    else if (dir === -1 || dir === 'desc' || dir === 'descending') spec[field] = -1;
    else throw unsupported(`sort direction ${JSON.stringify(dir)} for '${field}'`);
  }
  return spec;
}

function getPath(doc: unknown, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Doc)[part];
  }
  return value;
}

/** A comparable encoding of a value (BSON bytes), e.g. of an `_id` or a unique index key. */
function keyOf(value: unknown): string {
  return Buffer.from(BSON.serialize({ v: value ?? null })).toString('hex');
}

function isOperatorObject(value: unknown): value is Doc {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.keys(value).some((k) => k.startsWith('$'));
}

/** The equality conditions an upsert copies into the new document, as MongoDB does. */
function upsertEqualities(filter: Doc, into: Doc = {}): Doc {
  for (const [path, value] of Object.entries(filter)) {
    if (path === '$and' && Array.isArray(value)) {
      for (const clause of value) upsertEqualities(clause as Doc, into);
    } else if (path.startsWith('$')) {
      // $or, $nor, $expr...: no equality the server would take from it.
    } else if (isOperatorObject(value)) {
      if ('$eq' in value) into[path] = value.$eq;
    } else {
      into[path] = value;
    }
  }
  return into;
}

type Operators = Record<string, Doc>;

/** Rejects what the driver or server would: no operators, replacement documents, pipelines, conflicts. */
function checkUpdate(update: unknown): Operators {
  if (Array.isArray(update)) throw unsupported('an aggregation-pipeline update');
  if (update === null || typeof update !== 'object') throw new TypeError('update must be an object');
  const keys = Object.keys(update);
  if (keys.length === 0 || !keys.every((k) => k.startsWith('$'))) {
    throw new MongoInvalidArgumentError('Update document requires atomic operators');
  }
  const paths: string[] = [];
  for (const [op, fields] of Object.entries(update as Operators)) {
    if (fields === null || typeof fields !== 'object')
      throw serverError(
        9,
        `Modifiers operate on fields but we found type ${typeof fields} instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(fields)}}`,
      );
    for (const path of Object.keys(fields)) {
      const clash = paths.find((p) => p === path || p.startsWith(`${path}.`) || path.startsWith(`${p}.`));
      if (clash !== undefined)
        throw serverError(40, `Updating the path '${path}' would create a conflict at '${clash}'`);
      paths.push(path);
    }
  }
  return update as Operators;
}

/** Applies `operators` to `doc` in place; returns whether anything changed. */
function applyOperators(doc: Doc, operators: Operators): boolean {
  if (Object.keys(operators).length === 0) return false;
  const immutable = () =>
    serverError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  const before = keyOf(doc._id);
  let changed: string[];
  try {
    changed = applyUpdate(doc as AnyObject, viaBson(operators), undefined, undefined, {
      cloneMode: 'deep',
      queryOptions: QUERY_OPTIONS,
    });
  } catch (error) {
    // mingo, like the server, refuses to write `_id` at all; say it as the server does.
    if (error instanceof Error && error.message.includes("immutable field '_id'")) throw immutable();
    throw error;
  }
  if (keyOf(doc._id) !== before) throw immutable();
  return changed.length > 0;
}

interface Index {
  name: string;
  key: Record<string, unknown>;
  unique: boolean;
  /** Only documents matching it are in the index; undefined: all documents. */
  partialFilterExpression: Doc | undefined;
  /**
   * A TTL index: recorded and listed as the server lists it. Nothing here deletes by it (the
   * server's TTL monitor runs once a minute); the store's own `purge` is what tests exercise.
   */
  expireAfterSeconds?: number;
}

/** Operators a partial index filter may use here (a subset of what the server accepts). */
const PARTIAL_FILTER_OPERATORS = new Set(['$eq', '$exists', '$gt', '$gte', '$lt', '$lte', '$type']);

/** Refuses a partial filter the server would refuse, or that this stand-in does not model. */
function checkPartialFilter(filter: unknown): Doc {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw serverError(2, 'partialFilterExpression must be an object', { codeName: 'BadValue' });
  }
  for (const [field, condition] of Object.entries(filter)) {
    if (field.startsWith('$')) throw unsupported(`partialFilterExpression operator ${field}`);
    if (!isOperatorObject(condition)) continue;
    for (const [op, value] of Object.entries(condition)) {
      if (!PARTIAL_FILTER_OPERATORS.has(op)) throw unsupported(`partialFilterExpression operator ${op}`);
      if (op === '$exists' && value !== true) {
        throw serverError(67, 'Expression not supported in partial index: $not', {
          codeName: 'CannotCreateIndex',
        });
      }
    }
  }
  return viaBson(filter as Doc);
}

function sameValue(a: unknown, b: unknown): boolean {
  return keyOf(a) === keyOf(b);
}

export class MingoCollection {
  /** By encoded `_id`, in natural (insertion) order. Stored documents never leave this class. */
  readonly #docs = new Map<string, Doc>();
  readonly #indexes = new Map<string, Index>([
    ['_id_', { name: '_id_', key: { _id: 1 }, unique: true, partialFilterExpression: undefined }],
  ]);
  /** Whether the collection exists (created, written to or indexed) in the database. */
  #exists = false;

  constructor(
    readonly dbName: string,
    readonly collectionName: string,
  ) {}

  get namespace(): string {
    return `${this.dbName}.${this.collectionName}`;
  }

  /** Whether the collection exists in the database (for `Db.createCollection`). */
  get exists(): boolean {
    return this.#exists;
  }

  /** Makes the collection exist (`Db.createCollection`, or implicitly by a write). */
  create(): void {
    this.#exists = true;
  }

  // ---------------------------------------------------------------- indexes

  async createIndex(
    keys: Record<string, unknown>,
    options: {
      name?: string;
      unique?: boolean;
      partialFilterExpression?: Doc;
      expireAfterSeconds?: number;
    } = {},
  ): Promise<string> {
    allowOptions('createIndex', options, ['name', 'unique', 'partialFilterExpression', 'expireAfterSeconds']);
    const { expireAfterSeconds } = options;
    if (
      expireAfterSeconds !== undefined &&
      (!Number.isInteger(expireAfterSeconds) || expireAfterSeconds < 0 || Object.keys(keys).length !== 1)
    )
      throw serverError(
        67,
        'TTL indexes are single-field indexes with a whole, non-negative expireAfterSeconds',
        {
          codeName: 'CannotCreateIndex',
        },
      );
    if (keys === null || typeof keys !== 'object' || Array.isArray(keys))
      throw unsupported('createIndex keys other than { field: 1 | -1 }');
    for (const [field, direction] of Object.entries(keys)) {
      if (direction !== 1 && direction !== -1)
        throw unsupported(`index direction ${String(direction)} of '${field}'`);
    }
    const key = { ...keys };
    const partialFilterExpression =
      options.partialFilterExpression === undefined
        ? undefined
        : checkPartialFilter(options.partialFilterExpression);
    const name =
      options.name ??
      Object.entries(key)
        .map(([f, d]) => `${f}_${String(d)}`)
        .join('_');
    const unique = options.unique ?? false;
    const sameKey = JSON.stringify(key);
    const existing = this.#indexes.get(name);
    if (existing) {
      if (JSON.stringify(existing.key) !== sameKey) {
        throw serverError(
          86,
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${sameKey}, existing index: ${JSON.stringify(existing.key)}`,
          { codeName: 'IndexKeySpecsConflict' },
        );
      }
      if (
        existing.unique !== unique ||
        existing.expireAfterSeconds !== expireAfterSeconds ||
        !sameValue(existing.partialFilterExpression, partialFilterExpression)
      )
        throw serverError(
          85,
          `An equivalent index already exists with the same name but different options. Requested index: ${sameKey}`,
          { codeName: 'IndexOptionsConflict' },
        );
      return name;
    }
    // Indexes on the same key may coexist when their partial filters differ.
    const other = [...this.#indexes.values()].find(
      (i) =>
        JSON.stringify(i.key) === sameKey && sameValue(i.partialFilterExpression, partialFilterExpression),
    );
    if (other)
      throw serverError(85, `Index already exists with a different name: ${other.name}`, {
        codeName: 'IndexOptionsConflict',
      });
    const index: Index = {
      name,
      key,
      unique,
      partialFilterExpression,
      ...(expireAfterSeconds !== undefined ? { expireAfterSeconds } : {}),
    };
    if (unique) {
      const seen = new Set<string>();
      for (const doc of this.#docs.values()) {
        if (!this.#covers(index, doc)) continue;
        const k = this.#indexKey(index, doc);
        if (seen.has(k)) throw this.#duplicate(index, doc);
        seen.add(k);
      }
    }
    this.#indexes.set(name, index);
    this.#exists = true;
    return name;
  }

  /** The indexes as the server lists them (`_id_` first, then in creation order). */
  listIndexes(options: object = {}): MingoCursor {
    allowOptions('listIndexes', options, []);
    return new MingoCursor(
      () => {
        if (!this.#exists) {
          throw serverError(26, `ns does not exist: ${this.namespace}`, { codeName: 'NamespaceNotFound' });
        }
        return [...this.#indexes.values()].map((i) =>
          viaBson({
            v: 2,
            key: i.key,
            name: i.name,
            ...(i.unique && i.name !== '_id_' ? { unique: true } : {}),
            ...(i.partialFilterExpression ? { partialFilterExpression: i.partialFilterExpression } : {}),
            ...(i.expireAfterSeconds !== undefined ? { expireAfterSeconds: i.expireAfterSeconds } : {}),
          }),
        );
      },
      { sort: undefined, skip: 0, limit: 0, projection: undefined },
    );
  }

  async dropIndex(name: string, options: object = {}): Promise<Doc> {
    allowOptions('dropIndex', options, []);
    if (typeof name !== 'string') throw unsupported('dropIndex by key pattern');
    if (!this.#exists)
      throw serverError(26, `ns not found ${this.namespace}`, { codeName: 'NamespaceNotFound' });
    if (name === '_id_') throw serverError(72, 'cannot drop _id index', { codeName: 'InvalidOptions' });
    if (!this.#indexes.delete(name)) {
      throw serverError(27, `index not found with name [${name}]`, { codeName: 'IndexNotFound' });
    }
    return { nIndexesWas: this.#indexes.size + 1, ok: 1 };
  }

  // ---------------------------------------------------------------- reads

  async findOne(filter: Doc = {}, options: { projection?: Doc; sort?: unknown } = {}): Promise<Doc | null> {
    allowOptions('findOne', options, ['projection', 'sort']);
    const [found] = this.#select(viaBson(filter), normalizeSort(options.sort), 0, 1);
    return found ? project(viaBson(found), options.projection) : null;
  }

  find(
    filter: Doc = {},
    options: { projection?: Doc; sort?: unknown; skip?: number; limit?: number } = {},
  ): MingoCursor {
    allowOptions('find', options, ['projection', 'sort', 'skip', 'limit']);
    const query = viaBson(filter);
    return new MingoCursor(
      (c) => this.#select(query, c.sort, c.skip, c.limit).map((d) => project(viaBson(d), c.projection)),
      {
        sort: normalizeSort(options.sort),
        skip: options.skip ?? 0,
        limit: options.limit ?? 0,
        projection: options.projection,
      },
    );
  }

  async countDocuments(filter: Doc = {}, options: { skip?: number; limit?: number } = {}): Promise<number> {
    allowOptions('countDocuments', options, ['skip', 'limit']);
    return this.#select(viaBson(filter), undefined, options.skip ?? 0, options.limit ?? 0).length;
  }

  async estimatedDocumentCount(): Promise<number> {
    return this.#docs.size;
  }

  aggregate(pipeline: Doc[] = [], options: object = {}): { toArray(): Promise<Doc[]> } {
    allowOptions('aggregate', options, []);
    const stages = viaBson(pipeline);
    return {
      toArray: async () =>
        viaBson(new Aggregator(stages as AnyObject[], QUERY_OPTIONS).run([...this.#docs.values()]) as Doc[]),
    };
  }

  // ---------------------------------------------------------------- writes

  async insertOne(doc: Doc, options: object = {}): Promise<{ acknowledged: true; insertedId: unknown }> {
    allowOptions('insertOne', options, []);
    // The driver gives the caller's document its new _id, as here.
    if (doc._id === undefined) doc._id = new ObjectId();
    const copy = viaBson(doc);
    this.#insert({ _id: copy._id, ...copy });
    return { acknowledged: true, insertedId: copy._id };
  }

  async findOneAndUpdate(
    filter: Doc,
    update: Doc,
    options: {
      returnDocument?: 'before' | 'after';
      upsert?: boolean;
      sort?: unknown;
      projection?: Doc;
      includeResultMetadata?: boolean;
    } = {},
  ): Promise<Doc | null> {
    allowOptions('findOneAndUpdate', options, [
      'returnDocument',
      'upsert',
      'sort',
      'projection',
      'includeResultMetadata',
      ...IGNORED_BY_THE_DRIVER,
    ]);
    // The driver's default since v6: the document alone, not the { value, ok } result.
    if (options.includeResultMetadata)
      throw unsupported("findOneAndUpdate option 'includeResultMetadata: true'");
    const operators = checkUpdate(viaBson(update));
    const query = viaBson(filter);
    const [current] = this.#select(query, normalizeSort(options.sort), 0, 1);
    if (!current) {
      if (!options.upsert) return null;
      const created = this.#upsert(query, operators);
      return options.returnDocument === 'after' ? project(viaBson(created), options.projection) : null;
    }
    const before = viaBson(current);
    this.#modify(current, operators);
    return project(viaBson(options.returnDocument === 'after' ? current : before), options.projection);
  }

  async updateOne(filter: Doc, update: Doc, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    allowOptions('updateOne', options, ['upsert', ...IGNORED_BY_THE_DRIVER]);
    const operators = checkUpdate(viaBson(update));
    const query = viaBson(filter);
    const [current] = this.#select(query, undefined, 0, 1);
    if (!current) {
      if (!options.upsert) return updateResult(0, 0);
      return updateResult(0, 0, this.#upsert(query, operators)._id);
    }
    return updateResult(1, this.#modify(current, operators) ? 1 : 0);
  }

  async updateMany(filter: Doc, update: Doc, options: { upsert?: boolean } = {}): Promise<UpdateResult> {
    allowOptions('updateMany', options, ['upsert', ...IGNORED_BY_THE_DRIVER]);
    const operators = checkUpdate(viaBson(update));
    const query = viaBson(filter);
    const matched = this.#select(query, undefined, 0, 0);
    if (matched.length === 0) {
      if (!options.upsert) return updateResult(0, 0);
      return updateResult(0, 0, this.#upsert(query, operators)._id);
    }
    let modified = 0;
    for (const doc of matched) if (this.#modify(doc, operators)) modified++;
    return updateResult(matched.length, modified);
  }

  async deleteMany(
    filter: Doc = {},
    options: object = {},
  ): Promise<{ acknowledged: true; deletedCount: number }> {
    allowOptions('deleteMany', options, []);
    const matched = this.#select(viaBson(filter), undefined, 0, 0);
    for (const doc of matched) this.#docs.delete(keyOf(doc._id));
    return { acknowledged: true, deletedCount: matched.length };
  }

  // ---------------------------------------------------------------- internals

  /** The stored documents (not copies) that match, sorted, skipped and limited (0: no limit). */
  #select(filter: Doc, sort: SortSpec | undefined, skip: number, limit: number): Doc[] {
    let cursor = new Query<AnyObject>(filter as AnyObject, QUERY_OPTIONS).find<Doc>([...this.#docs.values()]);
    if (sort && Object.keys(sort).length > 0) cursor = cursor.sort(sort);
    if (skip > 0) cursor = cursor.skip(skip);
    if (limit > 0) cursor = cursor.limit(limit);
    return cursor.all();
  }

  /** Inserts the document an upsert makes from `filter` and `operators`; returns it (stored). */
  #upsert(filter: Doc, operators: Operators): Doc {
    const { _id: filterId, ...equalities } = upsertEqualities(filter);
    const { $setOnInsert = {}, ...rest } = operators;
    const { _id: insertId, ...onInsert } = $setOnInsert;
    const { _id: setId, ...set } = rest.$set ?? {};
    const id = setId ?? insertId ?? filterId ?? new ObjectId();
    const doc: Doc = { _id: id };
    // mingo's $set (like the server's) never writes `_id`: it is given above.
    if (Object.keys(equalities).length > 0) applyOperators(doc, { $set: equalities });
    if (Object.keys(onInsert).length > 0) applyOperators(doc, { $set: onInsert });
    applyOperators(doc, { ...rest, ...(rest.$set ? { $set: set } : {}) });
    this.#insert(doc);
    return doc;
  }

  /** Applies `operators` to the stored `doc`, keeping it unchanged if that breaks a unique index. */
  #modify(doc: Doc, operators: Operators): boolean {
    const { $setOnInsert: _onlyOnInsert, ...rest } = operators;
    const next = viaBson(doc);
    if (!applyOperators(next, rest)) return false;
    const stored = viaBson(next);
    this.#assertUnique(stored, keyOf(doc._id));
    // Replace the contents in place so the document keeps its natural-order position.
    for (const k of Object.keys(doc)) delete doc[k];
    Object.assign(doc, stored);
    return true;
  }

  #insert(doc: Doc): void {
    this.#assertUnique(doc, null);
    this.#docs.set(keyOf(doc._id), viaBson(doc));
    this.#exists = true;
  }

  /** E11000 when `doc` shares a unique key with a document other than the one with `self` as `_id`. */
  #assertUnique(doc: Doc, self: string | null): void {
    for (const index of this.#indexes.values()) {
      if (!index.unique || !this.#covers(index, doc)) continue;
      const key = this.#indexKey(index, doc);
      for (const [id, other] of this.#docs) {
        if (id !== self && this.#covers(index, other) && this.#indexKey(index, other) === key)
          throw this.#duplicate(index, doc);
      }
    }
  }

  /** Whether `index` holds an entry for `doc` (a partial index only holds the documents it matches). */
  #covers(index: Index, doc: Doc): boolean {
    if (index.partialFilterExpression === undefined) return true;
    return new Query<AnyObject>(index.partialFilterExpression as AnyObject, QUERY_OPTIONS).test(
      doc as AnyObject,
    );
  }

  #indexKey(index: Index, doc: Doc): string {
    return keyOf(Object.keys(index.key).map((f) => getPath(doc, f) ?? null));
  }

  #duplicate(index: Index, doc: Doc): MongoServerError {
    const keyValue = Object.fromEntries(Object.keys(index.key).map((f) => [f, getPath(doc, f) ?? null]));
    const shown = Object.entries(keyValue)
      .map(
        ([f, v]) => `${f}: ${v instanceof ObjectId ? `ObjectId('${v.toHexString()}')` : JSON.stringify(v)}`,
      )
      .join(', ');
    return serverError(
      11000,
      `E11000 duplicate key error collection: ${this.namespace} index: ${index.name} dup key: { ${shown} }`,
      {
        keyPattern: { ...index.key },
        keyValue,
      },
    );
  }
}

interface UpdateResult {
  acknowledged: true;
  matchedCount: number;
  modifiedCount: number;
  upsertedCount: number;
  upsertedId: unknown;
}

function updateResult(matchedCount: number, modifiedCount: number, upsertedId?: unknown): UpdateResult {
  return {
    acknowledged: true,
    matchedCount,
    modifiedCount,
    upsertedCount: upsertedId === undefined ? 0 : 1,
    upsertedId: upsertedId ?? null,
  };
}

function project(doc: Doc, projection: Doc | undefined): Doc {
  if (!projection || Object.keys(projection).length === 0) return doc;
  const [projected] = new Query<AnyObject>({}, QUERY_OPTIONS).find<Doc>([doc], projection as AnyObject).all();
  // The server returns `_id` first, mingo last.
  const { _id, ...rest } = projected as Doc;
  return _id === undefined ? rest : { _id, ...rest };
}

interface CursorState {
  sort: SortSpec | undefined;
  skip: number;
  limit: number;
  projection: Doc | undefined;
}

/** The FindCursor subset used: sort/skip/limit/project before the first read, then toArray. */
export class MingoCursor {
  #read = false;

  constructor(
    private readonly run: (state: CursorState) => Doc[],
    private readonly state: CursorState,
  ) {}

  #configure(change: Partial<CursorState>): this {
    if (this.#read) throw new MongoCursorInUseError('Cursor is already initialized');
    Object.assign(this.state, change);
    return this;
  }

  sort(sort: unknown): this {
    return this.#configure({ sort: normalizeSort(sort) });
  }

  skip(skip: number): this {
    return this.#configure({ skip });
  }

  limit(limit: number): this {
    return this.#configure({ limit });
  }

  project(projection: Doc): this {
    return this.#configure({ projection });
  }

  async toArray(): Promise<Doc[]> {
    if (this.#read) return [];
    this.#read = true;
    return this.run(this.state);
  }
}

/**
 * A fresh, empty stand-in database, typed as the driver's `Db` for the code under test. Only the
 * methods above exist on its collections.
 */
export function createMingoDb(databaseName = 'mingo'): Db {
  const collections = new Map<string, MingoCollection>();
  const collection = (name: string): MingoCollection => {
    let found = collections.get(name);
    if (!found) {
      found = new MingoCollection(databaseName, name);
      collections.set(name, found);
    }
    return found;
  };
  const db = {
    databaseName,
    options: {},
    collection(name: string, options: object = {}): MingoCollection {
      allowOptions('collection', options, []);
      return collection(name);
    },
    async createCollection(name: string, options: object = {}): Promise<MingoCollection> {
      allowOptions('createCollection', options, []);
      const created = collection(name);
      if (created.exists) {
        throw serverError(48, `Collection ${databaseName}.${name} already exists.`, {
          codeName: 'NamespaceExists',
        });
      }
      created.create();
      return created;
    },
    async command(command: Doc, options: object = {}): Promise<Doc> {
      allowOptions('command', options, []);
      if (Object.keys(command).length === 1 && command.ping === 1) return { ok: 1 };
      throw unsupported(`command ${JSON.stringify(Object.keys(command))}`);
    },
    async dropDatabase(): Promise<boolean> {
      collections.clear();
      return true;
    },
  };
  return db as unknown as Db;
}

/**
 * A `MongoClient` whose databases are mingo stand-ins (createMingoDb), for code that takes a client:
 * mongoose's `conn.setClient(client)` wants a real `MongoClient` instance that has connected. It
 * never opens a socket: `connect()` only marks it connected (mongoose checks that it has a
 * `topology`), `db(name)` gives the same stand-in database for the same name, and `close()`
 * forgets nothing (the data lives as long as the client object).
 */
export class MingoClient extends MongoClient {
  readonly #dbs = new Map<string, Db>();

  /** @param dbName the default database (`client.db()`), as the path of a connection string would. */
  constructor(dbName = 'mingo') {
    // Parsed, never dialled: `.invalid` is a reserved top-level domain.
    super(`mongodb://mingo-stand-in.invalid/${encodeURIComponent(dbName)}`);
  }

  override async connect(): Promise<this> {
    // What mongoose reads of a connected client's topology: its description's type.
    Object.assign(this, { topology: { description: { type: 'Single' } } });
    return this;
  }

  override db(dbName?: string, options: object = {}): Db {
    allowOptions('MongoClient.db', options, []);
    const name = dbName || this.options.dbName;
    let db = this.#dbs.get(name);
    if (!db) {
      db = createMingoDb(name);
      this.#dbs.set(name, db);
    }
    return db;
  }

  override async close(): Promise<void> {
    Object.assign(this, { topology: undefined });
  }
}
