/** Page cursors: opaque to callers, a (time, id) keyset position inside. */

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
