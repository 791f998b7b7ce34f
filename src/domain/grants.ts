/**
 * Grant lifecycle: provision through the connector (active only once it confirms), remind,
 * extend, end early, expire and revoke. Connector failures are retried with backoff through the
 * `grant.retry` job and reported to the resource's approvers after repeated failure; nothing is
 * marked done before the connector confirms. Every job handler here is idempotent.
 */

import type { ServiceContext } from './context.js';
import { addDuration, subtractDuration } from './duration.js';
import { DomainError } from './errors.js';
import type { ConnectorOperation } from './events.js';
import type { AccessRequest, Grant, Person } from './model.js';
import { canAdminister, durationOption, effectivePolicy } from './policy.js';
import { type ConnectorEvent, type ConnectorEventName, DuplicateKeyError } from './ports.js';
import { resourceRef } from './requests.js';

const lc = (s: string) => s.trim().toLowerCase();

/**
 * While a connector call is under way the grant carries `nextAttemptAt = now + LEASE_MS`, so if
 * the process dies mid-call the sweep picks the grant up again once the lease has run out.
 */
export const LEASE_MS = 60_000;
/** How far back the sweep looks for approvals that never got their grant recorded. */
export const RECOVERY_WINDOW_MS = 24 * 60 * 60_000;
const lease = (ctx: ServiceContext) => new Date(ctx.clock.now().getTime() + LEASE_MS);

function connectorEvent(
  grant: Grant,
  event: ConnectorEventName,
  key: string,
  startsAt: Date,
  expiresAt: Date,
) {
  const body: ConnectorEvent = {
    event,
    grant: {
      id: grant.id,
      resourceId: grant.resourceId,
      user: { email: grant.holder.email, name: grant.holder.name },
      startsAt: startsAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
      requestId: grant.requestId,
      justification: grant.justification,
    },
    idempotencyKey: key,
  };
  return body;
}

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
  try {
    await ctx.repos.grants.insert(grant);
  } catch (e) {
    if (!(e instanceof DuplicateKeyError)) throw e;
  }
  const stored = await ctx.repos.grants.findByRequestId(request.id);
  return async () => {
    if (stored) await provision(ctx, stored);
  };
}

async function recordFailure(
  ctx: ServiceContext,
  grant: Grant,
  operation: ConnectorOperation,
  error: unknown,
): Promise<void> {
  const now = ctx.clock.now();
  const message = error instanceof Error ? error.message : String(error);
  const resource = ctx.resource(grant.resourceId);
  const log = ctx.log.child({ grantId: grant.id });
  let updated: Grant | null;
  let attempts: number;
  if (operation === 'extend') {
    const pending = grant.pendingExtension;
    if (!pending) return;
    attempts = pending.attempts + 1;
    const nextAttemptAt = new Date(now.getTime() + ctx.backoffMs(attempts));
    updated = await ctx.repos.grants.update(
      grant.id,
      { status: 'active', ...(grant.expiresAt ? { expiresAt: grant.expiresAt } : {}) },
      { set: { pendingExtension: { ...pending, attempts, nextAttemptAt }, lastError: message } },
    );
    if (updated) await ctx.scheduler.schedule('grant.retry', nextAttemptAt, { id: grant.id });
  } else {
    attempts = grant.attempts + 1;
    const nextAttemptAt = new Date(now.getTime() + ctx.backoffMs(attempts));
    updated = await ctx.repos.grants.update(
      grant.id,
      { status: grant.status, attempts: grant.attempts },
      { set: { attempts, nextAttemptAt, lastError: message } },
    );
    if (updated) await ctx.scheduler.schedule('grant.retry', nextAttemptAt, { id: grant.id });
  }
  if (!updated) return; // someone else moved the grant on meanwhile
  log.warn({ operation, attempts, error: message }, 'connector.failed');
  await ctx.audit(
    operation === 'revoke' ? 'grant.revocation_failed' : 'grant.provisioning_failed',
    'system',
    {
      grantId: grant.id,
      requestId: grant.requestId,
      resourceId: grant.resourceId,
      details: { operation, attempts, error: message.slice(0, 300) },
    },
  );
  if (operation === 'provision' && attempts === 1) {
    await ctx.publish({
      type: 'grant.provisioning_delayed',
      grant: updated,
      resource: resourceRef(resource),
    });
  }
  if (operation === 'revoke' && attempts === 1) {
    await ctx.publish({ type: 'grant.revocation_delayed', grant: updated, resource: resourceRef(resource) });
  }
  if (attempts === ctx.reportAfterAttempts) {
    await ctx.publish({
      type: 'grant.connector_failing',
      grant: updated,
      resource: resourceRef(resource),
      operation,
      recipients: resource.approvers,
    });
  }
}

