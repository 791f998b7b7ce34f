/**
 * The outbox: every message a person should get is stored before it is attempted, then sent by
 * the `outbox.deliver` job, one lane at a time (a lane is one person's messages about one request
 * and its grant), in order, retried with backoff and jitter until it goes out or `giveUpAt`
 * passes. Any number of instances can run it: the job is unique per lane under the scheduler's
 * locks, and each attempt claims its item with a compare-and-swap lease, so no two workers send
 * the same item at once. A delivery that cannot be made is recorded as undeliverable in the audit
 * trail and the log, and a requester whose approver cannot be reached is told.
 *
 * What it cannot promise: a worker that dies after the platform accepted a message but before the
 * outbox recorded it sends that message again once the lease runs out (chat APIs have no
 * idempotency keys). Everything else goes out at most once.
 */
import { exponentialBackoff } from '../domain/backoff.js';
import type { Clock } from '../domain/clock.js';
import type { Log } from '../domain/events.js';
import { sortableId } from '../domain/ids.js';
import type { AuditEvent, OutboxItem } from '../domain/model.js';
import { DuplicateKeyError, type Repositories, type Scheduler } from '../domain/ports.js';
import type { Viewer } from '../domain/views/messages.js';
import { currentRequestId, withRequestId } from '../request-id.js';
import { type ChatPerson, type ChatPlatform, DeliveryError } from './chat.js';
import { type Delivery, laneOf, Purpose } from './deliveries.js';
import { asMessage, type Message, namesIn, renderMessage } from './messages.js';
import {
  NOTIFICATIONS_RECIPIENT,
  type NotificationDelivery,
  type NotificationSink,
} from './notifications.js';
import { inPreferredOrder } from './presence.js';

export interface OutboxPolicy {
  /** How long one attempt may hold its item before another worker may take it over. */
  leaseMs: number;
  /** Retry delays: `baseMs` after the first failure, doubling, capped at `maxMs`, then ±20 %. */
  retry: { baseMs: number; maxMs: number };
  /** A delivery still failing this long after it was enqueued is given up. */
  giveUpAfterMs: number;
  /**
   * At most this many items per job run; the job re-schedules itself for the rest. Small, so one
   * run (each send bounded by the platform's timeout) stays well inside the job's lock.
   */
  batch: number;
  /**
   * How long a done item (sent or given up) is kept, as its key, lane, status and times, before
   * the store deletes it (`OUTBOX_RETENTION`). See docs/benchmarks.md for why that cannot send a
   * message twice: an idempotency key is only consulted while the move that queued it can re-run.
   */
  retentionMs: number;
}

/** How often the sweep deletes the done items past their retention (MongoDB's TTL index also does). */
export const PURGE_EVERY_MS = 60 * 60_000;

/** 2 s, 4 s, 8 s … capped at 5 minutes; given up after 24 hours; kept 30 days once done. */
export const DEFAULT_OUTBOX_POLICY: OutboxPolicy = {
  leaseMs: 60_000,
  retry: { baseMs: 2_000, maxMs: 5 * 60_000 },
  giveUpAfterMs: 24 * 60 * 60_000,
  batch: 5,
  retentionMs: 30 * 24 * 60 * 60_000,
};

/** How a caller bounds a run: it may stop between messages, and hears of each one done. */
export interface OutboxRunControl {
  /** Asked before each message: true ends the run there; the lane stays due for the next one. */
  shouldStop?: () => boolean;
  /** Called after each message (e.g. to renew the job's lock). */
  heartbeat?: () => Promise<void>;
}

export interface OutboxDeps {
  repos: Repositories;
  scheduler: Scheduler;
  /** In order of preference: a person is reached on the first platform that knows their email. */
  platforms: ChatPlatform[];
  /** The platform to try first for a person (./presence.ts); null or absent keeps `platforms`' order. */
  preferred?: (email: string) => Promise<string | null>;
  clock: Clock;
  log: Log;
  newId: () => string;
  policy?: Partial<OutboxPolicy>;
  /** 0..1, for the jitter of retry delays (injectable so tests are exact). */
  random?: () => number;
  /** Where items for `NOTIFICATIONS_RECIPIENT` go (the policy's notifications webhook). */
  notifications?: NotificationSink;
}

