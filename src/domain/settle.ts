/**
 * The effects of a move, finished idempotently. Every state change is one conditional write that
 * also records what it still owes (`unsettled` on the request or grant); its effects follow: the
 * audit event (under a key of its own, so it is recorded once), the timers (unique per job), the
 * messages (queued under idempotency keys, so queued once), the next job; then the mark is removed.
 * A crash anywhere in between leaves the mark, and the sweep runs the same function again, so
 * nothing a move owes is lost and nothing is done twice.
 */

import type { ServiceContext } from './context.js';
import { subtractDuration } from './duration.js';
import { DomainError } from './errors.js';
import { scheduleTimers } from './grants.js';
import type { AccessRequest, Grant } from './model.js';
import { resourceRefWith } from './owner-settings.js';
import type { ResourceAccess } from './policy-source.js';
import { refuse } from './refusals.js';
import { resourceRef } from './requests.js';

/**
 * The resource as messages show it, with the owners' window when one is set. `known`: the access
 * the live move read a moment ago for its own checks (it shows the same window); the sweep, which
 * finishes a move later, reads it afresh.
 */
async function refWithAccess(ctx: ServiceContext, resourceId: string, known?: ResourceAccess) {
  const resource = ctx.resource(resourceId);
  const access = known?.resourceId === resourceId ? known : await ctx.policy.access(resource);
  return resourceRefWith(resource, access);
}

/** Runs a move's effects now; a failure is left to the sweep (the mark stays), never to the caller. */
export async function settleNow(ctx: ServiceContext, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    ctx.log.error({ err: error }, 'settle.deferred');
  }
}

/**
 * Finishes what the request's last move owes. `followUp`: the approval's next step, when the
 * caller has it already (a live decision); otherwise it is worked out again (`onApproved` is
 * idempotent). `recovering`: run by the sweep, so the submission's own audit event is ensured too.
 * `access`: the resource's access as the live move just read it for its checks (see `refWithAccess`).
 */
export async function settleRequest(
  ctx: ServiceContext,
  request: AccessRequest,
  opts: { followUp?: () => Promise<void>; recovering?: boolean; access?: ResourceAccess } = {},
): Promise<void> {
  const status = request.unsettled;
  if (!status) return;
  const resource = resourceRef(ctx.resource(request.resourceId));
  const subject = { requestId: request.id, resourceId: request.resourceId };
  const log = ctx.log.child({ requestId: request.id });
  if (status === 'pending' || opts.recovering || request.decidedBy === 'system') {
    await ctx.audit(
      'request.created',
      request.requester.email,
      {
        ...subject,
        ...(request.grantId ? { grantId: request.grantId } : {}),
        details: { kind: request.kind, duration: request.duration, approval: request.approval },
      },
      `${request.id}:created`,
    );
  }
  switch (status) {
    case 'pending':
      // Auto-approval interrupted before its decision was stored: decided now, which settles it.
      if (request.approval === 'auto') {
        await autoApprove(ctx, request);
        return;
      }
      log.info({ resourceId: request.resourceId, kind: request.kind }, 'request.created');
      await ctx.scheduler.schedule('request.expire', request.decideBy, { id: request.id });
      await ctx.publishOrThrow({
        type: 'request.submitted',
        request,
        resource: await refWithAccess(ctx, request.resourceId, opts.access),
      });
      break;
    case 'approved':
    case 'denied': {
      if (request.decidedBy === 'system') {
        await ctx.audit('request.auto_approved', 'system', subject, `${request.id}:auto_approved`);
        log.info({}, 'request.auto_approved');
        await ctx.publishOrThrow({
          type: 'request.auto_approved',
          request,
          resource,
          informed: ctx.resource(request.resourceId).approvers.filter((a) => a !== request.requester.email),
        });
      } else {
        const details = {
          ...(request.reason ? { reason: request.reason } : {}),
          ...(request.decidedAs === 'admin' ? { as: 'admin' } : {}),
        };
        await ctx.audit(
          status === 'approved' ? 'request.approved' : 'request.denied',
          request.decidedBy ?? 'system',
          { ...subject, ...(Object.keys(details).length ? { details } : {}) },
          `${request.id}:${status}`,
        );
        log.info(
          { by: request.decidedBy, ...(request.decidedAs ? { as: request.decidedAs } : {}) },
          `request.${status}`,
        );
        await ctx.scheduler.cancel('request.expire', request.id);
        await ctx.publishOrThrow({
          type: 'request.decided',
          request,
          resource: await refWithAccess(ctx, request.resourceId, opts.access),
        });
      }
      if (status === 'approved') await (opts.followUp ?? (await ctx.onApproved(request)))();
      break;
    }
    case 'expired':
      await ctx.audit('request.expired', 'system', subject, `${request.id}:expired`);
      log.info({}, 'request.expired');
      await ctx.publishOrThrow({ type: 'request.expired', request, resource });
      break;
    case 'cancelled':
      await ctx.audit(
        'request.cancelled',
        request.decidedBy ?? request.requester.email,
        request.closedReason ? { ...subject, details: { reason: request.closedReason } } : subject,
        `${request.id}:cancelled`,
      );
      await ctx.scheduler.cancel('request.expire', request.id);
      await ctx.publishOrThrow({
        type: 'request.cancelled',
        request,
        // Closed with its resource: the owners' window, if that is why, is shown in each one's zone.
        resource: request.closedReason ? await refWithAccess(ctx, request.resourceId) : resource,
      });
      break;
  }
  await ctx.repos.requests.settle(request.id, status);
}

