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
import { closedReason } from './owner-settings.js';
import { canRequest, checkDuration, effectivePolicy, eligibleApprovers } from './policy.js';
import type { ResourceAccess } from './policy-source.js';
import { recordRefusal, refuse } from './refusals.js';
import { MAX_JUSTIFICATION } from './requests.js';
import { canDecideAsAdmin } from './roles.js';
import { settleNow, settleRequest } from './settle.js';
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
      if (r.closedReason) {
        return new DomainError(
          'ALREADY_DECIDED',
          `The resource's owners closed access to it${when}, so this request can no longer be decided.`,
        );
      }
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
 * How `actorEmail` may decide `request`: as one of its chosen approvers (still eligible under the
 * policy in force), or else as an admin (an admin decision), or not at all.
 */
function decidingRole(ctx: ServiceContext, request: AccessRequest, actorEmail: string) {
  const resource = ctx.resource(request.resourceId);
  const chosen = request.approvers.includes(actorEmail);
  if (chosen && eligibleApprovers(resource, request.requester.email).includes(actorEmail)) return 'approver';
  if (canDecideAsAdmin(ctx.config, actorEmail)) return 'admin';
  return chosen ? 'no-longer-approver' : 'none';
}

type Refusal = { error: DomainError; overdue?: boolean; extensionEnded?: boolean };
/** What a decision may go ahead as, and the resource's access its checks read (an approval's). */
type Allowed = { as: 'approver' | 'admin'; access?: ResourceAccess };

/**
 * Why `actor` may not make `decision` on `request` now, or what they may decide as (`approver`,
 * or `admin` for an admin decision). Changes nothing: the dry run (`checkDecision`) and
 * `decideRequest` share it. `overdue` is set when the request is pending past its deadline (its
 * expiry job has not run yet). Nobody decides their own request, admins included.
 */
async function refusalFor(
  ctx: ServiceContext,
  request: AccessRequest | null,
  actorEmail: string,
  tz: string | undefined,
  decision: 'approve' | 'deny',
): Promise<Refusal | Allowed> {
  if (!request) return { error: new DomainError('NOT_FOUND', 'This request no longer exists.') };
  if (request.requester.email === actorEmail) {
    return { error: new DomainError('SELF_APPROVAL', 'You cannot decide your own request.') };
  }
  const role = decidingRole(ctx, request, actorEmail);
  if (role === 'none') {
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
  if (role === 'no-longer-approver') {
    return {
      error: new DomainError('NOT_AN_APPROVER', `You are no longer an approver of ${resource.name}.`),
    };
  }
  const allowed: Allowed = { as: role };
  const refusal = decision === 'deny' ? null : await approvalRefusal(ctx, request, tz, allowed);
  return refusal ?? allowed;
}

/**
 * What stops an approval (not a denial) of a pending request under the policy in force now. The
 * access it read is left in `reads`.
 */
async function approvalRefusal(
  ctx: ServiceContext,
  request: AccessRequest,
  tz: string | undefined,
  reads: { access?: ResourceAccess },
): Promise<Refusal | null> {
  const resource = ctx.resource(request.resourceId);
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
  const access = await ctx.policy.access(resource);
  reads.access = access;
  const closed = closedReason(resource, access, ctx.clock.now(), tz);
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
  if (!('error' in refusal)) return null;
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
  const verdict = await refusalFor(ctx, request, actorEmail, actor.tz, decision);
  const refusal = 'error' in verdict ? verdict : null;
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
      if (cancelled) await settleNow(ctx, () => settleRequest(ctx, cancelled));
    }
  }
  if (refusal || !request)
    return refused(refusal?.error ?? new DomainError('NOT_FOUND', 'This request no longer exists.'));
  const now = ctx.clock.now();
  const trimmedReason = reason?.trim().slice(0, MAX_JUSTIFICATION);
  const decided = await ctx.repos.requests.decide(
    request.id,
    {
      status: decision === 'approve' ? 'approved' : 'denied',
      by: actorEmail,
      byName: actor.name,
      ...(trimmedReason ? { reason: trimmedReason } : {}),
      ...('as' in verdict && verdict.as === 'admin' ? { asAdmin: true } : {}),
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
    // The decision is stored and marked unsettled: the sweep records the grant and tells everyone.
    ctx.log.error({ err: error, requestId: decided.id }, 'settle.deferred');
    ctx.metrics.decision('approved', latencyMs(decided));
    return decided;
  }
  ctx.metrics.decision(decided.status === 'approved' ? 'approved' : 'denied', latencyMs(decided));
  // Audit, timers, everyone's messages and the grant's next step: see ./settle.ts.
  // The approvers' cards show the access the checks above read.
  const access = 'access' in verdict ? verdict.access : undefined;
  await settleNow(ctx, () =>
    settleRequest(ctx, decided, { ...(followUp ? { followUp } : {}), ...(access ? { access } : {}) }),
  );
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
  ctx.metrics.decision('cancelled');
  await settleNow(ctx, () => settleRequest(ctx, cancelled));
  return cancelled;
}

/** From submission to decision, for the decision-latency histogram. */
function latencyMs(r: AccessRequest): number {
  return (r.decidedAt?.getTime() ?? r.createdAt.getTime()) - r.createdAt.getTime();
}

/** Job `request.expire`: idempotent; does nothing unless the request is pending and overdue. */
export async function expireRequest(ctx: ServiceContext, requestId: string): Promise<void> {
  const expired = await ctx.repos.requests.expire(requestId, ctx.clock.now());
  if (!expired) return;
  ctx.metrics.decision('expired');
  await settleNow(ctx, () => settleRequest(ctx, expired));
}