/** Grants access through the connector; the grant becomes active, and its time starts, on confirmation. */
/**
 * Claims the next connector attempt on a grant: only one caller (a retry job, the sweep, another
 * worker) wins, and the grant carries a lease meanwhile. Null when someone else has it.
 */
async function claim(ctx: ServiceContext, grant: Grant): Promise<Grant | null> {
  if (grant.nextAttemptAt && grant.nextAttemptAt > ctx.clock.now()) return null; // leased, or not due yet
  return ctx.repos.grants.update(
    grant.id,
    { status: grant.status, attempts: grant.attempts, nextAttemptAt: grant.nextAttemptAt ?? null },
    { set: { nextAttemptAt: lease(ctx) } },
  );
}

export async function provision(ctx: ServiceContext, current: Grant): Promise<void> {
  if (current.status !== 'provisioning') return;
  const grant = await claim(ctx, current);
  if (!grant) return;
  const startsAt = ctx.clock.now();
  const expiresAt = addDuration(startsAt, grant.duration);
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
    { status: 'provisioning' },
    { set: { status: 'active', startsAt, expiresAt, attempts: 0 }, unset: ['nextAttemptAt', 'lastError'] },
  );
  if (!active) {
    // Access was ended while the activation was in flight: the target may have applied the
    // activation after our revocation, so revoke once more under a key of its own.
    const latest = await ctx.repos.grants.get(grant.id);
    if (latest && latest.status !== 'provisioning' && latest.status !== 'active') {
      await ctx.connectors
        .forResource(grant.resourceId)
        .deliver(
          connectorEvent(grant, 'grant.revoked', `${grant.id}:revoked:after-activation`, startsAt, startsAt),
        )
        .catch(async (error: unknown) => {
          // Rare: tell people, since access may be open at the target with nothing left to revoke it.
          const message = error instanceof Error ? error.message : String(error);
          ctx.log.error({ err: error, grantId: grant.id }, 'connector.re_revoke_failed');
          await ctx.audit('grant.revocation_failed', 'system', {
            grantId: grant.id,
            requestId: grant.requestId,
            resourceId: grant.resourceId,
            details: { operation: 'revoke-after-activation', error: message.slice(0, 300) },
          });
          const resource = ctx.resource(grant.resourceId);
          await ctx.publish({
            type: 'grant.connector_failing',
            grant: { ...latest, lastError: message },
            resource: resourceRef(resource),
            operation: 'revoke',
            recipients: resource.approvers,
          });
        });
    }
    return;
  }
  await ctx.audit('grant.activated', 'system', {
    grantId: grant.id,
    requestId: grant.requestId,
    resourceId: grant.resourceId,
    details: { expiresAt: expiresAt.toISOString() },
  });
  ctx.log.info({ grantId: grant.id, expiresAt }, 'grant.activated');
  await scheduleTimers(ctx, active);
  await ctx.publish({
    type: 'grant.activated',
    grant: active,
    resource: resourceRef(ctx.resource(grant.resourceId)),
  });
}

function remindBeforeFor(ctx: ServiceContext, grant: Grant): string {
  const resource = ctx.resource(grant.resourceId);
  const policy = effectivePolicy(ctx.config, resource, grant.holder.email);
  return durationOption(policy, grant.duration)?.remindBefore ?? policy.remindBefore;
}

async function scheduleTimers(ctx: ServiceContext, grant: Grant): Promise<void> {
  if (!grant.expiresAt) return;
  const remindAt = subtractDuration(grant.expiresAt, remindBeforeFor(ctx, grant));
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
  const remindAt = subtractDuration(grant.expiresAt, remindBeforeFor(ctx, grant));
  if (now < remindAt) {
    await ctx.scheduler.schedule('grant.remind', remindAt, { id: grant.id });
    return;
  }
  const updated = await ctx.repos.grants.update(
    grantId,
    { status: 'active', expiresAt: grant.expiresAt },
    { set: { remindedFor: grant.expiresAt } },
  );
  if (!updated) return;
  const resource = ctx.resource(grant.resourceId);
  const policy = effectivePolicy(ctx.config, resource, grant.holder.email);
  await ctx.audit('grant.reminded', 'system', { grantId, resourceId: grant.resourceId });
  await ctx.publish({
    type: 'grant.reminder',
    grant: updated,
    resource: resourceRef(resource),
    extensionsAllowed: policy.extensions && ctx.config.resources.some((r) => r.id === grant.resourceId),
  });
}

