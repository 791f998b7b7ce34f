/** MongoDB's duplicate-key error (E11000) as the store's `DuplicateKeyError`. */
import { DuplicateKeyError } from '../../domain/ports.js';
import { uniqueKeyName } from '../indexes.js';

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
  // Older servers only say which index: unique indexes are named by their key (see schemas.ts).
  const text =
    typeof err.errmsg === 'string' ? err.errmsg : typeof err.message === 'string' ? err.message : '';
  const index = /index: (\S+) dup key/.exec(text)?.[1];
  return new DuplicateKeyError(index === undefined ? 'unknown' : index === '_id_' ? '_id' : index);
}
