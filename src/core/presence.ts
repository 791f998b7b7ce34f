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

/** Records that a person was seen on `platform`, now. Never throws: a lost sighting only changes an order. */
export function sightingRecorder(
  sightings: SightingRepo,
  platform: string,
  clock: Clock,
  log: Log,
): (email: string) => Promise<void> {
  return async (email) => {
    try {
      await sightings.record({ email: normalizeEmail(email), platform, seenAt: clock.now() });
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
): (email: string) => Promise<string | null> {
  if (prefer !== 'last-seen') return async () => prefer;
  return async (email) => {
    try {
      return (await sightings.get(normalizeEmail(email)))?.platform ?? null;
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
