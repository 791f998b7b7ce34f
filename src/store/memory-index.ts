/**
 * Lookup indexes for the memory store: which documents can match a filter, found without reading
 * every document. Without them every query is a scan of the whole collection, so each request,
 * click and job gets slower as records pile up (a flow took 4x longer after 2,000 stored requests
 * than after 200).
 *
 * Each declared index (indexes.ts) gives hash maps over its leading fields: for an index on
 * `(status, expiresAt)` a map from a `status` value to the ids of the documents holding it; for one
 * on `(lane, status, createdAt)` maps over `lane` and `(lane, status)` — but no map over fields
 * that include another map's (here `(lane, status)`, which `lane` serves). A filter that compares those fields for equality (a value, `$eq` or `$in`; or each branch of a
 * top-level `$or`) reads only the documents under its values. The last field of a compound index
 * is its sort or range field and gets no map.
 *
 * The maps only narrow the candidates: every candidate is still tested against the whole filter
 * (by mingo), so a map may hold too many documents but never too few. A document whose indexed
 * field is an array, or lies under one, can match an equality in MongoDB's multikey way; such
 * documents go to a side set that every lookup includes.
 */

/**
 * Whether writing any of `paths` can change the value of any of `fields`: a path that is one of
 * them, lies inside one (`a.b` for `a`) or holds one (`a` for `a.b`).
 */
export function touches(fields: readonly string[], paths: readonly string[]): boolean {
  for (const field of fields) {
    for (const path of paths) {
      if (field === path || isInside(field, path) || isInside(path, field)) return true;
    }
  }
  return false;
}

/** Whether `path` names a field inside `outer` (`a.b` inside `a`). */
function isInside(path: string, outer: string): boolean {
  return path.length > outer.length && path.charCodeAt(outer.length) === 46 && path.startsWith(outer);
}

/** A value an equality lookup can use: compared by type and value, as MongoDB compares them. */
export type Scalar = string | number | boolean | Date;

/** At most this many value combinations from `$in`s before a lookup gives up and scans. */
const MAX_COMBINATIONS = 64;

export function isScalar(value: unknown): value is Scalar {
  return (
    typeof value === 'string' ||
    (typeof value === 'number' && !Number.isNaN(value)) ||
    typeof value === 'boolean' ||
    (value instanceof Date && !Number.isNaN(value.getTime()))
  );
}

/**
 * A string stands for itself (the very string the document holds, so a map over a string field
 * costs no key of its own); anything else, and a string that starts with the mark, starts with the
 * mark, so that no two values of one field share an encoding.
 */
const MARK = '\u0000';

function encodeScalar(value: Scalar): string {
  if (typeof value === 'string') return value.startsWith(MARK) ? `${MARK}s${value}` : value;
  if (value instanceof Date) return `${MARK}d${value.getTime()}`;
  if (typeof value === 'number') return `${MARK}n${Object.is(value, -0) ? 0 : value}`;
  return value ? `${MARK}b1` : `${MARK}b0`;
}

const MISSING = `${MARK}m`;
const OTHER = `${MARK}o`;
/** Joins the parts of a key over several fields (two keys may share a join: a lookup then over-selects). */
const SEPARATOR = '\u0001';

/**
 * How `doc` holds `path` for an index key: an encoded scalar, MISSING, OTHER (null, an object,
 * anything an equality with a scalar cannot match exactly), or null when an array lies on the way
 * (multikey: the document may match several values).
 */
function encodePath(doc: unknown, parts: readonly string[]): string | null {
  let value: unknown = doc;
  for (const part of parts) {
    if (Array.isArray(value)) return null;
    if (value === null || typeof value !== 'object' || value instanceof Date) return MISSING;
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined) return MISSING;
  if (Array.isArray(value)) return null;
  // A Date as a stored document holds it (copy.ts): encoded as that Date is.
  if (typeof value === 'bigint') return `${MARK}d${value}`;
  return isScalar(value) ? encodeScalar(value) : OTHER;
}

/** The scalar values a filter's condition on one field accepts by equality, or null if not that. */
function equalityValues(condition: unknown): Scalar[] | null {
  if (isScalar(condition)) return [condition];
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) return null;
  const ops = Object.keys(condition);
  if (ops.length === 0 || ops.some((op) => !op.startsWith('$'))) return null;
  // Any operator besides $eq/$in only narrows further, so the equality still bounds the matches.
  const { $eq, $in } = condition as { $eq?: unknown; $in?: unknown };
  if ($eq !== undefined) return isScalar($eq) ? [$eq] : null;
  if (Array.isArray($in) && $in.length > 0 && $in.every(isScalar)) return $in;
  return null;
}

