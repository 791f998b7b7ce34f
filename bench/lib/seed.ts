/**
 * Records as the app would have stored them, written straight into a store: for the throughput
 * runs that need thousands of earlier requests, the memory figures and the 10,000 expiring grants,
 * without waiting for thousands of flows first. Each record is what a real flow leaves behind: the
 * request, its audit events, the outbox items (planned by the app's own `plan`, marked sent), the
 * message records of the cards, and for an approved request its grant; pending requests and active
 * grants also get the jobs the app schedules for them. Each record goes through the writes a real
 * flow makes to it (an outbox item is stored pending with its message and then marked sent, a
 * request or grant is stored with its `unsettled` mark and then settled), so the store holds each
 * as it holds a real one, not merely the same fields.
 */
import { randomUUID } from 'node:crypto';
import { Purpose, plan } from '../../src/core/deliveries.js';
import { DEFAULT_OUTBOX_POLICY, messageKind } from '../../src/core/outbox.js';
import type { LifecycleEvent, ResourceRef } from '../../src/domain/events.js';
import { sortableId } from '../../src/domain/ids.js';
import type { AccessRequest, AuditEvent, Grant, OutboxItem, Person } from '../../src/domain/model.js';
import type { Repositories, Scheduler } from '../../src/domain/ports.js';

const HOUR = 3600_000;

export interface SeedOptions {
  repos: Repositories;
  scheduler: Scheduler;
  resource: ResourceRef;
  /** The resource's approvers: each seeded request names one of them, as a person filling the form might. */
  approvers: string[];
  now: Date;
}

let turn = 0;

export const person = (email: string): Person => ({ email, name: email.split('@')[0] ?? email });

async function audit(repos: Repositories, event: Omit<AuditEvent, 'id'>): Promise<void> {
  await repos.audit.append({ id: sortableId(event.at, randomUUID()), ...event });
}

/**
 * The outbox items and message records the app stores for these events, as delivered: each item
 * queued with its message, then marked sent as the outbox does it (src/core/outbox.ts `finish`: its
 * message reduced to its kind, to be purged after the default retention).
 */
async function delivered(
  opts: SeedOptions,
  events: LifecycleEvent[],
  at: Date,
  addresses: Partial<Record<string, string>> = {},
): Promise<void> {
  const items: OutboxItem[] = events.flatMap(plan).map((d) => ({
    id: sortableId(at, randomUUID()),
    key: d.key,
    lane: d.lane,
    recipient: d.recipient,
    mode: d.mode,
    subjectId: d.subjectId,
    purpose: d.purpose,
    message: d.message as unknown as Record<string, unknown>,
    status: 'pending',
    createdAt: at,
    attempts: 0,
    nextAttemptAt: at,
    giveUpAt: new Date(at.getTime() + 24 * HOUR),
    reqId: randomUUID(),
  }));
  await opts.repos.outbox.enqueue(items);
  for (const item of items) {
    await opts.repos.outbox.update(
      item.id,
      { status: 'pending', nextAttemptAt: item.nextAttemptAt },
      {
        set: {
          status: 'sent',
          sentAt: at,
          platform: 'slack',
          message: messageKind(item),
          purgeAt: new Date(at.getTime() + DEFAULT_OUTBOX_POLICY.retentionMs),
        },
        unset: ['lastError', 'reqId'],
      },
    );
  }
  for (const item of items) {
    if (item.mode !== 'send' || !item.purpose) continue;
    await opts.repos.messages.save({
      id: randomUUID(),
      platform: 'slack',
      subjectId: item.subjectId,
      purpose: item.purpose,
      recipient: item.recipient,
      address:
        addresses[item.purpose] ??
        JSON.stringify({ channel: `D${item.recipient}`, ts: `${at.getTime() / 1000}.000100` }),
      createdAt: at,
    });
  }
}

