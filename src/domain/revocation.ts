/**
 * Ending a grant: `grant.expire` when its time is up, "end access now" by the holder or a
 * revocation by an admin or owner, and the connector call that takes access away. The grant ends
 * only once the connector confirms; failures are retried through `grant.retry` (./sweep.ts), or,
 * when the target refuses (a non-retryable failure), stopped until someone ends the access again.
 */

import { claim, connectorEvent, recordFailure } from './connector-calls.js';
import type { ServiceContext } from './context.js';
import { normalizeEmail } from './email.js';
import { DomainError } from './errors.js';
import { type Grant, type Person, retriesStopped } from './model.js';
import { canAdminister } from './policy.js';
import { API_ACTOR } from './queries/visibility.js';
import { refuse } from './refusals.js';
import { resourceRef } from './requests.js';

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

/** The longest revocation reason kept. */
export const MAX_END_COMMENT = 500;

/**
 * "End access now" by the holder, or a revocation by an admin, the resource's owner or the HTTP API
 * (actor `api`), with an optional reason that the timeline and the audit trail keep.
 */
export async function endAccess(
  ctx: ServiceContext,
  grantId: string,
  actor: Person,
  reason?: string,
): Promise<Grant> {
  const actorEmail = normalizeEmail(actor.email);
  const comment = reason?.trim().slice(0, MAX_END_COMMENT);
  const grant = await ctx.repos.grants.get(grantId);
  const refused = (error: DomainError) => refuse(ctx, { actor: actorEmail, action: 'end', grantId }, error);
  if (!grant) return refused(new DomainError('NOT_FOUND', 'This access no longer exists.'));
  const isHolder = grant.holder.email === actorEmail;
  const resource = ctx.config.resources.find((r) => r.id === grant.resourceId);
  const isAdmin =
    actorEmail === API_ACTOR || (resource ? canAdminister(ctx.config, resource, actorEmail) : false);
  if (!isHolder && !isAdmin) {
    return refused(new DomainError('NOT_HOLDER', 'Only the holder or an administrator can end this access.'));
  }
  if (grant.status !== 'active' && grant.status !== 'provisioning') {
    if (grant.status === 'revoking') {
      // Under way already; or stopped by the target's refusal, and then it is tried once more.
      return retriesStopped(grant) ? retryRevocation(ctx, grant, actorEmail) : grant;
    }
    return refused(new DomainError('GRANT_NOT_ACTIVE', 'This access has already ended.'));
  }
  const revoking = await ctx.repos.grants.update(
    grantId,
    { status: grant.status },
    {
      set: {
        status: 'revoking',
        endReason: isHolder ? 'ended-by-holder' : 'revoked-by-admin',
        endedBy: actorEmail,
        ...(comment ? { endComment: comment } : {}),
        attempts: 0,
        nextAttemptAt: ctx.clock.now(), // due now: claimed just below
      },
    },
  );
  if (!revoking) return refused(new DomainError('GRANT_NOT_ACTIVE', 'This access has already ended.'));
  ctx.log.info({ grantId, by: actorEmail }, 'grant.ending');
  // The connector call runs as a job at once (`grant.retry`), so the click is answered now.
  await ctx.advanceSoon(grantId);
  return revoking;
}

/**
 * A revocation whose retries stopped (the target refused it) is tried again when someone ends the
 * access again, e.g. once the target is fixed. `attempts` keeps counting, so the failures of this
 * round are reported afresh rather than taken for the ones already reported.
 */
async function retryRevocation(ctx: ServiceContext, grant: Grant, actorEmail: string): Promise<Grant> {
  const rearmed = await ctx.repos.grants.update(
    grant.id,
    { status: 'revoking', attempts: grant.attempts, nextAttemptAt: null },
    { set: { nextAttemptAt: ctx.clock.now() } },
  );
  if (!rearmed) return (await ctx.repos.grants.get(grant.id)) ?? grant;
  ctx.log.info({ grantId: grant.id, by: actorEmail }, 'grant.revocation_retried');
  await ctx.advanceSoon(grant.id);
  return rearmed;
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
    details: {
      reason: grant.endReason ?? 'expired',
      ...(grant.endComment ? { comment: grant.endComment } : {}),
    },
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