/**
 * Approves an auto-approved request on submission (or, after a crash, when the sweep finds it
 * pending). Refused when it would overlap a grant the requester already holds.
 */
export async function autoApprove(ctx: ServiceContext, request: AccessRequest): Promise<AccessRequest> {
  const approved = await ctx.repos.requests.decide(
    request.id,
    { status: 'approved', by: 'system', byName: 'Automatic approval' },
    ctx.clock.now(),
  );
  if (!approved) return (await ctx.repos.requests.get(request.id)) ?? request;
  let followUp: () => Promise<void>;
  try {
    followUp = await ctx.onApproved(approved);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    // It would overlap a grant the requester already holds (a race the store's key caught).
    const by = request.requester.email;
    await ctx.repos.requests.cancel(request.id, by, ctx.clock.now(), error.message);
    await ctx.repos.requests.settle(request.id, 'cancelled'); // the refusal tells them
    return refuse(
      ctx,
      { actor: by, action: 'request', requestId: request.id, resourceId: request.resourceId },
      error,
    );
  }
  ctx.metrics.request('auto_approved');
  await settleNow(ctx, () => settleRequest(ctx, approved, { followUp }));
  return approved;
}

/**
 * Finishes what the grant's last move owes (activated, extended or ended). `access`: the
 * resource's access as the live move just read it (see `refWithAccess`).
 */
export async function settleGrant(
  ctx: ServiceContext,
  grant: Grant,
  opts: { access?: ResourceAccess } = {},
): Promise<void> {
  const owed = grant.unsettled;
  if (!owed) return;
  const resource = resourceRef(ctx.resource(grant.resourceId));
  const subject = { grantId: grant.id, requestId: grant.requestId, resourceId: grant.resourceId };
  if (owed === 'activated') {
    await ctx.audit(
      'grant.activated',
      'system',
      { ...subject, ...(grant.expiresAt ? { details: { expiresAt: grant.expiresAt.toISOString() } } : {}) },
      `${grant.id}:activated`,
    );
    ctx.log.info({ grantId: grant.id, expiresAt: grant.expiresAt }, 'grant.activated');
    if (grant.status === 'active') await scheduleTimers(ctx, grant);
    await ctx.publishOrThrow({
      type: 'grant.activated',
      grant,
      resource: await refWithAccess(ctx, grant.resourceId, opts.access),
    });
  } else if (owed === 'ended') {
    const expired = grant.status === 'expired';
    await ctx.scheduler.cancel('grant.remind', grant.id);
    await ctx.scheduler.cancel('grant.expire', grant.id);
    await ctx.scheduler.cancel('grant.retry', grant.id);
    await ctx.audit(
      expired ? 'grant.expired' : 'grant.revoked',
      grant.endedBy ?? 'system',
      {
        ...subject,
        details: {
          reason: grant.endReason ?? 'expired',
          ...(grant.endComment ? { comment: grant.endComment } : {}),
        },
      },
      `${grant.id}:ended`,
    );
    ctx.log.info({ grantId: grant.id, reason: grant.endReason }, expired ? 'grant.expired' : 'grant.revoked');
    await ctx.publishOrThrow({ type: 'grant.ended', grant, resource });
  } else {
    const requestId = owed.slice('extended:'.length);
    const request = await ctx.repos.requests.get(requestId);
    if (request && grant.expiresAt) {
      await ctx.audit(
        'grant.extended',
        request.decidedBy ?? 'system',
        {
          ...subject,
          requestId,
          details: {
            from: subtractDuration(grant.expiresAt, request.duration).toISOString(),
            to: grant.expiresAt.toISOString(),
          },
        },
        `${grant.id}:extended:${requestId}`,
      );
      if (grant.status === 'active') await scheduleTimers(ctx, grant);
      await ctx.publishOrThrow({ type: 'grant.extended', grant, request, resource });
    }
    if (grant.pendingExtension) await ctx.advanceSoon(grant.id);
  }
  await ctx.repos.grants.update(
    grant.id,
    { status: grant.status, unsettled: owed },
    { unset: ['unsettled'] },
  );
}