/**
 * The ids under one key: most keys of selective fields (an outbox item's key, a request's id in
 * the audit trail) hold one document, kept as a plain string rather than a set of one; many hold a
 * few (a lane's messages, a request's audit events), kept as an array (a quarter of a Set's size)
 * up to SMALL_BUCKET ids, and as a Set beyond.
 */
type Bucket = string | string[] | Set<string>;

const SMALL_BUCKET = 16;

/**
 * A bucket of at least this many ids that holds half of the map's documents or more is kept only
 * as a count ("wide"): a lookup of its value reads every document, at most twice the bucket. A
 * status most documents reach and keep (a sent outbox item, an approved request), a platform, a
 * resource of a small catalogue: such buckets held an entry per document and narrowed nothing.
 * Once it holds under a quarter of the documents (or under a quarter of this), the next lookup
 * builds the bucket again from the documents.
 */
const WIDE_AT = 1024;

/** The documents of a collection, for a wide bucket built again. */
export type DocumentSource = () => Iterable<[string, unknown]>;

const sizeOf = (bucket: Bucket) =>
  typeof bucket === 'string' ? 1 : Array.isArray(bucket) ? bucket.length : bucket.size;

/** One hash map over the leading `fields` of an index. */
class PrefixMap {
  readonly #buckets = new Map<string, Bucket>();
  /** Wide buckets (see WIDE_AT): how many ids each holds. */
  readonly #wide = new Map<string, number>();
  /** Documents under an array on one of the paths: a candidate for every lookup. */
  readonly #multikey = new Set<string>();
  /** How many documents the map holds, in buckets, wide ones and multikey. */
  #size = 0;
  /** Each field's path, split once. */
  readonly #paths: ReadonlyArray<readonly string[]>;

  constructor(
    readonly fields: readonly string[],
    private readonly source: DocumentSource,
  ) {
    this.#paths = fields.map((f) => f.split('.'));
  }

  /** The bucket key `doc` is under; null when an array lies on one of the paths (multikey). */
  keyOf(doc: unknown): string | null {
    if (this.#paths.length === 1) return encodePath(doc, this.#paths[0] as readonly string[]);
    const parts: string[] = [];
    for (const path of this.#paths) {
      const part = encodePath(doc, path);
      if (part === null) return null;
      parts.push(part);
    }
    // join() makes one flat string; `+=` would keep a tree of pieces alive in the map.
    return parts.join(SEPARATOR);
  }

  add(id: string, doc: unknown, key = this.keyOf(doc)): void {
    this.#size++;
    if (key === null) {
      this.#multikey.add(id);
      return;
    }
    const wide = this.#wide.get(key);
    if (wide !== undefined) {
      this.#wide.set(key, wide + 1);
      return;
    }
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) this.#buckets.set(key, id);
    else if (typeof bucket === 'string') {
      if (bucket !== id) this.#buckets.set(key, [bucket, id]);
    } else if (Array.isArray(bucket)) {
      if (bucket.includes(id)) return;
      // A new array of the exact size: push() would grow one of 2 to room for 19.
      this.#buckets.set(key, bucket.length < SMALL_BUCKET ? [...bucket, id] : new Set([...bucket, id]));
    } else {
      bucket.add(id);
      if (bucket.size >= WIDE_AT && bucket.size * 2 >= this.#size) {
        this.#buckets.delete(key);
        this.#wide.set(key, bucket.size);
      }
    }
  }

  remove(id: string, doc: unknown, key = this.keyOf(doc)): void {
    this.#size = Math.max(0, this.#size - 1);
    if (key === null) {
      this.#multikey.delete(id);
      return;
    }
    const wide = this.#wide.get(key);
    if (wide !== undefined) {
      this.#wide.set(key, Math.max(0, wide - 1));
      return;
    }
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return;
    if (typeof bucket === 'string') {
      if (bucket === id) this.#buckets.delete(key);
      return;
    }
    if (Array.isArray(bucket)) {
      if (!bucket.includes(id)) return;
      const rest = bucket.filter((held) => held !== id);
      this.#buckets.set(key, rest.length === 1 ? (rest[0] as string) : rest);
      return;
    }
    bucket.delete(id);
    if (bucket.size === 1) this.#buckets.set(key, [...bucket][0] as string);
  }

