/**
 * Acting on a submitted request: decide (approve or deny, re-checked against the policy in force
 * now), cancel by the requester, and the `request.expire` job. Each refusal says what already
 * happened to the request (`describeOutcome`). Every state change is a conditional write in the
 * store; only the caller whose write won publishes an event, so repeats are harmless.
 */

import type { ServiceContext } from './context.js';
import { normalizeEmail } from './email.js';
import { DomainError } from './errors.js';
import type { AccessRequest, Person } from './model.js';
import { closedReason, resourceRefWith } from './owner-settings.js';
import { canRequest, checkDuration, effectivePolicy, eligibleApprovers } from './policy.js';
import { recordRefusal, refuse } from './refusals.js';
import { MAX_JUSTIFICATION, resourceRef } from './requests.js';
import { formatTime } from './views/time.js';

/** What happened to a request, for someone who tries to act on it; times in their own zone. */
function describeOutcome(ctx: ServiceContext, r: AccessRequest, tz: string | undefined): DomainError {
  const when = r.decidedAt ? ` (${formatTime(r.decidedAt, tz)})` : '';
  switch (r.status) {
    case 'approved':
      return new DomainError(
        'ALREADY_DECIDED',
        `${r.decidedByName ?? r.decidedBy} already approved this request${when}.`,
      );
    case 'denied':
      return new DomainError(
        'ALREADY_DECIDED',
        `${r.decidedByName ?? r.decidedBy} already denied this request${when}.`,
      );
    case 'cancelled':
      return new DomainError('ALREADY_DECIDED', `${r.requester.name} cancelled this request${when}.`);
    case 'expired':
      return new DomainError('REQUEST_EXPIRED', 'This request expired before anyone decided.');
    default:
      return r.decideBy <= ctx.clock.now()
        ? new DomainError('REQUEST_EXPIRED', 'This request expired before anyone decided.')
        : new DomainError('ALREADY_DECIDED', 'This request can no longer be decided.');
  }
}

/**
 * Why `actor` may not make `decision` on `request` now, or null when they may. Changes nothing:
 * the dry run (`checkDecision`) and `decideRequest` share it. `overdue` is set when the request is
 * pending past its deadline (its expiry job has not run yet).
 */
async function refusalFor(
  ctx: ServiceContext,
  request: AccessRequest | null,
  actorEmail: string,
  tz: string | undefined,
  decision: 'approve' | 'deny',
): Promise<{ error: DomainError; overdue?: boolean; extensionEnded?: boolean } | null> {
  if (!request) return { error: new DomainError('NOT_FOUND', 'This request no longer exists.') };
  if (request.requester.email === actorEmail) {
    return { error: new DomainError('SELF_APPROVAL', 'You cannot decide your own request.') };
  }
  if (!request.approvers.includes(actorEmail)) {
    return {
      error: new DomainError('NOT_AN_APPROVER', 'Only the approvers chosen for this request can decide it.'),
    };
  }
  if (request.status === 'pending' && request.decideBy <= ctx.clock.now()) {
    return {
      error: new DomainError('REQUEST_EXPIRED', 'This request expired before anyone decided.'),
      overdue: true,
    };
  }
  if (request.status !== 'pending') return { error: describeOutcome(ctx, request, tz) };
  const resource = ctx.resource(request.resourceId);
  if (!eligibleApprovers(resource, request.requester.email).includes(actorEmail)) {
    return {
      error: new DomainError('NOT_AN_APPROVER', `You are no longer an approver of ${resource.name}.`),
    };
  }
  if (decision === 'deny') return null;
  if (request.kind === 'access') {
    const [held] = await ctx.repos.grants.list({
      holderEmail: request.requester.email,
      resourceId: request.resourceId,
      status: ['provisioning', 'active'],
      limit: 1,
    });
    if (held) {
      return {
        error: new DomainError(
          'ALREADY_HAS_ACCESS',
          `${request.requester.name} already has access to ${resource.name}; approving this would overlap it.`,
        ),
      };
    }
  }
  // Re-validate against the policy in force now, not the one at submission.
  const closed = closedReason(resource, await ctx.policy.access(resource), ctx.clock.now(), tz);
  if (closed) return { error: new DomainError('RESOURCE_CLOSED', closed) };
  if (!canRequest(ctx.config, resource, request.requester.email)) {
    return {
      error: new DomainError(
        'NOT_ALLOWED_TO_REQUEST',
        `${request.requester.name} is no longer allowed to request ${resource.name}.`,
      ),
    };
  }
  const policy = effectivePolicy(ctx.config, resource, request.requester.email);
  const duration = checkDuration(policy, request.duration);
  if (!duration.ok) {
    return {
      error: new DomainError(
        'DURATION_OUT_OF_POLICY',
        `The requested duration is no longer allowed: ${duration.message}`,
      ),
    };
  }
  if (request.kind === 'extension' && request.grantId) {
    const grant = await ctx.repos.grants.get(request.grantId);
    if (grant?.status !== 'active') {
      return {
        error: new DomainError('GRANT_NOT_ACTIVE', 'The access this extension was for has already ended.'),
        extensionEnded: true,
      };
    }
  }
  return null;
}

/**
 * The dry run of `decideRequest`: the refusal `decide` would give, or null when `actor` may make
 * this decision now. Changes nothing but the audit trail (a refusal is recorded, as every refused
 * action is), so a front end can ask before it opens a form (e.g. the deny reason).
 */
