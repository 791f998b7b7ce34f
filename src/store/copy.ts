/**
 * The memory store's copies of documents. Every object, array and Date is new, so no caller
 * shares anything mutable with the store; strings, being immutable, are not copied:
 *
 * - `copyDoc` (what the store hands out) shares them;
 * - `storedCopy` (what the store keeps) keeps each string as V8's one internalized copy of that
 *   text, so that the emails, resource ids, statuses and platform names repeated across thousands
 *   of documents are held once, and a string built by concatenation (ids, keys, lanes) is held as
 *   one flat string rather than a tree of its pieces. V8 frees an internalized string once nothing
 *   refers to it.
 *
 * A stored document holds each Date as a `bigint` of its milliseconds (a `StoredDate`): a Date
 * object costs 112 bytes of heap, a bigint 24, and a document of this app holds about three Dates
 * (a quarter of the store's size, before this). Documents never hold bigints of their own (
 * `storedCopy` refuses one), so a bigint in a stored document is always a Date, and `copyDoc` gives
 * callers a Date again. The store's matchers, sorts and lookup maps (memory-ops.ts,
 * memory-index.ts) compare one as the Date it stands for; mingo is only ever shown Dates.
 *
 * `structuredClone` (used before) made a fresh copy of every string of every stored document and
 * version: about a third of the memory store's size.
 *
 * Documents hold what MongoDB holds: plain objects, arrays, Dates, strings, numbers, booleans and
 * null. Anything else (a class instance) goes through `structuredClone`, as before.
 */

/** How a stored document holds a (valid) Date: its milliseconds since the epoch. */
export type StoredDate = bigint;

/** The milliseconds of a Date, or of a Date as a stored document holds it; undefined for anything else. */
export function timeOf(value: unknown): number | undefined {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.getTime();
  return undefined;
}

/**
 * The bigints of the last few distinct times stored, by their low bits: the records one move
 * writes carry the same `now` several times over (an outbox item's creation and first due time, a
 * flow's items and message records), and a bigint is immutable, so they share one.
 */
const recentTimes: Array<StoredDate | undefined> = new Array(256);

function storedTime(ms: number): StoredDate {
  const slot = ms & 255;
  const recent = recentTimes[slot];
  if (recent !== undefined && Number(recent) === ms) return recent;
  const time = BigInt(ms);
  recentTimes[slot] = time;
  return time;
}

/** A copy to hand out: stored Dates become Dates again. */
export function copyDoc<T>(value: T): T {
  return copyOut(value) as T;
}

/**
 * A copy to keep in the store: as `copyDoc`, with every string internalized and every Date a
 * `StoredDate`. `transient`: top-level fields whose contents are held only briefly (an outbox
 * item's message, replaced by its kind once the item is sent): their strings are not internalized
 * nor their small objects shared, which would cost a lookup each and save nothing.
 */
export function storedCopy<T>(value: T, transient?: ReadonlySet<string>): T {
  if (transient === undefined || value === null || typeof value !== 'object' || !isPlain(value)) {
    return copyIn(value, false, true) as T;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    out[key] = copyIn((value as Record<string, unknown>)[key], true, !transient.has(key));
  }
  return out as T;
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * An object kept in dictionary mode (a property was deleted from it), with no property between
 * calls of `intern`: a key stored in it is internalized, and `for…in` hands that key back. An
 * object literal with the string as its computed key (`Object.keys({ [text]: 0 })`, used before)
 * cost three times as much: a new hidden class for each distinct key, and an array of the keys.
 */
const internTable: Record<string, number> = Object.create(null);
internTable.x = 0;
internTable.y = 0;
delete internTable.x;
delete internTable.y;

/** V8's internalized copy of `text`: a property key is internalized, and `for…in` returns it. */
function intern(text: string): string {
  internTable[text] = 0;
  let key = text;
  for (const k in internTable) key = k;
  delete internTable[text];
  return key;
}

/**
 * Small objects of strings stored lately (a message's kind `{ view }`, a person `{ email, name }`),
 * by their JSON: a stored document is never changed in place (a change makes a new version, which
 * shares what it did not change), so identical ones inside stored documents can be one object.
 * Bounded: emptied when full.
 */
const recentSmall = new Map<string, object>();
const RECENT_SMALL = 1024;

function sharedSmall(out: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  if (keys.length > 3) return out;
  for (const key of keys) {
    const v = out[key];
    if (typeof v !== 'string' || v.length > 64) return out;
  }
  const text = JSON.stringify(out);
  const known = recentSmall.get(text);
  if (known !== undefined) return known as Record<string, unknown>;
  if (recentSmall.size >= RECENT_SMALL) recentSmall.clear();
  recentSmall.set(text, out);
  return out;
}

/** `copyDoc`'s copy: objects, arrays and Dates new, stored Dates (bigints) Dates again, strings shared. */
function copyOut(value: unknown): unknown {
  if (typeof value !== 'object') return typeof value === 'bigint' ? new Date(Number(value)) : value;
  if (value === null) return value;
  if (Array.isArray(value)) return value.map(copyOut);
  if (value instanceof Date) return new Date(value.getTime());
  if (!isPlain(value)) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyOut((value as Record<string, unknown>)[key]);
  return out;
}

/**
 * `storedCopy`'s copy: Dates kept as `StoredDate`s; with `internal`, strings internalized and
 * small objects of strings shared (`nested`: not the document itself).
 */
function copyIn(value: unknown, nested: boolean, internal: boolean): unknown {
  if (typeof value === 'string') return internal ? intern(value) : value;
  if (typeof value === 'bigint') throw new TypeError('memory store: documents cannot hold bigint values');
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) {
    const ms = value.getTime();
    // An invalid Date has no milliseconds to keep: it stays a Date (MongoDB would refuse it anyway).
    return Number.isNaN(ms) ? new Date(ms) : storedTime(ms);
  }
  if (Array.isArray(value)) return value.map((v) => copyIn(v, true, internal));
  if (!isPlain(value)) return structuredClone(value);
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const key of keys) out[key] = copyIn((value as Record<string, unknown>)[key], true, internal);
  // Never the document itself: the store marks its place in the natural order on it (memory.ts).
  return nested && internal ? sharedSmall(out, keys) : out;
}
