/**
 * Index creation at start-up, for every replica at once: create what is missing, never drop.
 * An index that already exists under another definition (a changed declaration, an index made by
 * hand or by an older version) is kept as it is and reported; rebuilding it is the explicit
 * `jit-access-bot migrate` step (src/migrate.ts), run once, not by every pod that starts.
 */
import type { Log } from '../../domain/events.js';

/** Server error codes for "an index with this name or key exists with another definition". */
const EXISTING_INDEX_CODES: ReadonlyMap<number, string> = new Map([
  [68, 'IndexAlreadyExists'],
  [85, 'IndexOptionsConflict'],
  [86, 'IndexKeySpecsConflict'],
]);

export interface IndexOptions {
  name?: string;
  unique?: boolean;
  partialFilterExpression?: Record<string, unknown>;
  expireAfterSeconds?: number;
}

/** What createIndex needs of a collection (the driver's, or mongoose's wrapper of it). */
export interface IndexableCollection {
  readonly collectionName: string;
  createIndex(keys: Record<string, 1 | -1>, options: IndexOptions): Promise<string>;
}

/**
 * Creates one index. Returns `conflict` (after an error log line saying what to do) when an index
 * of that name or key already exists with another definition; any other failure throws.
 */
export async function createIndexKeepingExisting(
  collection: IndexableCollection,
  keys: Record<string, 1 | -1>,
  options: IndexOptions,
  log: Log,
): Promise<'created' | 'conflict'> {
  try {
    await collection.createIndex(keys, options);
    return 'created';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const codeName = typeof code === 'number' ? EXISTING_INDEX_CODES.get(code) : undefined;
    if (!codeName) throw error;
    log.error(
      {
        collection: collection.collectionName,
        index: options.name ?? Object.keys(keys).join('_'),
        key: keys,
        unique: options.unique === true,
        codeName,
        reason: error instanceof Error ? error.message : String(error),
      },
      'store.index_conflict: an index of this name or key already exists with another definition; it was kept as it is (indexes are never dropped at start), so the declared one is not in force. Stop all instances but one and run `jit-access-bot migrate` to rebuild the indexes (see README.md)',
    );
    return 'conflict';
  }
}
