/**
 * What every connector call on a grant shares: the lease a call holds (`claim`), the event body
 * sent to the connector, and `recordFailure`, which schedules the `grant.retry` with backoff,
 * audits the failure and tells people once it is delayed or keeps failing.
 *
 * A failure the connector calls non-retryable (`ConnectorError.retryable === false`: the target
 * refused, it is not down) stops the retries at once: the grant keeps its status (provisioning or
 * revoking, shown as pending, never as done) without a `nextAttemptAt`, which is how a stopped
 * grant is recorded. Neither the sweep (`findDue` wants `nextAttemptAt <= now`) nor `claim` takes
 * it up again; the resource's approvers and the admins are told at once, and ending the access (`endAccess`) is
 * what moves it on. A non-retryable failure of an extension's delivery drops the pending delivery:
 * the new expiry stands in our records, the target is not told again, the approvers and admins are.
 */

import type { ServiceContext } from './context.js';
import type { ConnectorOperation } from './events.js';
import type { Grant } from './model.js';
import type { ResourceConfig } from './policy.js';
import { ConnectorError, type ConnectorEvent, type ConnectorEventName } from './ports.js';
import { resourceRef } from './requests.js';

/**
 * While a connector call is under way the grant carries `nextAttemptAt = now + LEASE_MS`, so if
 * the process dies mid-call the sweep picks the grant up again once the lease has run out.
 */
export const LEASE_MS = 60_000;
export const lease = (ctx: ServiceContext) => new Date(ctx.clock.now().getTime() + LEASE_MS);

