/**
 * Fast paths of the memory store for the filters, sorts and updates the repositories actually
 * send, so that most operations do not pay for mingo's general machinery (each `Query` clones its
 * filter and builds an operator context; each update builds another and deep-clones the document).
 * A profile of the throughput bench put mingo and the clones it needs at a fifth of the app's CPU.
 *
 * Each fast path handles a narrow, plainly MongoDB-compatible subset and answers `null` for
 * anything else, and the store then does what it always did (mingo). So a fast path may decline,
 * but never answers differently: the store contract suites (test/store/) run both.
 *
 * - `compileMatcher`: field paths compared with a scalar, null, `$eq`, `$ne`, `$in`, `$exists`,
 *   or a range (`$gt`, `$gte`, `$lt`, `$lte`) on a number, string or Date, and `$or`/`$and` of such
 *   filters. A document whose path ends in an array of scalars is decided for an equality with
 *   a scalar (`$eq`, `$ne`, `$in` of scalars: an element equal); any other document whose path meets
 *   an array (MongoDB's multikey matching) is left to mingo.
 * - `compareForSort`: sort keys whose values are all numbers, all strings, all Dates or all
 *   booleans (missing or null first, as MongoDB orders them); mixed types are left to mingo.
 * - `appliedFast`: `$set`, `$unset` and `$inc` on object paths (no array on the way, no
 *   positional or numeric parts, no `_id`, no path inside another), copying only the objects on the
 *   changed paths, so the new version shares untouched values with the old one. Stored documents
 *   are never changed in place, so the sharing is safe.
 *
 * A document's Date may be a Date or, in a stored document, the `bigint` the store keeps for one
 * (copy.ts); both compare as the Date they are. Filters hold Dates.
 */

import { timeOf } from './copy.js';
import { isScalar, type Scalar } from './memory-index.js';

type Doc = Record<string, unknown>;
/** true/false: the document does or does not match; null: leave it to mingo. */
export type Matcher = (doc: unknown) => boolean | null;

