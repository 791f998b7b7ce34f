/**
 * Request operations: submit (with a dry run that explains every refusal), decide, cancel and
 * expire. Every state change is a conditional write in the store; only the caller whose write
 * won publishes an event, so repeats are harmless.
 */

import type { ServiceContext } from './context.js';
import { addDuration } from './duration.js';
import { DomainError, type ErrorField } from './errors.js';
import type { ResourceRef } from './events.js';
import type { AccessRequest, Person } from './model.js';
import {
  type AccessConfig,
  canRequest,
  checkDuration,
  effectivePolicy,
  eligibleApprovers,
  type ResourceConfig,
} from './policy.js';
import { DuplicateKeyError } from './ports.js';
import { formatTime } from './views/time.js';

export const MAX_JUSTIFICATION = 2000;
export const MAX_TICKET = 200;

export interface SubmitInput {
  requester: Person;
  resourceId: string;
  approvers: string[];
  duration: string;
  justification: string;
  ticket?: string;
  /** Idempotency key of the submission (the Slack view id, a Teams activity id …). */
  submissionKey: string;
  /** Present for an extension of this grant. */
  grantId?: string;
}

export interface FieldError {
  field: ErrorField;
  code: DomainError['code'];
  message: string;
}

export function resourceRef(r: ResourceConfig): ResourceRef {
  return { id: r.id, name: r.name };
}

const lc = (s: string) => s.trim().toLowerCase();

/**
 * The dry run: everything that would make `submit` refuse, per field, without changing anything.
 * An empty list means the submission is acceptable.
 */
/** Refusals that are about who may do what (not typos): each is written to the audit trail. */
const SECURITY_CODES = new Set<FieldError['code']>([
  'NOT_ALLOWED_TO_REQUEST',
  'SELF_APPROVAL',
  'APPROVER_NOT_ELIGIBLE',
  'NOT_HOLDER',
  'EXTENSIONS_DISABLED',
]);

/** The dry run, with refusals about permissions recorded in the audit trail. */
export async function checkAndAuditSubmission(
  ctx: ServiceContext,
  input: SubmitInput,
): Promise<FieldError[]> {
  const errors = await checkSubmission(ctx, input);
  for (const e of errors.filter((x) => SECURITY_CODES.has(x.code))) {
    await ctx.audit('action.refused', lc(input.requester.email), {
      resourceId: input.resourceId,
      ...(input.grantId ? { grantId: input.grantId } : {}),
      details: { action: input.grantId ? 'extend' : 'request', code: e.code },
    });
    ctx.log.warn({ actor: lc(input.requester.email), code: e.code }, 'action.refused');
  }
  return errors;
}

export async function checkSubmission(ctx: ServiceContext, input: SubmitInput): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const requester = lc(input.requester.email);
  const resource = ctx.config.resources.find((r) => r.id === input.resourceId);
  if (!resource) {
    return [{ field: 'resource', code: 'RESOURCE_UNKNOWN', message: 'Choose a resource from the list.' }];
  }
  if (!canRequest(ctx.config, resource, requester)) {
    return [
      {
        field: 'resource',
        code: 'NOT_ALLOWED_TO_REQUEST',
        message: `You are not allowed to request access to ${resource.name}.`,
      },
    ];
  }
  const policy = effectivePolicy(ctx.config, resource, requester);
  if (!input.grantId) {
    // One grant per person and resource at a time: overlapping grants would let the first
    // revocation take away access the second still promises (a user group has one membership).
    const [held] = await ctx.repos.grants.list({
      holderEmail: requester,
      resourceId: resource.id,
      status: ['provisioning', 'active'],
      limit: 1,
    });
    if (held) {
      errors.push({
        field: 'resource',
        code: 'ALREADY_HAS_ACCESS',
        message: `You already have access to ${resource.name}. Use “Request extension” in the reminder to ask for more time.`,
      });
    }
  }
  if (input.grantId) {
    const grant = await ctx.repos.grants.get(input.grantId);
    if (!grant || grant.resourceId !== resource.id || lc(grant.holder.email) !== requester) {
      errors.push({ field: 'resource', code: 'NOT_HOLDER', message: 'You can only extend your own access.' });
    } else if (grant.status !== 'active') {
      errors.push({
        field: 'resource',
        code: 'GRANT_NOT_ACTIVE',
        message: 'This access has already ended; request it again instead.',
      });
    }
    if (!policy.extensions) {
      errors.push({
        field: 'resource',
        code: 'EXTENSIONS_DISABLED',
        message: `Extensions are turned off for ${resource.name}.`,
      });
    }
  }
  const duration = checkDuration(policy, input.duration);
  if (!duration.ok)
    errors.push({ field: 'duration', code: 'DURATION_OUT_OF_POLICY', message: duration.message });
  const justification = input.justification.trim();
  if (!justification) {
    errors.push({
      field: 'justification',
      code: 'JUSTIFICATION_REQUIRED',
      message: 'Say why you need access.',
    });
  } else if (justification.length > MAX_JUSTIFICATION) {
    errors.push({
      field: 'justification',
      code: 'INVALID_INPUT',
      message: `Keep the justification under ${MAX_JUSTIFICATION} characters.`,
    });
  }
  if (policy.approval === 'manual') {
    const eligible = new Set(eligibleApprovers(resource, requester));
    const chosen = input.approvers.map(lc);
    if (chosen.length === 0) {
      errors.push({
        field: 'approvers',
        code: 'NO_APPROVERS',
        message:
          eligible.size === 0
            ? 'No administrators found for this resource.'
            : 'Choose at least one approver.',
      });
    } else if (chosen.includes(requester)) {
      errors.push({
        field: 'approvers',
        code: 'SELF_APPROVAL',
        message: 'You cannot approve your own request.',
      });
    } else if (chosen.some((a) => !eligible.has(a))) {
      errors.push({
        field: 'approvers',
        code: 'APPROVER_NOT_ELIGIBLE',
        message: `Only the approvers of ${resource.name} can be chosen.`,
      });
    }
  }
  return errors;
}

