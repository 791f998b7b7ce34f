/** Pages: their size, and cursors opaque to callers with a (time, id) keyset position inside. */
import { DomainError } from '../errors.js';

export interface KeysetPosition {
  at: Date;
  id: string;
}

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

/** The position in `cursor`, or null when it is not one this module made. */
export function decodeCursor(cursor: string): KeysetPosition | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [ms, id] = value as unknown[];
    if (typeof ms !== 'number' || !Number.isFinite(ms) || typeof id !== 'string' || id === '') return null;
    return { at: new Date(ms), id };
  } catch {
    return null;
  }
}

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export interface PageRequest {
  /** The `next` of the page before; absent: the first page. */
  cursor?: string;
  /** Rows per page, 1 to MAX_PAGE_SIZE; default DEFAULT_PAGE_SIZE. */
  size?: number;
}

/** The size and position a page request asks for, or why it cannot be served. */
export function readPage(page: PageRequest): { size: number; after?: KeysetPosition } | DomainError {
  const size = page.size ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    return new DomainError('INVALID_INPUT', `A page holds 1 to ${MAX_PAGE_SIZE} rows.`);
  }
  if (page.cursor === undefined) return { size };
  const after = decodeCursor(page.cursor);
  if (!after)
    return new DomainError(
      'INVALID_INPUT',
      'That page link is not valid any more; start from the first page.',
    );
  return { size, after };
}
