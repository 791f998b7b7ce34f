/**
 * Grant lifecycle, from approval to active: provision through the connector (active only once it
 * confirms), remind before expiry, and extend. Ending access is in ./revocation.ts, the retry job
 * and the sweep in ./sweep.ts, and what every connector call shares in ./connector-calls.ts.
 * Connector failures are retried with backoff through the `grant.retry` job and reported to the
 * resource's approvers after repeated failure; a failure the connector calls non-retryable stops
 * the retries and is reported at once. Nothing is marked done before the connector confirms.
 * Every job handler here is idempotent.
 */

import { claim, claimExtension, connectorEvent, recordFailure, revokeAgain } from './connector-calls.js';
import type { ServiceContext } from './context.js';
import { addDuration, subtractDuration } from './duration.js';
import { DomainError } from './errors.js';
import type { AccessRequest, Grant } from './model.js';
import { clampToWindow, isOpen } from './owner-settings.js';
import { durationOption, effectivePolicy } from './policy.js';
import { DuplicateKeyError } from './ports.js';
import { resourceRef } from './requests.js';
import { settleGrant, settleNow } from './settle.js';

/**
 * Called once a request is approved (by a person or automatically). Records what the approval
 * means before anyone is told (a provisioning grant, or the moved expiry), so a crash after this
 * point is finished by the sweep; returns the slow part (connector calls) to run afterwards.
 */
export async function onApproved(ctx: ServiceContext, request: AccessRequest): Promise<() => Promise<void>> {
  if (request.kind === 'extension' && request.grantId) return applyExtension(ctx, request);
  const grant: Grant = {
    id: ctx.newId(),
    requestId: request.id,
    resourceId: request.resourceId,
    holder: request.requester,
    duration: request.duration,
    justification: request.justification,
    status: 'provisioning',
    createdAt: ctx.clock.now(),
    attempts: 0,
    nextAttemptAt: ctx.clock.now(), // due now: the follow-up (or, after a crash, the sweep) claims it
  };
  let stored: Grant | null = grant;
  try {
    await ctx.repos.grants.insert(grant);
  } catch (e) {
    if (!(e instanceof DuplicateKeyError)) throw e;
    if (e.key === 'openKey') return overlapping(ctx, request);
    // requestId: the grant of this approval exists already (a repeated follow-up): that one goes on.
    stored = await ctx.repos.grants.findByRequestId(request.id);
  }
  // Provisioning runs as a job, so nobody's click waits for the connector.
  return async () => {
    if (stored) await ctx.advanceSoon(stored.id);
  };
}

/**
 * The requester already holds an open grant of this resource (the store's unique key said so:
 * two approvals raced). The approval is taken back before anyone was told, and refused.
 */
async function overlapping(ctx: ServiceContext, request: AccessRequest): Promise<never> {
  const resource = ctx.resource(request.resourceId);
  if (request.decidedBy && request.decidedAt) {
    await ctx.repos.requests.undoApproval(request.id, request.decidedBy, request.decidedAt);
  }
  ctx.log.warn({ requestId: request.id, resourceId: request.resourceId }, 'grant.overlap_refused');
  throw new DomainError(
    'ALREADY_HAS_ACCESS',
    `${request.requester.name} already has access to ${resource.name}; approving this would overlap it.`,
  );
}

/** Grants access through the connector; the grant becomes active, and its time starts, on confirmation. */
export async function provision(ctx: ServiceContext, current: Grant): Promise<void> {
  if (current.status !== 'provisioning') return;
  const resource = ctx.resource(current.resourceId);
  const access = await ctx.policy.access(resource);
  if (!isOpen(access, ctx.clock.now())) {
    // Approved before the owners closed the resource, and not yet provisioned: never granted.
    const closing = await ctx.repos.grants.update(
      current.id,
      { status: 'provisioning' },
      {
        set: {
          status: 'revoking',
          endReason: 'closed-by-owner',
          endedBy: access.setting?.updatedBy ?? 'system',
          attempts: 0,
          nextAttemptAt: ctx.clock.now(),
        },
      },
    );
    if (closing) await ctx.advanceSoon(current.id);
    return;
  }
  const grant = await claim(ctx, current);
  if (!grant) return;
  const startsAt = ctx.clock.now();
  // A grant approved inside the owners' window never outlives it.
  const expiresAt = clampToWindow(addDuration(startsAt, grant.duration), access);
  try {
    await ctx.connectors
      .forResource(grant.resourceId)
      .deliver(connectorEvent(grant, 'grant.activated', `${grant.id}:activated`, startsAt, expiresAt));
  } catch (error) {
    await recordFailure(ctx, grant, 'provision', error);
    return;
  }
  const active = await ctx.repos.grants.update(
    grant.id,
    { status: 'provisioning', nextAttemptAt: grant.nextAttemptAt ?? null },
    {
      set: {
        status: 'active',
        startsAt,
        expiresAt,
        remindAt: reminderTime(ctx, grant, expiresAt),
        attempts: 0,
        unsettled: 'activated',
      },
      unset: ['nextAttemptAt', 'lastError'],
    },
  );
  if (!active) {
    const latest = await ctx.repos.grants.get(grant.id);
    if (latest && latest.status !== 'provisioning' && latest.status !== 'active') {
      await revokeAgain(ctx, { ...latest, startsAt }, `${grant.id}:revoked:after-activation`);
    }
    return;
  }
  // The access read above decided the grant's end: its message shows the same window.
  await settleNow(ctx, () => settleGrant(ctx, active, { access }));
}