function isPlainObject(value: unknown): value is Doc {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const UNDECIDED = Symbol('undecided');

/** The value at `parts` in `doc`; UNDECIDED when an array (or anything not a plain object) is on the way. */
function valueAt(doc: unknown, parts: readonly string[]): unknown {
  let value = doc;
  for (const part of parts) {
    if (value === undefined || value === null) return undefined;
    if (!isPlainObject(value)) return typeof value === 'object' ? UNDECIDED : undefined;
    value = value[part];
  }
  return Array.isArray(value) ? UNDECIDED : value;
}

/**
 * As `valueAt`, but an array at the end of the path is handed over as it is, for the conditions
 * that decide one (an equality with a scalar: any element equal, MongoDB's multikey match); an
 * array on the way is still UNDECIDED.
 */
function valueToMatch(doc: unknown, parts: readonly string[]): unknown {
  let value = doc;
  for (const part of parts) {
    if (value === undefined || value === null) return undefined;
    if (!isPlainObject(value)) return typeof value === 'object' ? UNDECIDED : undefined;
    value = value[part];
  }
  return value;
}

/** Whether every element of `array` is a scalar, null, or a Date as a stored document holds one. */
function scalarsOnly(array: readonly unknown[]): boolean {
  for (const v of array) {
    if (v !== null && typeof v === 'object' && !(v instanceof Date)) return false;
  }
  return true;
}

function sameScalar(a: unknown, b: Scalar): boolean {
  if (b instanceof Date) return timeOf(a) === b.getTime();
  return a === b;
}

/**
 * `value` (a scalar or null) as an equality: a document value or undefined; null = undecided. An
 * array of scalars matches a scalar when one of its elements is equal (as in MongoDB); any other
 * array, and any array compared with null, is left undecided.
 */
function equals(expected: Scalar | null): (actual: unknown) => boolean | null {
  if (expected === null) {
    return (actual) => (Array.isArray(actual) ? null : actual === null || actual === undefined);
  }
  return (actual) => {
    if (actual !== null && typeof actual === 'object' && !(actual instanceof Date)) {
      if (Array.isArray(actual)) {
        if (!scalarsOnly(actual)) return null;
        for (const element of actual) if (sameScalar(element, expected)) return true;
        return false;
      }
      return isPlainObject(actual) ? false : null;
    }
    return sameScalar(actual, expected);
  };
}

type Range = '$gt' | '$gte' | '$lt' | '$lte';

function range(op: Range, bound: Scalar): ((actual: unknown) => boolean | null) | null {
  if (typeof bound === 'boolean') return null;
  const key = (v: unknown): number | string | undefined =>
    bound instanceof Date ? timeOf(v) : typeof v === typeof bound ? (v as number | string) : undefined;
  const b = key(bound) as number | string;
  return (actual) => {
    if (actual !== null && typeof actual === 'object' && !(actual instanceof Date) && !isPlainObject(actual))
      return null;
    const a = key(actual);
    if (a === undefined) return false; // MongoDB compares within one type only
    return op === '$gt' ? a > b : op === '$gte' ? a >= b : op === '$lt' ? a < b : a <= b;
  };
}

function condition(spec: unknown): ((actual: unknown) => boolean | null) | null {
  if (spec === null || isScalar(spec)) return equals(spec);
  if (!isPlainObject(spec)) return null;
  const keys = Object.keys(spec);
  if (keys.length === 0 || !keys.every((k) => k.startsWith('$'))) return null;
  const tests: Array<(actual: unknown) => boolean | null> = [];
  for (const op of keys) {
    const arg = spec[op];
    if (op === '$eq' || op === '$ne') {
      if (arg !== null && !isScalar(arg)) return null;
      const eq = equals(arg);
      tests.push(op === '$eq' ? eq : (a) => negate(eq(a)));
    } else if (op === '$in') {
      if (!Array.isArray(arg) || !arg.every((v) => v === null || isScalar(v))) return null;
      const eqs = (arg as Array<Scalar | null>).map(equals);
      tests.push((a) => anyOf(eqs, a));
    } else if (op === '$exists') {
      if (typeof arg !== 'boolean') return null;
      tests.push((a) => (a !== undefined) === arg);
    } else if (op === '$gt' || op === '$gte' || op === '$lt' || op === '$lte') {
      if (!isScalar(arg)) return null;
      const test = range(op, arg);
      if (!test) return null;
      tests.push(test);
    } else {
      return null;
    }
  }
  return (actual) => allOf(tests, actual);
}

const negate = (r: boolean | null) => (r === null ? null : !r);

function anyOf(tests: Array<(a: unknown) => boolean | null>, actual: unknown): boolean | null {
  let undecided = false;
  for (const t of tests) {
    const r = t(actual);
    if (r === true) return true;
    if (r === null) undecided = true;
  }
  return undecided ? null : false;
}

function allOf(tests: Array<(a: unknown) => boolean | null>, actual: unknown): boolean | null {
  let undecided = false;
  for (const t of tests) {
    const r = t(actual);
    if (r === false) return false;
    if (r === null) undecided = true;
  }
  return undecided ? null : true;
}

/** A matcher for `filter`, or null when it uses anything beyond the subset above. */
export function compileMatcher(filter: Doc): Matcher | null {
  const fields: Array<{ parts: string[]; test: (actual: unknown) => boolean | null }> = [];
  const groups: Matcher[] = [];
  for (const [path, spec] of Object.entries(filter)) {
    if (path === '$or' || path === '$and') {
      // Each branch a filter of this subset (the sweep's findDue is an $or of three).
      if (!Array.isArray(spec) || spec.length === 0) return null;
      const branches: Matcher[] = [];
      for (const branch of spec) {
        const m = isPlainObject(branch) ? compileMatcher(branch) : null;
        if (!m) return null;
        branches.push(m);
      }
      groups.push(path === '$or' ? (doc) => anyOf(branches, doc) : (doc) => allOf(branches, doc));
      continue;
    }
    if (path.startsWith('$') || path === '') return null;
    const test = condition(spec);
    if (!test) return null;
    fields.push({ parts: path.split('.'), test });
  }
  return (doc) => {
    let undecided = false;
    for (const group of groups) {
      const r = group(doc);
      if (r === false) return false;
      if (r === null) undecided = true;
    }
    for (const { parts, test } of fields) {
      const actual = valueToMatch(doc, parts);
      if (actual === UNDECIDED) {
        undecided = true;
        continue;
      }
      const r = test(actual);
      if (r === false) return false;
      if (r === null) undecided = true;
    }
    return undecided ? null : true;
  };
}

/**
 * A comparator for `sort` over `docs`, or null when some key's values are not all of one simple
 * type (then mingo sorts). Missing and null come first in ascending order, as in MongoDB.
 */
export function compareForSort(
  sort: Record<string, 1 | -1>,
  docs: readonly unknown[],
): ((a: unknown, b: unknown) => number) | null {
  const keys: Array<{ parts: string[]; dir: number; date: boolean }> = [];
  for (const [path, dir] of Object.entries(sort)) {
    if (dir !== 1 && dir !== -1) return null;
    const parts = path.split('.');
    let type: string | undefined;
    for (const doc of docs) {
      const v = valueAt(doc, parts);
      if (v === undefined || v === null) continue;
      const t = v instanceof Date || typeof v === 'bigint' ? 'date' : typeof v;
      if (v === UNDECIDED || !['string', 'number', 'boolean', 'date'].includes(t)) return null;
      if (t === 'number' && Number.isNaN(v)) return null;
      if (type !== undefined && type !== t) return null;
      type = t;
    }
    keys.push({ parts, dir, date: type === 'date' });
  }
  return (a, b) => {
    for (const { parts, dir, date } of keys) {
      let x = valueAt(a, parts) as unknown;
      let y = valueAt(b, parts) as unknown;
      x = x === null ? undefined : x;
      y = y === null ? undefined : y;
      if (x === y) continue;
      if (x === undefined) return -dir;
      if (y === undefined) return dir;
      const kx = date ? (timeOf(x) as number) : (x as number | string);
      const ky = date ? (timeOf(y) as number) : (y as number | string);
      if (kx < ky) return -dir;
      if (kx > ky) return dir;
    }
    return 0;
  };
}

const FAST_OPERATORS = new Set(['$set', '$unset', '$inc', '$setOnInsert']);

/** A plain path of an update: object keys only (no positional, numeric or `$` parts, not `_id`). */
function plainPath(path: string): string[] | null {
  const parts = path.split('.');
  if (parts[0] === '_id') return null;
  for (const p of parts) if (p === '' || p.charCodeAt(0) === 36 /* $ */ || allDigits(p)) return null;
  return parts;
}

/** Whether `text` (not empty) is all ASCII digits: a numeric path part (an array index). */
function allDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Whether any of `paths` is another's or lies inside another (`a.b` inside `a`). */
function overlapping(paths: readonly string[]): boolean {
  for (let i = 0; i < paths.length; i++) {
    const a = paths[i] as string;
    for (let j = i + 1; j < paths.length; j++) {
      const b = paths[j] as string;
      if (a === b || inside(a, b) || inside(b, a)) return true;
    }
  }
  return false;
}

function inside(path: string, outer: string): boolean {
  return path.length > outer.length && path.charCodeAt(outer.length) === 46 && path.startsWith(outer);
}

/**
 * `doc` with `$set`/`$unset`/`$inc` applied (`$setOnInsert` ignored), as a new object sharing
 * what did not change; or null when the update is beyond this subset (then mingo applies it).
 */
export function appliedFast<T extends object>(
  doc: T,
  operators: Record<string, Doc>,
  /** The update's values are the store's own, never changed afterwards: held as they are, not copied. */
  shareValues = false,
): T | null {
  const changes: Array<{ op: string; path: string; parts: string[]; value: unknown }> = [];
  for (const [op, fields] of Object.entries(operators)) {
    if (!FAST_OPERATORS.has(op)) return null;
    if (op === '$setOnInsert') continue;
    if (!isPlainObject(fields)) return null;
    for (const [path, value] of Object.entries(fields)) {
      const parts = plainPath(path);
      if (!parts) return null;
      if (op === '$set' && value === undefined) return null;
      if (op === '$inc' && (typeof value !== 'number' || Number.isNaN(value))) return null;
      changes.push({ op, path, parts, value });
    }
  }
  if (overlapping(changes.map((c) => c.path))) return null;

  const root: Doc = { ...(doc as Doc) };
  /** Objects already copied in this update (safe to change). */
  const copied = new Set<Doc>([root]);
  /** Copied objects a field was removed from (marked REMOVED until they are rebuilt). */
  const shrunk = new Set<Doc>();
  for (const { op, parts, value } of changes) {
    let parent = root;
    let ok = true;
    for (const part of parts.slice(0, -1)) {
      const child = parent[part];
      if (child === undefined || child === null) {
        if (op === '$unset') {
          ok = false;
          break;
        }
        if (child === null) return null; // MongoDB refuses to create a field inside null
        const fresh: Doc = {};
        copied.add(fresh);
        parent[part] = fresh;
        parent = fresh;
        continue;
      }
      if (!isPlainObject(child)) return null;
      const next = copied.has(child) ? child : { ...child };
      copied.add(next);
      parent[part] = next;
      parent = next;
    }
    if (!ok) continue;
    const last = parts[parts.length - 1] as string;
    if (op === '$set') {
      parent[last] = value !== null && typeof value === 'object' && !shareValues ? cloneValue(value) : value;
    } else if (op === '$unset') {
      if (Object.hasOwn(parent, last)) {
        parent[last] = REMOVED;
        shrunk.add(parent);
      }
    } else {
      const current = parent[last];
      if (current === undefined) parent[last] = value;
      else if (typeof current === 'number') parent[last] = current + (value as number);
      else return null;
    }
  }
  return (shrunk.size > 0 ? withoutRemoved(root, copied, shrunk) : root) as T;
}

/** Marks a field `$unset` removes; see `withoutRemoved`. */
const REMOVED = Symbol('removed');

/**
 * `obj` with the fields marked REMOVED left out, rebuilt (and its copied children with it) rather
 * than changed by `delete`: V8 turns an object a property is deleted from (any but the last added)
 * into a dictionary, three to four times its size, and every stored version after it stays one.
 */
function withoutRemoved(obj: Doc, copied: Set<Doc>, shrunk: Set<Doc>): Doc {
  for (const key of Object.keys(obj)) {
    const child = obj[key];
    if (child !== null && typeof child === 'object' && copied.has(child as Doc)) {
      obj[key] = withoutRemoved(child as Doc, copied, shrunk);
    }
  }
  if (!shrunk.has(obj)) return obj;
  const out: Doc = {};
  for (const key of Object.keys(obj)) if (obj[key] !== REMOVED) out[key] = obj[key];
  return out;
}

/** A copy of a `$set` value: new objects, arrays and Dates; strings and the store's bigints shared. */
function cloneValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map(cloneValue);
  if (!isPlainObject(value)) return structuredClone(value);
  const out: Doc = {};
  for (const key of Object.keys(value)) out[key] = cloneValue(value[key]);
  return out;
}
