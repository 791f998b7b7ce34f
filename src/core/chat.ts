/**
 * The chat seam: what the core needs from a chat platform (Slack now, Teams next). A platform
 * finds a person by email, sends a neutral view to them, edits a message it sent earlier, and
 * answers the person who clicked. It keeps no product rule: who is told what is decided in
 * ./deliveries.ts, and when, in ./outbox.ts.
 */
import type { z } from 'zod';
import type { MessageView } from '../domain/views/model.js';

/** A person as one platform knows them. */
export interface ChatPerson {
  email: string;
  name: string;
  /** IANA zone, when the platform knows it. */
  tz?: string;
}

export interface ChatPlatform {
  /** `slack`, `teams`: stored with every message record. */
  readonly name: string;
  /**
   * The person with this email on this platform, or null when the platform has nobody by that
   * email (they cannot be reached here). Throws `DeliveryError` when the platform cannot answer.
   */
  reach(email: string): Promise<ChatPerson | null>;
  /** Sends a direct message; returns its opaque address (for later `update`). */
  send(person: ChatPerson, view: MessageView): Promise<string>;
  /** Replaces the message at `address` (from `send`) with `view`. */
  update(address: string, view: MessageView): Promise<void>;
}

/**
 * A failed delivery, classified by the platform. `permanent`: trying again cannot help (nobody
 * with that email, a deactivated account); otherwise it is retried, after `retryAfterMs` when the
 * platform said how long to wait (HTTP 429 `Retry-After`).
 */
export class DeliveryError extends Error {
  readonly code = 'DELIVERY_FAILED';
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** A stored address read back with the platform's own schema; null when it is not one of its. */
export function parseAddress<T>(address: string, schema: z.ZodType<T>): T | null {
  let raw: unknown;
  try {
    raw = JSON.parse(address);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}
