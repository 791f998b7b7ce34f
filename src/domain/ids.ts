/** Ids that sort in the order they were made. */

let seq = 0;

/**
 * Time first (ms, base 36), then a per-process counter, then `random`: ids made in the same
 * millisecond still sort in the order they were made, so a timeline or a queue reads in order.
 */
export function sortableId(at: Date, random: string): string {
  seq = (seq + 1) % 36 ** 6;
  return `${at.getTime().toString(36).padStart(9, '0')}-${seq.toString(36).padStart(6, '0')}-${random}`;
}