export function connectorEvent(
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

/** The connector's type (`webhook`, `slack-usergroup` …), for metrics; `unknown` if it has none. */
function connectorType(ctx: ServiceContext, grant: Grant): string {
  try {
    return ctx.connectors.forResource(grant.resourceId).type;
  } catch {
    return 'unknown';
  }
}

/**
 * Whether a failed connector call is tried again. A `ConnectorError` says so itself; anything
 * else (an unexpected throw) is retried, as a transient fault would be.
 */
export function willRetry(error: unknown): boolean {
  return !(error instanceof ConnectorError) || error.retryable;
}

export async function recordFailure(
  ctx: ServiceContext,
  grant: Grant,
  operation: ConnectorOperation,
  error: unknown,
): Promise<void> {
  const now = ctx.clock.now();
  const message = error instanceof Error ? error.message : String(error);
  const retry = willRetry(error);
  const resource = ctx.resource(grant.resourceId);
  const log = ctx.log.child({ grantId: grant.id });
  let updated: Grant | null;
  let attempts: number;
  let nextAttemptAt: Date | undefined;
  if (operation === 'extend') {
    const pending = grant.pendingExtension;
    if (!pending) return;
    attempts = pending.attempts + 1;
    nextAttemptAt = retry ? new Date(now.getTime() + ctx.backoffMs(attempts)) : undefined;
    updated = await ctx.repos.grants.update(
      grant.id,
      { status: 'active', pendingExtensionAt: pending.nextAttemptAt },
      nextAttemptAt
        ? { set: { pendingExtension: { ...pending, attempts, nextAttemptAt }, lastError: message } }
        : { set: { lastError: message }, unset: ['pendingExtension'] },
    );
  } else {
    attempts = grant.attempts + 1;
    nextAttemptAt = retry ? new Date(now.getTime() + ctx.backoffMs(attempts)) : undefined;
    updated = await ctx.repos.grants.update(
      grant.id,
      // Only the holder of the current lease records the outcome of its call.
      { status: grant.status, attempts: grant.attempts, nextAttemptAt: grant.nextAttemptAt ?? null },
      nextAttemptAt
        ? { set: { attempts, nextAttemptAt, lastError: message } }
        : { set: { attempts, lastError: message }, unset: ['nextAttemptAt'] }, // stopped: see above
    );
  }
  if (!updated) return; // someone else moved the grant on meanwhile
  ctx.metrics.connectorFailure(connectorType(ctx, grant), grant.resourceId, operation);
  if (nextAttemptAt) await ctx.scheduler.schedule('grant.retry', nextAttemptAt, { id: grant.id });
  if (retry) log.warn({ operation, attempts, error: message, willRetry: true }, 'connector.failed');
  else log.error({ operation, attempts, error: message, willRetry: false }, 'connector.failed');
  await ctx.audit(
    operation === 'revoke' ? 'grant.revocation_failed' : 'grant.provisioning_failed',
    'system',
    {
      grantId: grant.id,
      requestId: grant.requestId,
      resourceId: grant.resourceId,
      // willRetry false: the target refused; nothing retries it until someone ends the access.
      details: { operation, attempts, error: message.slice(0, 300), willRetry: retry },
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
  // A refusal is reported at once; a fault that may pass, once it has kept failing.
  if (!retry || attempts === ctx.reportAfterAttempts) {
    await ctx.publish({
      type: 'grant.connector_failing',
      grant: updated,
      resource: resourceRef(resource),
      operation,
      recipients: failureRecipients(ctx, resource),
    });
  }
}

/** Claims the delivery of a pending extension (`grant.extended`), like `claim` does for the rest. */
export async function claimExtension(ctx: ServiceContext, grant: Grant): Promise<Grant | null> {
  const pending = grant.pendingExtension;
  if (grant.status !== 'active' || !pending || pending.nextAttemptAt > ctx.clock.now()) return null;
  return ctx.repos.grants.update(
    grant.id,
    { status: 'active', pendingExtensionAt: pending.nextAttemptAt },
    { set: { pendingExtension: { ...pending, nextAttemptAt: lease(ctx) } } },
  );
}

/**
 * A grant ended while an activation or extension was in flight: the target may apply that call
 * after our revocation, so revoke once more under a key of its own. If even that fails, people
 * are told, since access may be open at the target with nothing left to revoke it.
 */
export async function revokeAgain(ctx: ServiceContext, grant: Grant, key: string): Promise<void> {
  const at = grant.startsAt ?? ctx.clock.now();
  try {
    await ctx.connectors
      .forResource(grant.resourceId)
      .deliver(connectorEvent(grant, 'grant.revoked', key, at, grant.expiresAt ?? at));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    ctx.log.error({ err: error, grantId: grant.id }, 'connector.re_revoke_failed');
    ctx.metrics.connectorFailure(connectorType(ctx, grant), grant.resourceId, 'revoke');
    await ctx.audit('grant.revocation_failed', 'system', {
      grantId: grant.id,
      requestId: grant.requestId,
      resourceId: grant.resourceId,
      details: { operation: key, error: message.slice(0, 300) },
    });
    const resource = ctx.resource(grant.resourceId);
    await ctx.publish({
      type: 'grant.connector_failing',
      grant: { ...grant, lastError: message },
      resource: resourceRef(resource),
      operation: 'revoke',
      recipients: failureRecipients(ctx, resource),
    });
  }
}

/**
 * Who is told that a connector keeps failing (or refused): the resource's approvers, who granted
 * the access, and the admins, who can end it by hand; each once.
 */
function failureRecipients(ctx: ServiceContext, resource: ResourceConfig): string[] {
  return [...new Set([...resource.approvers, ...ctx.config.admins])];
}

/**
 * Claims the next connector attempt on a grant: only one caller (a retry job, the sweep, another
 * worker) wins, and the grant carries a lease meanwhile. Null when someone else has it.
 */
export async function claim(ctx: ServiceContext, grant: Grant): Promise<Grant | null> {
  if (!grant.nextAttemptAt) return null; // retries stopped: only ending the access moves it on
  if (grant.nextAttemptAt > ctx.clock.now()) return null; // leased, or not due yet
  return ctx.repos.grants.update(
    grant.id,
    { status: grant.status, attempts: grant.attempts, nextAttemptAt: grant.nextAttemptAt },
    { set: { nextAttemptAt: lease(ctx) } },
  );
}