/** What a done item keeps of its message: its kind (`view`, or a notification's `type`). */
export function messageKind(item: Pick<OutboxItem, 'recipient' | 'message'>): Record<string, unknown> {
  const kind = item.recipient === NOTIFICATIONS_RECIPIENT ? 'type' : 'view';
  return { [kind]: item.message[kind] };
}

/** Human names of the platforms, for "could not be reached on Slack". */
const PLATFORM_NAMES: Record<string, string> = { slack: 'Slack', teams: 'Microsoft Teams' };

export class Outbox {
  private readonly policy: OutboxPolicy;
  private readonly random: () => number;
  /** When the sweep next deletes done items past their retention (the first sweep does). */
  private nextPurge = 0;

  constructor(private readonly deps: OutboxDeps) {
    this.policy = { ...DEFAULT_OUTBOX_POLICY, ...deps.policy };
    this.random = deps.random ?? Math.random;
  }

  /** Stores the deliveries (skipping any enqueued before) and schedules their lanes now. */
  async enqueue(deliveries: Array<Delivery | NotificationDelivery>): Promise<void> {
    if (deliveries.length === 0) return;
    const now = this.deps.clock.now();
    const reqId = currentRequestId();
    const items: OutboxItem[] = deliveries.map((d) => ({
      id: sortableId(now, this.deps.newId()),
      key: d.key,
      lane: d.lane,
      recipient: d.recipient,
      mode: d.mode,
      subjectId: d.subjectId,
      purpose: d.purpose,
      message: d.message as Record<string, unknown>,
      status: 'pending',
      createdAt: now,
      attempts: 0,
      nextAttemptAt: now,
      giveUpAt: new Date(now.getTime() + this.policy.giveUpAfterMs),
      ...(reqId ? { reqId } : {}),
    }));
    const stored = await this.deps.repos.outbox.enqueue(items);
    for (const lane of new Set(stored.map((i) => i.lane))) {
      await this.deps.scheduler.schedule('outbox.deliver', now, { id: lane });
    }
  }

  /**
   * Job `outbox.deliver`: sends the lane's pending items in order. Stops at an item that is not
   * due yet (a retry waiting for its time), re-scheduling the lane for then. Idempotent.
   *
   * The lane is read once, up to a batch, not once per item: each item is claimed with a
   * compare-and-swap on what was read (status, due time, attempts), so an item another worker
   * took or put back meanwhile ends the run (that worker has the lane). An item enqueued after the
   * read is not missed: `enqueue` stores it before it schedules its lane, so its schedule comes
   * after this run began, and both runners run a job scheduled during its run again after it
   * (the in-process runner parks it; Agenda adds a pending job beside the locked one, which may
   * also start beside it: hence the last read of the lane's head, below).
   */
  async deliverLane(lane: string, control: OutboxRunControl = {}): Promise<void> {
    const batch = this.policy.batch;
    // One more than a batch: tells whether the lane holds more than this run will send.
    const items = await this.deps.repos.outbox.list({ lane, status: 'pending', limit: batch + 1 });
    let i = 0;
    for (; i < Math.min(items.length, batch); i++) {
      if (control.shouldStop?.()) break;
      const head = items[i] as OutboxItem;
      const now = this.deps.clock.now();
      if (head.nextAttemptAt > now) {
        await this.deps.scheduler.schedule('outbox.deliver', head.nextAttemptAt, { id: lane });
        return;
      }
      const claimed = await this.deps.repos.outbox.update(
        head.id,
        { status: 'pending', nextAttemptAt: head.nextAttemptAt, attempts: head.attempts },
        { set: { nextAttemptAt: new Date(now.getTime() + this.policy.leaseMs) } },
      );
      if (!claimed) return; // another worker has this lane's head
      const moved = await this.attempt(claimed);
      if (!moved) return; // waiting for a retry; the lane job is scheduled for it
      await control.heartbeat?.();
    }
    if (i === items.length) {
      // Every item read is done, but a run beside this one (Agenda may start the job of an item
      // queued meanwhile while this one holds the lane) may have found this run's item leased and
      // left the lane until the lease ends: one more read, so what waits behind goes out now.
      const next = await this.deps.repos.outbox.head(lane);
      if (!next) return;
      const now = this.deps.clock.now();
      await this.deps.scheduler.schedule(
        'outbox.deliver',
        next.nextAttemptAt > now ? next.nextAttemptAt : now,
        {
          id: lane,
        },
      );
      return;
    }
    await this.deps.scheduler.schedule('outbox.deliver', this.deps.clock.now(), { id: lane });
  }