function request(opts: SeedOptions, requester: string, createdAt: Date): AccessRequest {
  const id = randomUUID();
  return {
    id,
    kind: 'access',
    resourceId: opts.resource.id,
    requester: person(requester),
    approvers: [opts.approvers[turn++ % Math.max(1, opts.approvers.length)] ?? 'approver@example.com'],
    duration: 'PT4H',
    justification: 'Investigate reported issue (seeded by the benchmark)',
    approval: 'manual',
    status: 'pending',
    createdAt,
    decideBy: new Date(createdAt.getTime() + HOUR),
    submissionKey: `seed-${id}`,
  };
}

/** A request waiting for a decision, its cards delivered, its expiry job scheduled. */
export async function seedPendingRequest(opts: SeedOptions, requester: string): Promise<AccessRequest> {
  const r = request(opts, requester, opts.now);
  await opts.repos.requests.insert({ ...r, unsettled: 'pending' });
  await opts.repos.requests.settle(r.id, 'pending');
  await audit(opts.repos, {
    type: 'request.created',
    at: r.createdAt,
    actor: requester,
    requestId: r.id,
    resourceId: r.resourceId,
  });
  await delivered(opts, [{ type: 'request.submitted', request: r, resource: opts.resource }], r.createdAt);
  await opts.scheduler.schedule('request.expire', r.decideBy, { id: r.id });
  return r;
}

/**
 * An approved request and its active grant, expiring at `expiresAt` (default: 4 hours from now),
 * already reminded when `reminded`, with its expiry job (and reminder job unless reminded).
 * `grantStatusAddress`: where the holder's "Access granted" message is (a message that exists in
 * the fake Slack, so that editing it when the grant ends works as in production); by default an
 * address that only fills the record.
 */
export async function seedActiveGrant(
  opts: SeedOptions,
  holder: string,
  {
    expiresAt,
    reminded = false,
    grantStatusAddress,
  }: { expiresAt?: Date; reminded?: boolean; grantStatusAddress?: string } = {},
): Promise<Grant> {
  const startsAt = opts.now;
  const ends = expiresAt ?? new Date(startsAt.getTime() + 4 * HOUR);
  const submitted = request(opts, holder, new Date(startsAt.getTime() - 60_000));
  const approver = submitted.approvers[0] as string;
  const decided: AccessRequest = {
    ...submitted,
    status: 'approved',
    decidedAt: startsAt,
    decidedBy: approver,
    decidedByName: person(approver).name,
  };
  await opts.repos.requests.insert({ ...decided, unsettled: 'approved' });
  await opts.repos.requests.settle(decided.id, 'approved');
  const grant: Grant = {
    id: randomUUID(),
    requestId: decided.id,
    resourceId: decided.resourceId,
    holder: decided.requester,
    duration: decided.duration,
    justification: decided.justification,
    status: 'active',
    createdAt: startsAt,
    startsAt,
    expiresAt: ends,
    attempts: 0,
    ...(reminded ? { remindedFor: ends } : {}),
  };
  await opts.repos.grants.insert({ ...grant, unsettled: 'activated' });
  await opts.repos.grants.update(
    grant.id,
    { status: 'active', unsettled: 'activated' },
    { unset: ['unsettled'] },
  );
  const ids = { requestId: decided.id, resourceId: decided.resourceId };
  await audit(opts.repos, { type: 'request.created', at: submitted.createdAt, actor: holder, ...ids });
  await audit(opts.repos, { type: 'request.approved', at: startsAt, actor: approver, ...ids });
  await audit(opts.repos, {
    type: 'grant.activated',
    at: startsAt,
    actor: 'system',
    grantId: grant.id,
    ...ids,
  });
  await delivered(
    opts,
    [
      { type: 'request.submitted', request: submitted, resource: opts.resource },
      { type: 'request.decided', request: decided, resource: opts.resource },
      { type: 'grant.activated', grant, resource: opts.resource },
    ],
    startsAt,
    grantStatusAddress ? { [Purpose.grantStatus]: grantStatusAddress } : {},
  );
  if (!reminded) {
    await opts.scheduler.schedule('grant.remind', new Date(ends.getTime() - 30 * 60_000), { id: grant.id });
  }
  await opts.scheduler.schedule('grant.expire', ends, { id: grant.id });
  return grant;
}
