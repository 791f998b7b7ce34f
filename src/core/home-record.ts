/**
 * How a home's message record (purpose `home`, or `home.<kind>` where a surface shows several
 * homes, subject `home`) keeps where that home stands, as its address (JSON):
 *
 * - `state`: the pages and the dashboard's filters (src/domain/home/state.ts);
 * - `where`: where the surface shows it, in the surface's own terms (Teams: the card's
 *   conversation and activity id; Slack's App Home needs none);
 * - `rev`: a new value at every write, so a refresh can compare-and-swap against a press or a
 *   new card written meanwhile;
 * - `shown`: a fingerprint of what was last shown there, so a refresh that would show the same
 *   again sends nothing;
 * - `parked`: the place shows something else for now (`away`: a form or a timeline opened from the
 *   card) or for good (`gone`: the platform no longer has the message): it is not refreshed.
 *
 * Read back with zod (a stored record is untrusted); an unreadable one starts afresh.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type HomeState, initialHomeState, readHomeState } from '../domain/home/state.js';
import type { HomeView } from '../domain/views/home.js';

export const HOME_SUBJECT = 'home';
export const HOME_PURPOSE = 'home';

export type HomeParked = 'away' | 'gone';

export interface HomeRecord {
  state: HomeState;
  where?: unknown;
  rev?: string;
  shown?: string;
  parked?: HomeParked;
}

const recordSchema = z.object({
  state: z.unknown(),
  where: z.unknown().optional(),
  rev: z.string().max(100).optional(),
  shown: z.string().max(100).optional(),
  parked: z.enum(['away', 'gone']).optional(),
});

export function readHomeRecord(address: string): HomeRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(address);
  } catch {
    return { state: initialHomeState() };
  }
  const parsed = recordSchema.safeParse(raw);
  if (!parsed.success) return { state: initialHomeState() };
  const { state, ...rest } = parsed.data;
  const record: HomeRecord = { state: readHomeState(state) };
  if (rest.where !== undefined) record.where = rest.where;
  if (rest.rev) record.rev = rest.rev;
  if (rest.shown) record.shown = rest.shown;
  if (rest.parked) record.parked = rest.parked;
  return record;
}

export function writeHomeRecord(record: HomeRecord): string {
  return JSON.stringify(record);
}

/** Whether a message record's purpose is a home's (`home`, `home.dashboard`). */
export function isHomePurpose(purpose: string): boolean {
  return purpose === HOME_PURPOSE || purpose.startsWith(`${HOME_PURPOSE}.`);
}

/** What a home shows, in short: the same view at the same state gives the same fingerprint. */
export function homeFingerprint(view: HomeView, state: HomeState): string {
  return createHash('sha256').update(JSON.stringify({ view, state })).digest('base64url').slice(0, 22);
}