  /**
   * The sweep's part: lanes whose head is due but whose job was lost (a crash between storing and
   * scheduling, a lost Agenda job) are delivered now. Returns how many lanes it moved along.
   */
  async sweep(limit = 200, control: OutboxRunControl = {}): Promise<number> {
    await this.purge();
    const lanes = await this.deps.repos.outbox.dueLanes(this.deps.clock.now(), limit);
    let count = 0;
    for (const lane of lanes) {
      if (control.shouldStop?.()) break;
      try {
        await this.deliverLane(lane, control);
      } catch (error) {
        this.deps.log.error({ err: error, lane }, 'outbox.sweep_failed');
      }
      count++;
    }
    return count;
  }

  /** Deletes the done items past their retention, at most once per PURGE_EVERY_MS. */
  private async purge(): Promise<void> {
    const now = this.deps.clock.now();
    if (now.getTime() < this.nextPurge) return;
    this.nextPurge = now.getTime() + PURGE_EVERY_MS;
    const purged = await this.deps.repos.outbox.purge(now);
    if (purged > 0) this.deps.log.info({ purged }, 'outbox.purged');
  }

  /** One attempt at a claimed item, under the id of the work that queued it. True when it is done. */
  private attempt(item: OutboxItem): Promise<boolean> {
    return item.reqId ? withRequestId(item.reqId, () => this.tryOnce(item)) : this.tryOnce(item);
  }

  /** True when the item is done (sent or given up). */
  private async tryOnce(item: OutboxItem): Promise<boolean> {
    // A notification for the webhook holds its body, not a chat message.
    const message = item.recipient === NOTIFICATIONS_RECIPIENT ? null : asMessage(item.message);
    // The item's fields, on the lines below (a child logger per item would cost more than the lines).
    const about = { outboxId: item.id, subjectId: item.subjectId, lane: item.lane };
    try {
      const platform = !message
        ? await this.notify(item)
        : item.mode === 'send'
          ? await this.send(item, message)
          : await this.edit(item, message);
      if (message?.view === 'reminder' && item.mode === 'send') {
        // A reminder counts as sent only once it is delivered; recorded before the item is marked
        // sent, under the item's key, so a crash in between neither loses nor repeats the record.
        await this.audit(
          'grant.reminded',
          { grantId: message.grant.id, resourceId: message.grant.resourceId },
          `${item.key}:reminded`,
        );
      }
      await this.finish(item, {
        status: 'sent',
        sentAt: this.deps.clock.now(),
        ...(platform ? { platform } : {}),
      });
      this.deps.log.debug({ ...about, attempts: item.attempts + 1, platform }, 'message.delivered');
      return true;
    } catch (error) {
      const now = this.deps.clock.now();
      const text = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof DeliveryError && error.permanent;
      if (permanent || now >= item.giveUpAt) {
        await this.giveUp(item, message, text);
        return true;
      }
      const attempts = item.attempts + 1;
      // Jittered, so that many messages failing together do not come back in lock-step.
      const backoff = exponentialBackoff({
        ...this.policy.retry,
        attempt: attempts,
        jitter: 0.2,
        random: this.random,
      });
      const wait = Math.max(backoff, error instanceof DeliveryError ? (error.retryAfterMs ?? 0) : 0);
      const next = new Date(Math.min(now.getTime() + wait, Math.max(item.giveUpAt.getTime(), now.getTime())));
      const updated = await this.deps.repos.outbox.update(
        item.id,
        { status: 'pending', nextAttemptAt: item.nextAttemptAt },
        { set: { attempts, nextAttemptAt: next, lastError: text.slice(0, 300) } },
      );
      this.deps.log.warn({ ...about, attempts, retryAt: next, error: text }, 'message.retrying');
      if (updated) await this.deps.scheduler.schedule('outbox.deliver', next, { id: item.lane });
      return false;
    }
  }

