/**
 * Slack's published Web API rate limits, for the fake Slack (fake-slack.ts) to enforce when asked.
 *
 * Source: https://api.slack.com/apis/rate-limits and each method's page. Every method is in a tier
 * with a per-workspace limit per minute (Tier 1: 1+, Tier 2: 20+, Tier 3: 50+, Tier 4: 100+), and
 * `chat.postMessage` has a "special" limit of about one message per second per channel. Slack says
 * it tolerates short bursts beyond these; the fake does not: it takes the published numbers
 * strictly, each over a sliding window (60 s for a tier, 1 s per channel for chat.postMessage), and
 * answers a call beyond them HTTP 429 `{ ok: false, error: 'ratelimited' }` with `Retry-After`: the
 * whole seconds until the oldest call in the window leaves it. A refused call does not count.
 */

export type SlackTier = 1 | 2 | 3 | 4;

/** Calls per minute per workspace, by tier. */
export const TIER_LIMITS_PER_MINUTE: Readonly<Record<SlackTier, number>> = { 1: 1, 2: 20, 3: 50, 4: 100 };

/** The tier of each method the app calls (`chat.postMessage` is limited per channel instead). */
export const METHOD_TIERS: Readonly<Record<string, SlackTier>> = {
  'users.info': 4,
  'users.lookupByEmail': 3,
  'conversations.open': 3,
  'chat.update': 3,
  'chat.delete': 3,
  'chat.postEphemeral': 4,
  'views.open': 4,
  'views.update': 4,
  'views.push': 4,
  'views.publish': 4,
  'usergroups.list': 2,
  'usergroups.users.list': 4,
  'usergroups.users.update': 2,
  'usergroups.disable': 2,
  'usergroups.enable': 2,
};

/** chat.postMessage: this many messages per channel per `POST_MESSAGE_WINDOW_MS`. */
export const POST_MESSAGES_PER_CHANNEL = 1;
export const POST_MESSAGE_WINDOW_MS = 1000;
const MINUTE_MS = 60_000;

export class SlackRateLimiter {
  /** Times of the calls let through, per limit key, oldest first. */
  readonly #windows = new Map<string, number[]>();

  constructor(private readonly now: () => number) {}

  /**
   * Counts a call and lets it through (null), or refuses it: the seconds to wait (`Retry-After`).
   * Methods with no published tier here (auth.test, apps.connections.open, …) are not limited.
   */
  take(method: string, channel: string | undefined): number | null {
    if (method === 'chat.postMessage') {
      return this.#take(
        `chat.postMessage:${channel ?? ''}`,
        POST_MESSAGES_PER_CHANNEL,
        POST_MESSAGE_WINDOW_MS,
      );
    }
    const tier = METHOD_TIERS[method];
    return tier === undefined ? null : this.#take(method, TIER_LIMITS_PER_MINUTE[tier], MINUTE_MS);
  }

  #take(key: string, limit: number, windowMs: number): number | null {
    const now = this.now();
    let times = this.#windows.get(key);
    if (!times) {
      times = [];
      this.#windows.set(key, times);
    }
    while (times.length > 0 && (times[0] as number) <= now - windowMs) times.shift();
    if (times.length >= limit) {
      const freeAt = (times[0] as number) + windowMs;
      return Math.max(1, Math.ceil((freeAt - now) / 1000));
    }
    times.push(now);
    return null;
  }
}
