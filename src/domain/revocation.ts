/**
 * Ending a grant: `grant.expire` when its time is up, "end access now" by the holder or a
 * revocation by an admin or owner, and the connector call that takes access away. The grant ends
 * only once the connector confirms; failures are retried through `grant.retry` (./sweep.ts), or,
 * when the target refuses (a non-retryable failure), stopped until someone ends the access again.
 */

import { claim, connectorEvent, lease, recordFailure } from './connector-calls.js';
import type { ServiceContext } from './context.js';
import { normalizeEmail } from './email.js';
import { DomainError } from './errors.js';
import { type Grant, type Person, retriesStopped } from './model.js';
import { API_ACTOR } from './queries/visibility.js';
import { recordRefusal, refuse } from './refusals.js';
import { canRevokeGrantsOf } from './roles.js';
import { settleGrant, settleNow } from './settle.js';

/**
 * Job `grant.expire`: revokes an active grant whose time is up. One write both starts the
 * revocation and claims its connector call (the lease that `claim` would take next), so the
 * critical path from expiry to confirmed revocation is one read, this write, the connector call
 * and the final write. A crash after it leaves a revoking grant whose lease runs out
 * (`LEASE_MS`), after which the sweep takes it up, as after a crash during the call itself.
 */
export async function expireGrant(ctx: ServiceContext, grantId: string): Promise<void> {
  const grant = await ctx.repos.grants.get(grantId);
  if (!grant) return;
  if (grant.status === 'revoking') return revoke(ctx, grant);
  if (grant.status !== 'active' || !grant.expiresAt || grant.expiresAt > ctx.clock.now()) return;
  const claimed = await ctx.repos.grants.update(
    grantId,
    { status: 'active', expiresAt: grant.expiresAt },
    {
      set: {
        status: 'revoking',
        endReason: 'expired',
        endedBy: 'system',
        attempts: 0,
        nextAttemptAt: lease(ctx),
      },
    },
  );
  if (claimed) await revokeClaimed(ctx, claimed);
}

/** The longest revocation reason kept. */
export const MAX_END_COMMENT = 500;

/**
 * Why `actorEmail` may not end `grant` now, or null (with whether they end their own access). The
 * holder may end their own access; admins, the resource's owners and approvers, and the HTTP API
 * (actor `api`) may revoke it.
 */
function endRefusal(
  ctx: ServiceContext,
  grant: Grant | null,
  actorEmail: string,
): { error: DomainError } | { isHolder: boolean } {
  if (!grant) return { error: new DomainError('NOT_FOUND', 'This access no longer exists.') };
  const isHolder = grant.holder.email === actorEmail;
  const resource = ctx.config.resources.find((r) => r.id === grant.resourceId);
  const mayRevoke =
    actorEmail === API_ACTOR || (resource ? canRevokeGrantsOf(ctx.config, resource, actorEmail) : false);
  if (!isHolder && !mayRevoke) {
    return {
      error: new DomainError(
        'NOT_HOLDER',
        'Only the holder, an administrator, or an owner or approver of the resource can end this access.',
      ),
    };
  }
  if (grant.status === 'expired' || grant.status === 'revoked') {
    return { error: new DomainError('GRANT_NOT_ACTIVE', 'This access has already ended.') };
  }
  return { isHolder };
}

/**
 * The dry run of ending or revoking `grantId`: the refusal `endAccess` would give, or null. Changes
 * nothing but the audit trail (a refusal is recorded), so a front end can ask before it opens the
 * confirmation (e.g. Revoke with its reason).
 */
export async function checkEndAccess(
  ctx: ServiceContext,
  grantId: string,
  actor: Person,
): Promise<DomainError | null> {
  const actorEmail = normalizeEmail(actor.email);
  const refusal = endRefusal(ctx, await ctx.repos.grants.get(grantId), actorEmail);
  if (!('error' in refusal)) return null;
  await recordRefusal(ctx, { actor: actorEmail, action: 'end', grantId }, refusal.error.code);
  return refusal.error;
}

/**
 * "End access now" by the holder, or a revocation (with an optional reason the holder is told, and
 * the timeline and the audit trail keep) by an admin, an owner or approver of the resource, or the
 * HTTP API (actor `api`). Takes effect at once: the connector call runs
 * as a job now; the grant ends when the connector confirms, and the holder is told then.
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
  const allowed = endRefusal(ctx, grant, actorEmail);
  if ('error' in allowed || !grant) {
    return refused(
      'error' in allowed ? allowed.error : new DomainError('NOT_FOUND', 'This access no longer exists.'),
    );
  }
  if (grant.status === 'revoking') {
    // Under way already; or stopped by the target's refusal, and then it is tried once more.
    return retriesStopped(grant) ? retryRevocation(ctx, grant, actorEmail) : grant;
  }
  const revoking = await ctx.repos.grants.update(
    grantId,
    { status: grant.status },
    {
      set: {
        status: 'revoking',
        endReason: allowed.isHolder ? 'ended-by-holder' : 'revoked-by-admin',
        endedBy: actorEmail,
        ...(comment ? { endComment: comment } : {}),
        attempts: 0,
        nextAttemptAt: ctx.clock.now(), // due now: claimed just below
      },
    },
  );
  if (!revoking) return refused(new DomainError('GRANT_NOT_ACTIVE', 'This access has already ended.'));
  ctx.log.info({ grantId, by: actorEmail, holder: allowed.isHolder }, 'grant.ending');
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
  if (grant) await revokeClaimed(ctx, grant);
}

/** The connector call of a revoking grant whose lease this caller holds, and its outcome. */
async function revokeClaimed(ctx: ServiceContext, grant: Grant): Promise<void> {
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
      set: { status: final, endedAt: now, attempts: 0, unsettled: 'ended' },
      unset: ['nextAttemptAt', 'lastError', 'pendingExtension'],
    },
  );
  if (!ended) return;
  if (final === 'expired' && grant.expiresAt)
    ctx.metrics.revocationLag(now.getTime() - grant.expiresAt.getTime());
  await settleNow(ctx, () => settleGrant(ctx, ended));
}