  /** Posts a notification to the policy's webhook. */
  private async notify(item: OutboxItem): Promise<string> {
    if (!this.deps.notifications) throw new DeliveryError('no notifications webhook is configured', true);
    await this.deps.notifications.deliver(item.message);
    return 'webhook';
  }

  /** Sends a new message on the first platform that knows the recipient. Returns the platform. */
  private async send(item: OutboxItem, message: Message): Promise<string> {
    const { platform, person } = await this.reach(item.recipient);
    const view = renderMessage(message, this.viewer(person), await this.nameOf(platform, message));
    const address = await platform.send(person, view);
    if (item.purpose) {
      await this.deps.repos.messages.save({
        id: this.deps.newId(),
        platform: platform.name,
        subjectId: item.subjectId,
        purpose: item.purpose,
        recipient: item.recipient,
        address,
        createdAt: this.deps.clock.now(),
      });
    }
    return platform.name;
  }

  /** Edits every message recorded for (subject, purpose, recipient); none recorded: nothing to do. */
  private async edit(item: OutboxItem, message: Message): Promise<string | undefined> {
    const records = await this.deps.repos.messages.find({
      subjectId: item.subjectId,
      purpose: item.purpose,
      recipient: item.recipient,
    });
    let last: string | undefined;
    for (const record of records) {
      const platform = this.deps.platforms.find((p) => p.name === record.platform);
      if (!platform) continue; // sent by a platform this process no longer serves
      const person = await platform.reach(item.recipient).catch(() => null);
      const view = renderMessage(message, this.viewer(person), await this.nameOf(platform, message));
      await platform.update(record.address, view);
      last = platform.name;
    }
    return last;
  }

  /**
   * The platform a new message to `email` would go out on now (the preferred one first, as `send`
   * tries them), or null when no platform knows them. Throws when a platform cannot answer just now.
   */
  async platformFor(email: string): Promise<string | null> {
    try {
      return (await this.reach(email)).platform.name;
    } catch (error) {
      if (error instanceof DeliveryError && error.permanent) return null;
      throw error;
    }
  }

  private async reach(email: string): Promise<{ platform: ChatPlatform; person: ChatPerson }> {
    let transient: unknown;
    const first = (await this.deps.preferred?.(email)) ?? null;
    for (const platform of inPreferredOrder(this.deps.platforms, first)) {
      try {
        const person = await platform.reach(email);
        if (person) return { platform, person };
      } catch (error) {
        if (error instanceof DeliveryError && error.permanent) continue;
        transient ??= error;
      }
    }
    if (transient) throw transient;
    throw new DeliveryError(`nobody with email ${email} on ${this.platformNames()}`, true);
  }

  private viewer(person: ChatPerson | null): Viewer {
    return { now: this.deps.clock.now(), ...(person?.tz ? { tz: person.tz } : {}) };
  }

  /** Display names for the emails a message shows, as the delivering platform knows them. */
  private async nameOf(platform: ChatPlatform, message: Message): Promise<(email: string) => string> {
    const names = new Map<string, string>();
    for (const email of namesIn(message)) {
      try {
        const person = await platform.reach(email);
        if (person) names.set(email, person.name);
      } catch {
        // a name is only decoration: the email stands in
      }
    }
    return (email) => names.get(email) ?? email;
  }

