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
 * `structuredClone` (used before) made a fresh copy of every string of every stored document and
 * version: about a third of the memory store's size.
 *
 * Documents hold what MongoDB holds: plain objects, arrays, Dates, strings, numbers, booleans and
 * null. Anything else (a class instance) goes through `structuredClone`, as before.
 */
export function copyDoc<T>(value: T): T {
  return copy(value, false) as T;
}

/** A copy to keep in the store: as `copyDoc`, with every string internalized. */
export function storedCopy<T>(value: T): T {
  return copy(value, true) as T;
}

/** V8's internalized copy of `text`: a property key is internalized, and `Object.keys` returns it. */
function intern(text: string): string {
  return Object.keys({ [text]: 0 })[0] ?? text;
}

function copy(value: unknown, interned: boolean): unknown {
  if (typeof value === 'string') return interned ? intern(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map((v) => copy(v, interned));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key], interned);
  return out;
}
