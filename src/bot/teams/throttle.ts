/**
 * Teams' per-conversation rate limits for bot messages (about 7 a second and 60 per 30 seconds in
 * one conversation; more gets 429): every send and edit to a conversation takes a slot here first.
 * A message that would go over waits for its slot when that is soon, and otherwise is handed back
 * to the outbox as a retry at the moment the slot frees up (a DeliveryError that is not permanent,
 * with `retryAfterMs`), so nothing is dropped and the outbox job never sleeps long.
 *
 * The count is this process's own: several instances together can still pass the limit, and
 * Teams' 429 (with its Retry-After) is then retried by the outbox like any throttling.
 */
import { DeliveryError } from '../../core/chat.js';

export interface RateLimit {
  max: number;
  perMs: number;
}

/** What Teams documents for one conversation. */
export const TEAMS_CONVERSATION_LIMITS: readonly RateLimit[] = [
  { max: 7, perMs: 1_000 },
  { max: 60, perMs: 30_000 },
];

/** Waits up to this long in place; a longer wait goes back to the outbox. */
export const MAX_INLINE_WAIT_MS = 2_000;

export interface ThrottleOptions {
  limits?: readonly RateLimit[];
  maxInlineWaitMs?: number;
  /** Real time (not the domain's clock): the limits are Teams' wall-clock ones. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class ConversationThrottle {
  private readonly sent = new Map<string, number[]>();
  private readonly limits: readonly RateLimit[];
  private readonly window: number;
  private readonly maxInlineWaitMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: ThrottleOptions = {}) {
    this.limits = options.limits ?? TEAMS_CONVERSATION_LIMITS;
    // What is older than the longest window counts for nothing.
    this.window = Math.max(...this.limits.map((l) => l.perMs));
    this.maxInlineWaitMs = options.maxInlineWaitMs ?? MAX_INLINE_WAIT_MS;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** How long a message to `conversationId` must wait now for a slot (0: it may go). */
  waitFor(conversationId: string): number {
    const now = this.now();
    const stamps = (this.sent.get(conversationId) ?? []).filter((t) => t > now - this.window);
    this.sent.set(conversationId, stamps);
    let wait = 0;
    for (const { max, perMs } of this.limits) {
      const inWindow = stamps.filter((t) => t > now - perMs);
      if (inWindow.length < max) continue;
      // The slot frees when the oldest message that keeps the window full leaves it.
      const leaving = inWindow[inWindow.length - max] ?? now;
      wait = Math.max(wait, leaving + perMs - now);
    }
    return wait;
  }

  /** Takes a slot for one message to `conversationId`, waiting briefly for it if need be. */
  async take(conversationId: string): Promise<void> {
    for (;;) {
      const wait = this.waitFor(conversationId);
      if (wait <= 0) {
        this.sent.get(conversationId)?.push(this.now());
        this.forgetIdle();
        return;
      }
      if (wait > this.maxInlineWaitMs) {
        throw new DeliveryError(
          `Teams allows about ${this.describe()} in one conversation: waiting ${Math.ceil(wait / 1000)} s`,
          false,
          wait,
        );
      }
      await this.sleep(wait);
    }
  }

  private describe(): string {
    return this.limits.map((l) => `${l.max} messages per ${l.perMs / 1000} s`).join(' and ');
  }

  private forgetIdle(): void {
    if (this.sent.size < 1000) return;
    const cutoff = this.now() - this.window;
    for (const [id, stamps] of this.sent) {
      if ((stamps.at(-1) ?? 0) <= cutoff) this.sent.delete(id);
    }
  }
}