async function applyExtension(ctx: ServiceContext, request: AccessRequest): Promise<() => Promise<void>> {
  const grant = request.grantId ? await ctx.repos.grants.get(request.grantId) : null;
  const nothing = async () => {};
  if (grant?.status !== 'active' || !grant.expiresAt) return nothing;
  if (grant.pendingExtension?.requestId === request.id) return () => deliverExtension(ctx, grant);
  const expiresAt = addDuration(grant.expiresAt, request.duration);
  const extended = await ctx.repos.grants.update(
    grant.id,
    { status: 'active', expiresAt: grant.expiresAt },
    {
      set: {
        expiresAt,
        pendingExtension: { requestId: request.id, attempts: 0, nextAttemptAt: lease(ctx) },
      },
      unset: ['remindedFor'],
    },
  );
  if (!extended) return nothing;
  await ctx.audit('grant.extended', request.decidedBy ?? 'system', {
    grantId: grant.id,
    requestId: request.id,
    resourceId: grant.resourceId,
    details: { from: grant.expiresAt.toISOString(), to: expiresAt.toISOString() },
  });
  await scheduleTimers(ctx, extended);
  return async () => {
    await ctx.publish({
      type: 'grant.extended',
      grant: extended,
      request,
      resource: resourceRef(ctx.resource(grant.resourceId)),
    });
    await deliverExtension(ctx, extended);
  };
}

/** Tells the connector about a moved expiry (`grant.extended`), retrying until it confirms. */
async function deliverExtension(ctx: ServiceContext, grant: Grant): Promise<void> {
  const pending = grant.pendingExtension;
  if (grant.status !== 'active' || !pending || !grant.expiresAt || !grant.startsAt) return;
  try {
    await ctx.connectors
      .forResource(grant.resourceId)
      .deliver(
        connectorEvent(
          grant,
          'grant.extended',
          `${grant.id}:extended:${pending.requestId}`,
          grant.startsAt,
          grant.expiresAt,
        ),
      );
  } catch (error) {
    await recordFailure(ctx, grant, 'extend', error);
    return;
  }
  await ctx.repos.grants.update(
    grant.id,
    { status: 'active', expiresAt: grant.expiresAt },
    { unset: ['pendingExtension', 'lastError'] },
  );
}

/** Job `grant.expire`: starts revocation of an active grant whose time is up. */
export async function expireGrant(ctx: ServiceContext, grantId: string): Promise<void> {
  const grant = await ctx.repos.grants.get(grantId);
  if (!grant) return;
  if (grant.status === 'revoking') return revoke(ctx, grant);
  if (grant.status !== 'active' || !grant.expiresAt || grant.expiresAt > ctx.clock.now()) return;
  const revoking = await ctx.repos.grants.update(
    grantId,
    { status: 'active', expiresAt: grant.expiresAt },
    {
      set: {
        status: 'revoking',
        endReason: 'expired',
        endedBy: 'system',
        attempts: 0,
        nextAttemptAt: ctx.clock.now(), // due now: claimed just below
      },
    },
  );
  if (revoking) await revoke(ctx, revoking);
}

/** "End access now" by the holder, or a revocation by an admin or the resource's owner. */
export async function endAccess(ctx: ServiceContext, grantId: string, actor: Person): Promise<Grant> {
  const actorEmail = lc(actor.email);
  const grant = await ctx.repos.grants.get(grantId);
  const refuse = async (error: DomainError): Promise<never> => {
    await ctx.audit('action.refused', actorEmail, { grantId, details: { action: 'end', code: error.code } });
    throw error;
  };
  if (!grant) return refuse(new DomainError('NOT_FOUND', 'This access no longer exists.'));
  const isHolder = grant.holder.email === actorEmail;
  const resource = ctx.config.resources.find((r) => r.id === grant.resourceId);
  const isAdmin = resource ? canAdminister(ctx.config, resource, actorEmail) : false;
  if (!isHolder && !isAdmin) {
    return refuse(new DomainError('NOT_HOLDER', 'Only the holder or an administrator can end this access.'));
  }
  if (grant.status !== 'active' && grant.status !== 'provisioning') {
    if (grant.status === 'revoking') return grant;
    return refuse(new DomainError('GRANT_NOT_ACTIVE', 'This access has already ended.'));
  }
  const revoking = await ctx.repos.grants.update(
    grantId,
    { status: grant.status },
    {
      set: {
        status: 'revoking',
        endReason: isHolder ? 'ended-by-holder' : 'revoked-by-admin',
        endedBy: actorEmail,
        attempts: 0,
        nextAttemptAt: ctx.clock.now(), // due now: claimed just below
      },
    },
  );
  if (!revoking) return refuse(new DomainError('GRANT_NOT_ACTIVE', 'This access has already ended.'));
  ctx.log.info({ grantId, by: actorEmail }, 'grant.ending');
  await revoke(ctx, revoking);
  return (await ctx.repos.grants.get(grantId)) ?? revoking;
}