export function remindBeforeFor(ctx: ServiceContext, grant: Grant): string {
  const resource = ctx.resource(grant.resourceId);
  const policy = effectivePolicy(ctx.config, resource, grant.holder.email);
  return durationOption(policy, grant.duration)?.remindBefore ?? policy.remindBefore;
}

/** When the pre-expiry prompt for this expiry is due, under the grant's current policy. */
export function reminderTime(ctx: ServiceContext, grant: Grant, expiresAt: Date): Date {
  return subtractDuration(expiresAt, remindBeforeFor(ctx, grant));
}

export async function scheduleTimers(ctx: ServiceContext, grant: Grant): Promise<void> {
  if (!grant.expiresAt) return;
  const remindAt = reminderTime(ctx, grant, grant.expiresAt);
  const now = ctx.clock.now();
  await ctx.scheduler.schedule('grant.remind', remindAt < now ? now : remindAt, { id: grant.id });
  await ctx.scheduler.schedule('grant.expire', grant.expiresAt, { id: grant.id });
}

/** Job `grant.remind`: the pre-expiry prompt, once per expiry time. */
export async function remind(ctx: ServiceContext, grantId: string): Promise<void> {
  const grant = await ctx.repos.grants.get(grantId);
  if (grant?.status !== 'active' || !grant.expiresAt) return;
  if (grant.remindedFor && grant.remindedFor.getTime() === grant.expiresAt.getTime()) return;
  const now = ctx.clock.now();
  if (grant.expiresAt <= now) return;
  // A stale job (from before the expiry moved) must not use up the reminder early: put it back
  // at the time the current expiry calls for.
  const remindAt = reminderTime(ctx, grant, grant.expiresAt);
  if (now < remindAt) {
    // The sweep looks for owed reminders by the stored time: keep it the one the policy now gives.
    if (grant.remindAt?.getTime() !== remindAt.getTime()) {
      await ctx.repos.grants.update(
        grantId,
        { status: 'active', expiresAt: grant.expiresAt },
        { set: { remindAt } },
      );
    }
    await ctx.scheduler.schedule('grant.remind', remindAt, { id: grant.id });
    return;
  }
  const resource = ctx.resource(grant.resourceId);
  const policy = effectivePolicy(ctx.config, resource, grant.holder.email);
  // Queued first (once per expiry, by its key), then marked: a crash in between queues it again,
  // never loses it. The reminder is audited when it is delivered.
  await ctx.publishOrThrow({
    type: 'grant.reminder',
    grant,
    resource: resourceRef(resource),
    extensionsAllowed: policy.extensions && ctx.config.resources.some((r) => r.id === grant.resourceId),
  });
  await ctx.repos.grants.update(
    grantId,
    { status: 'active', expiresAt: grant.expiresAt },
    { set: { remindedFor: grant.expiresAt }, unset: ['remindAt'] },
  );
}

async function applyExtension(ctx: ServiceContext, request: AccessRequest): Promise<() => Promise<void>> {
  const grant = request.grantId ? await ctx.repos.grants.get(request.grantId) : null;
  const nothing = async () => {};
  if (grant?.status !== 'active' || !grant.expiresAt) return nothing;
  if (grant.pendingExtension?.requestId === request.id) return () => ctx.advanceSoon(grant.id);
  if (grant.appliedExtensions?.includes(request.id)) return nothing;
  // Never past the owners' window, and never earlier than it was.
  const access = await ctx.policy.access(ctx.resource(grant.resourceId));
  const wanted = clampToWindow(addDuration(grant.expiresAt, request.duration), access);
  const expiresAt = wanted > grant.expiresAt ? wanted : grant.expiresAt;
  const extended = await ctx.repos.grants.update(
    grant.id,
    { status: 'active', expiresAt: grant.expiresAt },
    {
      set: {
        expiresAt,
        remindAt: reminderTime(ctx, grant, expiresAt),
        appliedExtensions: [...(grant.appliedExtensions ?? []), request.id],
        // due now: the follow-up (or, after a crash, the sweep) claims it
        pendingExtension: { requestId: request.id, attempts: 0, nextAttemptAt: ctx.clock.now() },
        unsettled: `extended:${request.id}`,
      },
      unset: ['remindedFor'],
    },
  );
  if (!extended) return nothing;
  // Audit, timers, the holder's message and the connector call: see ./settle.ts.
  return () => settleNow(ctx, () => settleGrant(ctx, extended));
}

/** Tells the connector about a moved expiry (`grant.extended`), retrying until it confirms. */
export async function deliverExtension(ctx: ServiceContext, current: Grant): Promise<void> {
  if (current.status !== 'active' || !current.expiresAt || !current.startsAt) return;
  const grant = await claimExtension(ctx, current);
  const pending = grant?.pendingExtension;
  if (!grant || !pending || !grant.expiresAt || !grant.startsAt) return;
  const key = `${grant.id}:extended:${pending.requestId}`;
  try {
    await ctx.connectors
      .forResource(grant.resourceId)
      .deliver(connectorEvent(grant, 'grant.extended', key, grant.startsAt, grant.expiresAt));
  } catch (error) {
    await recordFailure(ctx, grant, 'extend', error);
    return;
  }
  const done = await ctx.repos.grants.update(
    grant.id,
    { status: 'active', pendingExtensionAt: pending.nextAttemptAt },
    { unset: ['pendingExtension', 'lastError'] },
  );
  if (done) return;
  const latest = await ctx.repos.grants.get(grant.id);
  if (latest && latest.status !== 'active') {
    // Ended while the extension was in flight: the target may re-add access after our revocation.
    await revokeAgain(ctx, latest, `${grant.id}:revoked:after-extension:${pending.requestId}`);
  }
}
