/** Ids that sort in the order they were made, and what an id that came back from a chat button may look like. */
import { z } from 'zod';

let seq = 0;

/**
 * Time first (ms, base 36), then a per-process counter, then `random`: ids made in the same
 * millisecond still sort in the order they were made, so a timeline or a queue reads in order.
 */
export function sortableId(at: Date, random: string): string {
  seq = (seq + 1) % 36 ** 6;
  return `${at.getTime().toString(36).padStart(9, '0')}-${seq.toString(36).padStart(6, '0')}-${random}`;
}

/** An id as this app issues them (UUIDs, sortable ids); anything else in a button's value was not made by us. */
export const idValue = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9-]+$/);