export async function checkDecision(
  ctx: ServiceContext,
  requestId: string,
  actor: Person,
  decision: 'approve' | 'deny',
): Promise<DomainError | null> {
  const actorEmail = normalizeEmail(actor.email);
  const request = await ctx.repos.requests.get(requestId);
  const refusal = await refusalFor(ctx, request, actorEmail, actor.tz, decision);
  if (!refusal) return null;
  await recordRefusal(ctx, { actor: actorEmail, action: decision, requestId }, refusal.error.code);
  return refusal.error;
}

export async function decideRequest(
  ctx: ServiceContext,
  requestId: string,
  actor: Person,
  decision: 'approve' | 'deny',
  reason?: string,
): Promise<AccessRequest> {
  const actorEmail = normalizeEmail(actor.email);
  const refused = (error: DomainError) =>
    refuse(ctx, { actor: actorEmail, action: decision, requestId }, error);
  const request = await ctx.repos.requests.get(requestId);
  const refusal = await refusalFor(ctx, request, actorEmail, actor.tz, decision);
  if (refusal && request) {
    if (refusal.overdue) {
      // Overdue but its expiry job has not run yet: expire it now, so every card says so.
      await expireRequest(ctx, request.id);
      return refused(describeOutcome(ctx, (await ctx.repos.requests.get(request.id)) ?? request, actor.tz));
    }
    if (refusal.extensionEnded) {
      const cancelled = await ctx.repos.requests.cancel(
        request.id,
        request.requester.email,
        ctx.clock.now(),
        'The access it would extend has already ended.',
      );
      if (cancelled) {
        await ctx.publish({
          type: 'request.cancelled',
          request: cancelled,
          resource: resourceRef(ctx.resource(request.resourceId)),
        });
      }
    }
  }
  if (refusal || !request)
    return refused(refusal?.error ?? new DomainError('NOT_FOUND', 'This request no longer exists.'));
  const now = ctx.clock.now();
  const resource = ctx.resource(request.resourceId);
  const trimmedReason = reason?.trim().slice(0, MAX_JUSTIFICATION);
  const decided = await ctx.repos.requests.decide(
    request.id,
    {
      status: decision === 'approve' ? 'approved' : 'denied',
      by: actorEmail,
      byName: actor.name,
      ...(trimmedReason ? { reason: trimmedReason } : {}),
    },
    now,
  );
  if (!decided) {
    const latest = (await ctx.repos.requests.get(request.id)) ?? request;
    return refused(describeOutcome(ctx, latest, actor.tz));
  }
  // Record what the approval means first: a crash from here on is finished by the sweep.
  let followUp: (() => Promise<void>) | undefined;
  try {
    followUp = decided.status === 'approved' ? await ctx.onApproved(decided) : undefined;
  } catch (error) {
    if (error instanceof DomainError) return refused(error); // taken back: it would overlap a grant
    throw error;
  }
  await ctx.audit(decision === 'approve' ? 'request.approved' : 'request.denied', actorEmail, {
    requestId: decided.id,
    resourceId: decided.resourceId,
    ...(trimmedReason ? { details: { reason: trimmedReason } } : {}),
  });
  ctx.log.info(
    { requestId: decided.id, by: actorEmail },
    decision === 'approve' ? 'request.approved' : 'request.denied',
  );
  await ctx.scheduler.cancel('request.expire', decided.id);
  const ref = resourceRefWith(resource, await ctx.policy.access(resource));
  await ctx.publish({ type: 'request.decided', request: decided, resource: ref });
  await followUp?.();
  return decided;
}

export async function cancelRequest(
  ctx: ServiceContext,
  requestId: string,
  actor: Person,
): Promise<AccessRequest> {
  const actorEmail = normalizeEmail(actor.email);
  const request = await ctx.repos.requests.get(requestId);
  const refused = (error: DomainError) =>
    refuse(ctx, { actor: actorEmail, action: 'cancel', requestId }, error);
  if (!request) return refused(new DomainError('NOT_FOUND', 'This request no longer exists.'));
  if (request.requester.email !== actorEmail) {
    return refused(new DomainError('NOT_REQUESTER', 'Only the person who asked can cancel this request.'));
  }
  const cancelled = await ctx.repos.requests.cancel(requestId, actorEmail, ctx.clock.now());
  if (!cancelled) {
    const latest = (await ctx.repos.requests.get(requestId)) ?? request;
    return refused(describeOutcome(ctx, latest, actor.tz));
  }
  await ctx.audit('request.cancelled', actorEmail, { requestId, resourceId: cancelled.resourceId });
  await ctx.scheduler.cancel('request.expire', requestId);
  await ctx.publish({
    type: 'request.cancelled',
    request: cancelled,
    resource: resourceRef(ctx.resource(cancelled.resourceId)),
  });
  return cancelled;
}

/** Job `request.expire`: idempotent; does nothing unless the request is pending and overdue. */
export async function expireRequest(ctx: ServiceContext, requestId: string): Promise<void> {
  const expired = await ctx.repos.requests.expire(requestId, ctx.clock.now());
  if (!expired) return;
  await ctx.audit('request.expired', 'system', { requestId, resourceId: expired.resourceId });
  ctx.log.info({ requestId }, 'request.expired');
  await ctx.publish({
    type: 'request.expired',
    request: expired,
    resource: resourceRef(ctx.resource(expired.resourceId)),
  });
}
