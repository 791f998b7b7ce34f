/**
 * Where each person is reached when several chat platforms know them. Every front end tells the
 * core when it sees someone (any Slack interaction; any Teams activity, an installation included),
 * and the outbox tries the platform the policy's `chat.prefer` names first: `slack`, `teams`, or
 * `last-seen` (the default), where the bot last saw them. The other platforms are the fallback, in
 * the order the process lists them; someone never seen is tried in that order too.
 */
import type { Clock } from '../domain/clock.js';
import { normalizeEmail } from '../domain/email.js';
import type { Log } from '../domain/events.js';
import type { ChatPreference } from '../domain/policy.js';
import type { SightingRepo } from '../domain/ports.js';

/**
 * How long a sighting this process wrote is taken as still standing: within it, seeing the person
 * again on the same platform writes nothing, and where to reach them is answered without a read.
 * Only the platform matters (the time only orders sightings), so a write would change nothing
 * unless another instance saw them elsewhere meanwhile; that is noticed within this long.
 */
export const SIGHTING_FRESH_MS = 60_000;
/** At most this many people remembered per store (the oldest sighting is forgotten first). */
export const SIGHTINGS_REMEMBERED = 10_000;

type Remembered = Map<string, { platform: string; at: number }>;

/**
 * The last sighting this process wrote to each store, shared by every platform's recorder (so a
 * person seen on Teams, then Slack, is written both times). Keyed by the repository, so stores
 * (and tests) never share it.
 */
const written = new WeakMap<SightingRepo, Remembered>();

function rememberedFor(sightings: SightingRepo): Remembered {
  let map = written.get(sightings);
  if (!map) {
    map = new Map();
    written.set(sightings, map);
  }
  return map;
}

/** A sighting this process wrote less than SIGHTING_FRESH_MS ago, or undefined. */
function fresh(map: Remembered, email: string, now: number) {
  const last = map.get(email);
  return last && now - last.at < SIGHTING_FRESH_MS && now >= last.at ? last : undefined;
}

/**
 * Records that a person was seen on `platform`, now. Never throws: a lost sighting only changes an
 * order. Written only when it says something new (another platform than this process last wrote,
 * or that sighting is no longer fresh), so every click does not cost a store write.
 */
export function sightingRecorder(
  sightings: SightingRepo,
  platform: string,
  clock: Clock,
  log: Log,
): (email: string) => Promise<void> {
  const map = rememberedFor(sightings);
  return async (raw) => {
    const email = normalizeEmail(raw);
    const seenAt = clock.now();
    if (fresh(map, email, seenAt.getTime())?.platform === platform) return;
    try {
      await sightings.record({ email, platform, seenAt });
      map.delete(email);
      map.set(email, { platform, at: seenAt.getTime() });
      if (map.size > SIGHTINGS_REMEMBERED) map.delete(map.keys().next().value as string);
    } catch (error) {
      log.warn({ err: error, platform }, 'presence.record_failed');
    }
  };
}

/** The platform to try first for a person, or null to keep the configured order. */
export function preferredPlatform(
  prefer: ChatPreference,
  sightings: SightingRepo,
  log: Log,
  now: () => number = Date.now,
): (email: string) => Promise<string | null> {
  if (prefer !== 'last-seen') return async () => prefer;
  const map = rememberedFor(sightings);
  return async (raw) => {
    const email = normalizeEmail(raw);
    const known = fresh(map, email, now());
    if (known) return known.platform;
    try {
      return (await sightings.get(email))?.platform ?? null;
    } catch (error) {
      log.warn({ err: error }, 'presence.lookup_failed');
      return null;
    }
  };
}

/** `platforms` with the one named `first` moved to the front (unchanged when none has that name). */
export function inPreferredOrder<P extends { name: string }>(
  platforms: readonly P[],
  first: string | null,
): P[] {
  if (!first) return [...platforms];
  return [...platforms.filter((p) => p.name === first), ...platforms.filter((p) => p.name !== first)];
}