  /** The keys of the buckets holding these values of `fields`, one list of values per field. */
  keys(values: readonly Scalar[][]): string[] {
    // The common lookup: one value of each field (a lane, a request's id), its encodings the key.
    if (values.every((options) => options.length === 1)) {
      if (values.length === 1) return [encodeScalar((values[0] as Scalar[])[0] as Scalar)];
      return [values.map((options) => encodeScalar(options[0] as Scalar)).join(SEPARATOR)];
    }
    let keys: string[][] = [[]];
    for (const options of values) {
      keys = keys.flatMap((prefix) => options.map((v) => [...prefix, encodeScalar(v)]));
    }
    return keys.map((parts) => parts.join(SEPARATOR));
  }

  /**
   * How many ids `lookup(keys)` would give at most (without building the set); Infinity when one
   * of the keys is wide (the lookup cannot narrow).
   */
  count(keys: readonly string[]): number {
    let n = this.#multikey.size;
    for (const key of keys) {
      if (this.#isWide(key)) return Number.POSITIVE_INFINITY;
      const bucket = this.#buckets.get(key);
      n += bucket === undefined ? 0 : sizeOf(bucket);
    }
    return n;
  }

  /** The ids that can match: those in these buckets, and the multikey ones; null when a key is wide. */
  lookup(keys: readonly string[]): Set<string> | null {
    if (keys.some((key) => this.#isWide(key))) return null;
    const out = new Set(this.#multikey);
    for (const key of keys) {
      const bucket = this.#buckets.get(key);
      if (typeof bucket === 'string') out.add(bucket);
      else if (bucket) for (const id of bucket) out.add(id);
    }
    return out;
  }

  /**
   * Whether `key`'s bucket is wide. One that has become narrow is built again from the documents
   * (only ever asked between writes, when the documents are as the map holds them).
   */
  #isWide(key: string): boolean {
    const wide = this.#wide.get(key);
    if (wide === undefined) return false;
    if (wide * 4 >= this.#size && wide * 4 >= WIDE_AT) return true;
    const ids: string[] = [];
    for (const [id, doc] of this.source()) if (this.keyOf(doc) === key) ids.push(id);
    this.#wide.delete(key);
    if (ids.length > 0) {
      this.#buckets.set(
        key,
        ids.length === 1 ? (ids[0] as string) : ids.length <= SMALL_BUCKET ? ids : new Set(ids),
      );
    }
    return false;
  }
}

/**
 * A partial index (one that covers only the documents having some fields): the ids of those
 * documents, for a filter that requires every one of the fields to exist (`{ $exists: true }`), e.g.
 * the sweep's `{ unsettled: { $exists: true } }`, which then reads only the few marked documents.
 */
class PresenceSet {
  readonly #ids = new Set<string>();
  readonly #paths: ReadonlyArray<readonly string[]>;

  constructor(readonly requires: readonly string[]) {
    this.#paths = requires.map((f) => f.split('.'));
  }

  covers(doc: unknown): boolean {
    return this.#paths.every((path) => {
      const part = encodePath(doc, path);
      return part === null || part !== MISSING;
    });
  }

  add(id: string, doc: unknown): void {
    if (this.covers(doc)) this.#ids.add(id);
  }

  remove(id: string, _doc: unknown): void {
    this.#ids.delete(id);
  }

  /** Whether the filter requires every field of this index to exist (then only its ids can match). */
  serves(filter: Record<string, unknown>): boolean {
    return this.requires.every((f) => {
      const condition = filter[f];
      return (
        condition !== null &&
        typeof condition === 'object' &&
        (condition as { $exists?: unknown }).$exists === true
      );
    });
  }

  get ids(): Set<string> {
    return new Set(this.#ids);
  }
}

/** An index as the lookups see it: its field paths, and the fields a partial one requires. */
export type LookupIndex =
  | readonly string[]
  | { readonly fields: readonly string[]; readonly requires: readonly string[] };

/** The lookup maps of one collection. */
export class LookupIndexes {
  readonly #maps: PrefixMap[];
  readonly #partial: PresenceSet[];

  /**
   * @param indexes each index's field paths, in key order; a partial index (with the fields it
   *   requires) also gives a set of the documents it covers, and no maps over its fields when it
   *   requires a field it does not index
   */
  constructor(indexes: ReadonlyArray<LookupIndex>, source: DocumentSource) {
    const prefixes = new Map<string, readonly string[]>();
    const partial = new Map<string, readonly string[]>();
    for (const index of indexes) {
      const fields = Array.isArray(index)
        ? (index as readonly string[])
        : (index as { fields: readonly string[] }).fields;
      if (!Array.isArray(index)) {
        const { requires } = index as { requires: readonly string[] };
        partial.set(JSON.stringify(requires), requires);
        // Maps over its fields would hold every document, covered or not: only when it indexes
        // what it requires (e.g. a unique key that exists only on some documents) are they kept.
        if (requires.some((f) => !fields.includes(f))) continue;
      }
      // The last field of a compound index is its sort or range field: no map over it.
      const longest = fields.length === 1 ? 1 : fields.length - 1;
      for (let n = 1; n <= longest; n++) {
        const prefix = fields.slice(0, n);
        if (prefix.includes('_id')) continue; // `_id` has its own lookup
        prefixes.set(JSON.stringify(prefix), prefix);
      }
    }
    // A map over fields that include all of another map's fields is left out: any filter it could
    // serve, the other serves too, a little less narrowly (a lane's items of one status among the
    // lane's few; a subject's message records of one purpose among its handful). Such maps held a
    // joined key string per lane or subject and cost about a tenth of the store's memory.
    const all = [...prefixes.values()];
    const covered = (p: readonly string[]) =>
      all.some((q) => q.length < p.length && q.every((field) => p.includes(field)));
    this.#maps = all.filter((p) => !covered(p)).map((p) => new PrefixMap(p, source));
    this.#partial = [...partial.values()].map((r) => new PresenceSet(r));
  }

  add(id: string, doc: unknown): void {
    for (const map of this.#maps) map.add(id, doc);
    for (const set of this.#partial) set.add(id, doc);
  }

  remove(id: string, doc: unknown): void {
    for (const map of this.#maps) map.remove(id, doc);
    for (const set of this.#partial) set.remove(id, doc);
  }

  /**
   * Moves a changed document: only the maps whose key for it changed are touched. `changed`: the
   * paths the change wrote (a `$set`, `$unset` or `$inc` of each), when known; a map or set over
   * none of them keeps the document where it is without reading it (every other value of the new
   * version is the old one's).
   */
  replace(id: string, previous: unknown, next: unknown, changed: readonly string[] | null = null): void {
    for (const map of this.#maps) {
      if (changed !== null && !touches(map.fields, changed)) continue;
      const before = map.keyOf(previous);
      const after = map.keyOf(next);
      if (before === after) continue;
      map.remove(id, previous, before);
      map.add(id, next, after);
    }
    for (const set of this.#partial) {
      if (changed !== null && !touches(set.requires, changed)) continue;
      if (set.covers(next)) set.add(id, next);
      else set.remove(id, previous);
    }
  }

  /**
   * The ids of the only documents that can match `filter`, or null when no map narrows it (then
   * every document is a candidate).
   */
  candidates(filter: Record<string, unknown>): Set<string> | null {
    const own = this.#bestFor(filter);
    if (own) return own;
    const present = this.#partial.find((set) => set.serves(filter));
    if (present) return present.ids;
    const branches = filter.$or;
    if (!Array.isArray(branches) || branches.length === 0) return null;
    const out = new Set<string>();
    for (const branch of branches) {
      if (branch === null || typeof branch !== 'object') return null;
      const found = this.candidates(branch as Record<string, unknown>);
      if (!found) return null;
      for (const id of found) out.add(id);
    }
    return out;
  }

  /** The smallest candidate set any one map gives for the filter's own equality fields. */
  #bestFor(filter: Record<string, unknown>): Set<string> | null {
    let best: { map: PrefixMap; keys: string[]; count: number } | null = null;
    for (const map of this.#maps) {
      const values: Scalar[][] = [];
      let combinations = 1;
      for (const field of map.fields) {
        const accepted = Object.hasOwn(filter, field) ? equalityValues(filter[field]) : null;
        if (!accepted) break;
        values.push(accepted);
        combinations *= accepted.length;
      }
      if (values.length < map.fields.length || combinations > MAX_COMBINATIONS) continue;
      const keys = map.keys(values);
      const count = map.count(keys);
      if (count === Number.POSITIVE_INFINITY) continue; // a wide bucket narrows nothing
      if (!best || count < best.count) best = { map, keys, count };
      if (count === 0) break;
    }
    return best ? best.map.lookup(best.keys) : null;
  }
}