/** Submits a request (or an extension). A replay of the same submission returns the first result. */
export async function submitRequest(ctx: ServiceContext, input: SubmitInput): Promise<AccessRequest> {
  const existing = await ctx.repos.requests.findBySubmissionKey(input.submissionKey);
  if (existing) return existing;
  const errors = await checkSubmission(ctx, input);
  const first = errors[0];
  if (first) {
    await ctx.audit('action.refused', lc(input.requester.email), {
      resourceId: input.resourceId,
      details: { action: input.grantId ? 'extend' : 'request', code: first.code },
    });
    throw new DomainError(first.code, first.message, first.field);
  }
  const resource = ctx.resource(input.resourceId);
  const requesterEmail = lc(input.requester.email);
  const policy = effectivePolicy(ctx.config, resource, requesterEmail);
  const now = ctx.clock.now();
  const request: AccessRequest = {
    id: ctx.newId(),
    kind: input.grantId ? 'extension' : 'access',
    ...(input.grantId ? { grantId: input.grantId } : {}),
    resourceId: resource.id,
    requester: { email: requesterEmail, name: input.requester.name },
    approvers: policy.approval === 'manual' ? [...new Set(input.approvers.map(lc))] : [],
    duration: input.duration,
    justification: input.justification.trim(),
    ...(input.ticket?.trim() ? { ticket: input.ticket.trim().slice(0, MAX_TICKET) } : {}),
    approval: policy.approval,
    status: 'pending',
    createdAt: now,
    decideBy: addDuration(now, policy.approvalWindow),
    submissionKey: input.submissionKey,
  };
  try {
    await ctx.repos.requests.insert(request);
  } catch (e) {
    if (e instanceof DuplicateKeyError) {
      const winner = await ctx.repos.requests.findBySubmissionKey(input.submissionKey);
      if (winner) return winner;
    }
    throw e;
  }
  const log = ctx.log.child({ requestId: request.id });
  await ctx.audit('request.created', requesterEmail, {
    requestId: request.id,
    resourceId: resource.id,
    grantId: request.grantId,
    details: { kind: request.kind, duration: request.duration, approval: request.approval },
  });
  log.info({ resourceId: resource.id, kind: request.kind }, 'request.created');

  if (policy.approval === 'auto') {
    const approved = await ctx.repos.requests.decide(
      request.id,
      { status: 'approved', by: 'system', byName: 'Automatic approval' },
      now,
    );
    if (!approved) return (await ctx.repos.requests.get(request.id)) ?? request;
    await ctx.audit('request.auto_approved', 'system', { requestId: request.id, resourceId: resource.id });
    log.info({}, 'request.auto_approved');
    const followUp = await ctx.onApproved(approved);
    await ctx.publish({
      type: 'request.auto_approved',
      request: approved,
      resource: resourceRef(resource),
      informed: resource.approvers.filter((a) => a !== requesterEmail),
    });
    await followUp();
    return approved;
  }
  await ctx.scheduler.schedule('request.expire', request.decideBy, { id: request.id });
  await ctx.publish({ type: 'request.submitted', request, resource: resourceRef(resource) });
  return request;
}

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

