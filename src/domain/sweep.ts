/**
 * Catching up: the `grant.retry` job (`advanceGrant`) and the periodic sweep, which between them
 * move along whatever is overdue after a lost job, a crash or downtime.
 */

import type { ServiceContext } from './context.js';
import { deliverExtension, onApproved, provision, remind } from './grants.js';
import { expireGrant, revoke } from './revocation.js';
import { settleGrant, settleRequest } from './settle.js';

/** How far back the sweep looks for approvals that never got their grant recorded. */
export const RECOVERY_WINDOW_MS = 24 * 60 * 60_000;

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

/** How a caller bounds a sweep: it may stop between items, and hears of each item done. */
export interface SweepControl {
  /** Asked before each item: true ends the sweep there (time budget used up, shutting down). */
  shouldStop?: () => boolean;
  /** Called after each item (e.g. to renew a scheduler's lock on the sweep). */
  heartbeat?: () => Promise<void>;
}

/**
 * The periodic sweep: whatever is overdue (a lost job, a crash, downtime) is done now, so access
 * can never stay open past its expiry. Returns how many items it moved along. Stopped early
 * (`control.shouldStop`), it leaves the rest due, and the next sweep takes it up, oldest first.
 */
export async function sweep(
  ctx: ServiceContext,
  expireRequest: (id: string) => Promise<void>,
  control: SweepControl = {},
): Promise<number> {
  const now = ctx.clock.now();
  let count = 0;
  const stop = () => control.shouldStop?.() ?? false;
  const done = async () => {
    count++;
    await control.heartbeat?.();
  };
  // A move whose effects were cut short (a crash, a store that failed for a moment) is finished
  // first: its audit event, timers and messages (see ./settle.ts).
  for (const request of await ctx.repos.requests.findUnsettled(200)) {
    if (stop()) return count;
    try {
      ctx.log.warn({ requestId: request.id, status: request.unsettled }, 'sweep.request_unsettled');
      await settleRequest(ctx, request, { recovering: true });
    } catch (error) {
      ctx.log.error({ err: error, requestId: request.id }, 'sweep.settle_failed');
    }
    await done();
  }
  for (const grant of await ctx.repos.grants.findUnsettled(200)) {
    if (stop()) return count;
    try {
      ctx.log.warn({ grantId: grant.id, owed: grant.unsettled }, 'sweep.grant_unsettled');
      await settleGrant(ctx, grant);
    } catch (error) {
      ctx.log.error({ err: error, grantId: grant.id }, 'sweep.settle_failed');
    }
    await done();
  }
  for (const grant of await ctx.repos.grants.findDue(now, 200)) {
    if (stop()) return count;
    try {
      await advanceGrant(ctx, grant.id);
    } catch (error) {
      ctx.log.error({ err: error, grantId: grant.id }, 'sweep.grant_failed');
    }
    await done();
  }
  // A reminder that is due and was never sent (its job lost: e.g. a schedule made while the same
  // job finished, deleted with it) goes out now; `remind` checks again and sends once per expiry.
  // Found by the stored `remindAt`, so however many grants are active, an owed one is never missed.
  for (const grant of await ctx.repos.grants.findRemindersDue(now, 200)) {
    const { expiresAt } = grant;
    if (!expiresAt || expiresAt <= now || grant.remindedFor?.getTime() === expiresAt.getTime()) continue;
    if (stop()) return count;
    try {
      // Owed by its stored time: say so. Stored before `remindAt` existed: `remind` sends it if it
      // is due by the policy, else records when it is owed and schedules its job again.
      if (grant.remindAt) ctx.log.warn({ grantId: grant.id }, 'sweep.reminder_not_sent');
      await remind(ctx, grant.id);
    } catch (error) {
      ctx.log.error({ err: error, grantId: grant.id }, 'sweep.reminder_failed');
    }
    await done();
  }
  for (const request of await ctx.repos.requests.findOverdue(now, 200)) {
    if (stop()) return count;
    try {
      await expireRequest(request.id);
    } catch (error) {
      ctx.log.error({ err: error, requestId: request.id }, 'sweep.request_failed');
    }
    await done();
  }
  // An approval whose effect was never recorded (a crash between the two writes) is finished
  // here: an access request without its grant, or an extension not yet applied to an active grant.
  const recent = await ctx.repos.requests.list({
    status: 'approved',
    decidedSince: new Date(now.getTime() - RECOVERY_WINDOW_MS),
    limit: 200,
  });
  for (const request of recent) {
    if (stop()) return count;
    if (request.kind === 'extension') {
      const grant = request.grantId ? await ctx.repos.grants.get(request.grantId) : null;
      if (grant?.status !== 'active' || grant.appliedExtensions?.includes(request.id)) continue;
    } else if (await ctx.repos.grants.findByRequestId(request.id)) {
      continue;
    }
    ctx.log.warn({ requestId: request.id, kind: request.kind }, 'sweep.approval_not_applied');
    try {
      await (await onApproved(ctx, request))();
    } catch (error) {
      ctx.log.error({ err: error, requestId: request.id }, 'sweep.request_failed');
    }
    await done();
  }
  return count;
}
