/**
 * Request submission: the dry run that explains every refusal per field (`checkSubmission`, and
 * `checkAndAuditSubmission`, which audits permission refusals) and `submitRequest`. Also the
 * request types and limits shared with ./request-decisions.ts (decide, cancel, expire). Every
 * state change is a conditional write in the store; only the caller whose write won publishes an
 * event, so repeats are harmless.
 */

import type { ServiceContext } from './context.js';
import { addDuration } from './duration.js';
import { normalizeEmail } from './email.js';
import { DomainError, type ErrorField } from './errors.js';
import type { ResourceRef } from './events.js';
import type { AccessRequest, Person } from './model.js';
import { closedReason } from './owner-settings.js';
import {
  canRequest,
  checkDuration,
  effectivePolicy,
  eligibleApprovers,
  type ResourceConfig,
} from './policy.js';
import type { ResourceAccess } from './policy-source.js';
import { DuplicateKeyError } from './ports.js';
import { type Refusal, recordRefusal, refuse } from './refusals.js';
import { autoApprove, settleNow, settleRequest } from './settle.js';

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

/** Refusals that are about who may do what (not typos): each is written to the audit trail. */
const SECURITY_CODES = new Set<FieldError['code']>([
  'NOT_ALLOWED_TO_REQUEST',
  'SELF_APPROVAL',
  'APPROVER_NOT_ELIGIBLE',
  'NOT_HOLDER',
  'EXTENSIONS_DISABLED',
  'RESOURCE_CLOSED',
]);

/** The dry run, with refusals about permissions recorded in the audit trail. */
export async function checkAndAuditSubmission(
  ctx: ServiceContext,
  input: SubmitInput,
): Promise<FieldError[]> {
  const errors = await checkSubmission(ctx, input);
  for (const e of errors.filter((x) => SECURITY_CODES.has(x.code))) {
    await recordRefusal(ctx, submissionRefusal(input), e.code);
  }
  return errors;
}

/** Who submitted what, for the audit trail of a refused submission. */
function submissionRefusal(input: SubmitInput): Refusal {
  return {
    actor: normalizeEmail(input.requester.email),
    action: input.grantId ? 'extend' : 'request',
    resourceId: input.resourceId,
    ...(input.grantId ? { grantId: input.grantId } : {}),
  };
}

/** What a check read on its way, for the caller's next step (the resource's access). */
export interface CheckReads {
  access?: ResourceAccess;
}

/**
 * Why `requester` may not ask for `resourceId` at all now: an unknown resource, someone who is not
 * among its requesters, or a resource its owners have closed. Null when they may ask. The access
 * it read is left in `reads`.
 */
export async function resourceRefusal(
  ctx: ServiceContext,
  requester: string,
  resourceId: string,
  tz?: string,
  reads?: CheckReads,
): Promise<FieldError | null> {
  const resource = ctx.config.resources.find((r) => r.id === resourceId);
  if (!resource)
    return { field: 'resource', code: 'RESOURCE_UNKNOWN', message: 'Choose a resource from the list.' };
  if (!canRequest(ctx.config, resource, requester)) {
    return {
      field: 'resource',
      code: 'NOT_ALLOWED_TO_REQUEST',
      message: `You are not allowed to request access to ${resource.name}.`,
    };
  }
  const access = await ctx.policy.access(resource);
  if (reads) reads.access = access;
  const closed = closedReason(resource, access, ctx.clock.now(), tz);
  return closed ? { field: 'resource', code: 'RESOURCE_CLOSED', message: closed } : null;
}

/**
 * The dry run: everything that would make `submit` refuse, per field, without changing anything.
 * An empty list means the submission is acceptable. What it read is left in `reads`.
 */
export async function checkSubmission(
  ctx: ServiceContext,
  input: SubmitInput,
  reads?: CheckReads,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const requester = normalizeEmail(input.requester.email);
  const refused = await resourceRefusal(ctx, requester, input.resourceId, input.requester.tz, reads);
  if (refused) return [refused];
  const resource = ctx.config.resources.find((r) => r.id === input.resourceId);
  if (!resource) return [];
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
    if (held?.status === 'provisioning') {
      errors.push({
        field: 'resource',
        code: 'ALREADY_HAS_ACCESS',
        message: `Your access to ${resource.name} was approved and is still being set up.`,
      });
    } else if (held) {
      errors.push({
        field: 'resource',
        code: 'ALREADY_HAS_ACCESS',
        message: `You already have access to ${resource.name}. Use “Request extension” in the reminder to ask for more time.`,
      });
    } else {
      const [waiting] = await ctx.repos.requests.list({
        requesterEmail: requester,
        resourceId: resource.id,
        kind: 'access',
        status: 'pending',
        limit: 1,
      });
      if (waiting && waiting.submissionKey !== input.submissionKey) {
        errors.push({
          field: 'resource',
          code: 'ALREADY_REQUESTED',
          message: `You already asked for access to ${resource.name} and it is waiting for a decision. Cancel that request to ask again.`,
        });
      }
    }
  }
  if (input.grantId) {
    const grant = await ctx.repos.grants.get(input.grantId);
    if (!grant || grant.resourceId !== resource.id || normalizeEmail(grant.holder.email) !== requester) {
      errors.push({ field: 'resource', code: 'NOT_HOLDER', message: 'You can only extend your own access.' });
    } else if (grant.status === 'provisioning') {
      // Approved, but the connector has not confirmed yet (provisioning runs as a job).
      errors.push({
        field: 'resource',
        code: 'GRANT_NOT_ACTIVE',
        message: 'Your access is still being set up; you can ask for more time once it is active.',
      });
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
    const chosen = input.approvers.map(normalizeEmail);
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
  if (existing) {
    // The same submission again (a retry after an error, a replay): finish what it may still owe.
    await settleNow(ctx, () => settleRequest(ctx, existing));
    return existing;
  }
  const reads: CheckReads = {};
  const errors = await checkSubmission(ctx, input, reads);
  const first = errors[0];
  if (first) {
    return refuse(ctx, submissionRefusal(input), new DomainError(first.code, first.message, first.field));
  }
  const resource = ctx.resource(input.resourceId);
  const requesterEmail = normalizeEmail(input.requester.email);
  const policy = effectivePolicy(ctx.config, resource, requesterEmail);
  const now = ctx.clock.now();
  const request: AccessRequest = {
    id: ctx.newId(),
    kind: input.grantId ? 'extension' : 'access',
    ...(input.grantId ? { grantId: input.grantId } : {}),
    resourceId: resource.id,
    requester: { email: requesterEmail, name: input.requester.name },
    approvers: policy.approval === 'manual' ? [...new Set(input.approvers.map(normalizeEmail))] : [],
    duration: input.duration,
    justification: input.justification.trim(),
    ...(input.ticket?.trim() ? { ticket: input.ticket.trim().slice(0, MAX_TICKET) } : {}),
    approval: policy.approval,
    status: 'pending',
    createdAt: now,
    decideBy: addDuration(now, policy.approvalWindow),
    submissionKey: input.submissionKey,
    unsettled: 'pending',
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
  if (policy.approval === 'auto') return autoApprove(ctx, request);
  ctx.metrics.request('submitted');
  // Audit, the expiry timer and the approvers' cards (showing the access the checks read): see ./settle.ts.
  await settleNow(ctx, () => settleRequest(ctx, request, reads.access ? { access: reads.access } : {}));
  return request;
}