  /**
   * Marks the item done (sent or given up) and, in the same conditional write, drops what only
   * sending needed: the message's data (kept: its kind) and the id of the work that queued it. What
   * is left is what later moves read: the key (dedupe), lane and status (`head`), subject, purpose,
   * mode and recipient (`tellRequester`), the times and the platform. Where a message went is in
   * its message record (`repos.messages`), which later edits read. `purgeAt`: see `retentionMs`.
   */
  private async finish(item: OutboxItem, set: Partial<OutboxItem>): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.repos.outbox.update(
      item.id,
      { status: 'pending', nextAttemptAt: item.nextAttemptAt },
      {
        set: {
          ...set,
          message: messageKind(item),
          purgeAt: new Date(now.getTime() + this.policy.retentionMs),
        },
        unset: set.status === 'sent' ? ['lastError', 'reqId'] : ['reqId'],
      },
    );
  }

  private async giveUp(item: OutboxItem, message: Message | null, error: string): Promise<void> {
    await this.finish(item, { status: 'undeliverable', lastError: error.slice(0, 300) });
    const subject = !message
      ? { resourceId: String((item.message.resource as { id?: unknown } | undefined)?.id ?? '') }
      : 'request' in message
        ? { requestId: message.request.id, resourceId: message.request.resourceId }
        : 'grant' in message
          ? { grantId: message.grant.id, resourceId: message.grant.resourceId }
          : { resourceId: message.resource.id };
    await this.audit('message.undeliverable', {
      ...subject,
      details: {
        recipient: item.recipient,
        message: message?.view ?? String(item.message.type),
        mode: item.mode,
        error: error.slice(0, 300),
      },
    });
    this.deps.log.warn(
      { outboxId: item.id, recipient: item.recipient, message: message?.view ?? item.message.type, error },
      'message.undeliverable',
    );
    if (message?.view === 'approval-card' && item.mode === 'send') await this.tellRequester(message);
  }

  /** An approver could not be reached: the requester is told, so the request does not expire unseen. */
  private async tellRequester(card: Extract<Message, { view: 'approval-card' }>): Promise<void> {
    const r = card.request;
    const cards = (await this.deps.repos.outbox.list({ subjectId: r.id, limit: 1000 })).filter(
      (i) => i.mode === 'send' && i.purpose === Purpose.approvalCard,
    );
    const unreachable = cards.filter((i) => i.status === 'undeliverable').map((i) => i.recipient);
    const nobody = cards.length > 0 && unreachable.length === cards.length;
    const message: Message = {
      view: 'unreachable',
      request: r,
      resource: card.resource,
      unreachable,
      nobody,
      delivered: cards.some((i) => i.status === 'sent'),
      platforms: this.deps.platforms.map((p) => PLATFORM_NAMES[p.name] ?? p.name),
    };
    await this.enqueue([
      {
        key: `${r.id}:unreachable:${unreachable.join(',')}:${r.requester.email}`,
        lane: laneOf(r.id, r.requester.email),
        recipient: r.requester.email,
        mode: 'send',
        subjectId: r.id,
        purpose: '',
        message,
      },
    ]);
  }

  private platformNames(): string {
    return (
      this.deps.platforms.map((p) => PLATFORM_NAMES[p.name] ?? p.name).join(' or ') || 'any chat platform'
    );
  }

  /** Appends to the audit trail; with `once`, under that key, and a repeat changes nothing. */
  private async audit(
    type: AuditEvent['type'],
    subject: Pick<AuditEvent, 'requestId' | 'grantId' | 'resourceId' | 'details'>,
    once?: string,
  ): Promise<void> {
    const at = this.deps.clock.now();
    try {
      await this.deps.repos.audit.append({
        id: sortableId(at, this.deps.newId()),
        type,
        at,
        actor: 'system',
        ...subject,
        ...(once ? { key: once } : {}),
      });
    } catch (error) {
      if (!(once && error instanceof DuplicateKeyError && error.key === 'key')) throw error;
    }
  }
}