/** Takes access away through the connector; the grant ends only once the connector confirms. */
export async function revoke(ctx: ServiceContext, current: Grant): Promise<void> {
  if (current.status !== 'revoking') return;
  const grant = await claim(ctx, current);
  if (!grant) return;
  const now = ctx.clock.now();
  try {
    await ctx.connectors
      .forResource(grant.resourceId)
      .deliver(
        connectorEvent(
          grant,
          'grant.revoked',
          `${grant.id}:revoked`,
          grant.startsAt ?? now,
          grant.expiresAt ?? now,
        ),
      );
  } catch (error) {
    await recordFailure(ctx, grant, 'revoke', error);
    return;
  }
  const final = grant.endReason === 'expired' ? 'expired' : 'revoked';
  const ended = await ctx.repos.grants.update(
    grant.id,
    { status: 'revoking' },
    {
      set: { status: final, endedAt: now, attempts: 0 },
      unset: ['nextAttemptAt', 'lastError', 'pendingExtension'],
    },
  );
  if (!ended) return;
  await ctx.scheduler.cancel('grant.remind', grant.id);
  await ctx.scheduler.cancel('grant.expire', grant.id);
  await ctx.scheduler.cancel('grant.retry', grant.id);
  await ctx.audit(final === 'expired' ? 'grant.expired' : 'grant.revoked', grant.endedBy ?? 'system', {
    grantId: grant.id,
    requestId: grant.requestId,
    resourceId: grant.resourceId,
    details: { reason: grant.endReason ?? 'expired' },
  });
  ctx.log.info(
    { grantId: grant.id, reason: grant.endReason },
    final === 'expired' ? 'grant.expired' : 'grant.revoked',
  );
  await ctx.publish({
    type: 'grant.ended',
    grant: ended,
    resource: resourceRef(ctx.resource(grant.resourceId)),
  });
}

/** Job `grant.retry` and the sweep: moves a grant along whatever is due for it. */
export async function advanceGrant(ctx: ServiceContext, grantId: string): Promise<void> {
  const grant = await ctx.repos.grants.get(grantId);
  if (!grant) return;
  const now = ctx.clock.now();
  switch (grant.status) {
    case 'provisioning':
      return provision(ctx, grant);
    case 'revoking':
      return revoke(ctx, grant);
    case 'active':
      if (grant.expiresAt && grant.expiresAt <= now) return expireGrant(ctx, grant.id);
      if (grant.pendingExtension && grant.pendingExtension.nextAttemptAt <= now)
        return deliverExtension(ctx, grant);
      return;
    default:
      return;
  }
}

/**
 * The periodic sweep: whatever is overdue (a lost job, a crash, downtime) is done now, so access
 * can never stay open past its expiry. Returns how many items it moved along.
 */
export async function sweep(
  ctx: ServiceContext,
  expireRequest: (id: string) => Promise<void>,
): Promise<number> {
  const now = ctx.clock.now();
  let count = 0;
  for (const grant of await ctx.repos.grants.findDue(now, 200)) {
    try {
      await advanceGrant(ctx, grant.id);
    } catch (error) {
      ctx.log.error({ err: error, grantId: grant.id }, 'sweep.grant_failed');
    }
    count++;
  }
  for (const request of await ctx.repos.requests.findOverdue(now, 200)) {
    try {
      await expireRequest(request.id);
    } catch (error) {
      ctx.log.error({ err: error, requestId: request.id }, 'sweep.request_failed');
    }
    count++;
  }
  // An approval whose grant was never recorded (a crash between the two writes) is finished here.
  const recent = await ctx.repos.requests.list({
    status: 'approved',
    kind: 'access',
    decidedSince: new Date(now.getTime() - RECOVERY_WINDOW_MS),
    limit: 200,
  });
  for (const request of recent) {
    if (await ctx.repos.grants.findByRequestId(request.id)) continue;
    ctx.log.warn({ requestId: request.id }, 'sweep.approval_without_grant');
    try {
      await (await onApproved(ctx, request))();
    } catch (error) {
      ctx.log.error({ err: error, requestId: request.id }, 'sweep.request_failed');
    }
    count++;
  }
  return count;
}