export async function decideRequest(
  ctx: ServiceContext,
  requestId: string,
  actor: Person,
  decision: 'approve' | 'deny',
  reason?: string,
): Promise<AccessRequest> {
  const actorEmail = lc(actor.email);
  const refuse = async (error: DomainError): Promise<never> => {
    await ctx.audit('action.refused', actorEmail, {
      requestId,
      details: { action: decision, code: error.code },
    });
    ctx.log.warn({ requestId, actor: actorEmail, code: error.code }, 'action.refused');
    throw error;
  };
  const request = await ctx.repos.requests.get(requestId);
  if (!request) return refuse(new DomainError('NOT_FOUND', 'This request no longer exists.'));
  if (request.requester.email === actorEmail) {
    return refuse(new DomainError('SELF_APPROVAL', 'You cannot decide your own request.'));
  }
  if (!request.approvers.includes(actorEmail)) {
    return refuse(
      new DomainError('NOT_AN_APPROVER', 'Only the approvers chosen for this request can decide it.'),
    );
  }
  const now = ctx.clock.now();
  if (request.status === 'pending' && request.decideBy <= now) {
    // Overdue but its expiry job has not run yet: expire it now, so every card says so.
    await expireRequest(ctx, request.id);
    return refuse(describeOutcome(ctx, (await ctx.repos.requests.get(request.id)) ?? request, actor.tz));
  }
  if (request.status !== 'pending') return refuse(describeOutcome(ctx, request, actor.tz));

  const resource = ctx.resource(request.resourceId);
  if (!eligibleApprovers(resource, request.requester.email).includes(actorEmail)) {
    return refuse(new DomainError('NOT_AN_APPROVER', `You are no longer an approver of ${resource.name}.`));
  }
  if (decision === 'approve') {
    // Re-validate against the policy in force now, not the one at submission.
    if (!canRequest(ctx.config, resource, request.requester.email)) {
      return refuse(
        new DomainError(
          'NOT_ALLOWED_TO_REQUEST',
          `${request.requester.name} is no longer allowed to request ${resource.name}.`,
        ),
      );
    }
    const policy = effectivePolicy(ctx.config, resource, request.requester.email);
    const duration = checkDuration(policy, request.duration);
    if (!duration.ok) {
      return refuse(
        new DomainError(
          'DURATION_OUT_OF_POLICY',
          `The requested duration is no longer allowed: ${duration.message}`,
        ),
      );
    }
    if (request.kind === 'extension' && request.grantId) {
      const grant = await ctx.repos.grants.get(request.grantId);
      if (grant?.status !== 'active') {
        const cancelled = await ctx.repos.requests.cancel(
          request.id,
          request.requester.email,
          now,
          'The access it would extend has already ended.',
        );
        if (cancelled)
          await ctx.publish({
            type: 'request.cancelled',
            request: cancelled,
            resource: resourceRef(resource),
          });
        return refuse(
          new DomainError('GRANT_NOT_ACTIVE', 'The access this extension was for has already ended.'),
        );
      }
    }
  }
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
    return refuse(describeOutcome(ctx, latest, actor.tz));
  }
  // Record what the approval means first: a crash from here on is finished by the sweep.
  const followUp = decided.status === 'approved' ? await ctx.onApproved(decided) : undefined;
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
  await ctx.publish({ type: 'request.decided', request: decided, resource: resourceRef(resource) });
  await followUp?.();
  return decided;
}

export async function cancelRequest(
  ctx: ServiceContext,
  requestId: string,
  actor: Person,
): Promise<AccessRequest> {
  const actorEmail = lc(actor.email);
  const request = await ctx.repos.requests.get(requestId);
  const refuse = async (error: DomainError): Promise<never> => {
    await ctx.audit('action.refused', actorEmail, {
      requestId,
      details: { action: 'cancel', code: error.code },
    });
    throw error;
  };
  if (!request) return refuse(new DomainError('NOT_FOUND', 'This request no longer exists.'));
  if (request.requester.email !== actorEmail) {
    return refuse(new DomainError('NOT_REQUESTER', 'Only the person who asked can cancel this request.'));
  }
  const cancelled = await ctx.repos.requests.cancel(requestId, actorEmail, ctx.clock.now());
  if (!cancelled) {
    const latest = (await ctx.repos.requests.get(requestId)) ?? request;
    return refuse(describeOutcome(ctx, latest, actor.tz));
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

export type { AccessConfig };
