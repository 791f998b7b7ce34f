/**
 * What closing a resource does, crash-safe. A resource is closed while JIT access is off (its owners
 * switched it off, or `ownerControlled: true` and never switched on) or its owners' window has ended
 * (see ./owner-settings.ts). Then:
 *
 * - every open grant on it is revoked at once through its connector (`endReason: 'closed-by-owner'`;
 *   the holders are told, as with any revocation);
 * - every request still waiting for a decision on it (access or extension) is closed: `cancelled`
 *   with `closedReason: 'closed-by-owner'`; the approvers' cards are edited to say so (no buttons
 *   left), the requester is told why (the sentence of `closedReason()`), and it is audited once.
 *
 * Each of those is a conditional write (a grant or request moved meanwhile is left alone) followed by
 * the effects it owes (./settle.ts), so running this twice does nothing twice. It runs after an
 * owner's save (`settleSettings`: the save itself writes an `unsettled` mark, removed once every
 * effect is done), at the window's end (`endWindow`), after a policy reload, and in the sweep
 * (`sweepClosedResources`), which also finishes any save left marked by a crash.
 */
import type { ServiceContext } from './context.js';
import type { Grant, Person, ResourceSetting } from './model.js';
import { closedReason, isOpen, resourceRefWith } from './owner-settings.js';
import type { ResourceConfig } from './policy.js';
import { settleNow, settleRequest } from './settle.js';

/** Who closes a resource when no owner did it by hand (the window's end, a reload, the file). */
const SYSTEM: Person = { email: 'system', name: 'System' };

/** How many grants or requests of one resource a single pass closes (the sweep takes any rest). */
const BATCH = 10_000;

/**
 * Finishes what an owner's save owes (its `unsettled` mark): the audit event (under its own key),
 * the window job, the approvers' message (keyed by version), then the closing if the resource is
 * now closed; then the mark is removed. Idempotent; the sweep runs it again for a mark left behind.
 */
export async function settleSettings(ctx: ServiceContext, setting: ResourceSetting): Promise<void> {
  const version = setting.unsettled;
  if (version === undefined) return;
  const resource = ctx.config.resources.find((r) => r.id === setting.resourceId);
  if (resource) {
    await ctx.audit(
      'resource.settings_changed',
      setting.updatedBy,
      {
        resourceId: resource.id,
        details: {
          jitEnabled: setting.jitEnabled,
          windowEndsAt: setting.windowEndsAt?.toISOString() ?? null,
          version: setting.version,
        },
      },
      `settings:${resource.id}:v${setting.version}`,
    );
    ctx.log.info(
      {
        resourceId: resource.id,
        by: setting.updatedBy,
        jitEnabled: setting.jitEnabled,
        windowEndsAt: setting.windowEndsAt,
      },
      'resource.settings_changed',
    );
    // The job follows the setting stored now (a later save may have moved the window).
    const access = await ctx.policy.access(resource);
    if (access.windowEndsAt) {
      await ctx.scheduler.schedule('resource.window_end', access.windowEndsAt, { id: resource.id });
    } else {
      await ctx.scheduler.cancel('resource.window_end', resource.id);
    }
    const closing = !isOpen(access, ctx.clock.now());
    const open = closing ? await openGrants(ctx, resource.id) : [];
    const { unsettled: _owed, ...shown } = setting;
    await ctx.publishOrThrow({
      type: 'resource.settings_changed',
      setting: shown,
      resource: resourceRefWith(resource, access),
      recipients: resource.approvers,
      revoking: open.length,
    });
    if (closing) {
      const by = access.setting?.jitEnabled === false ? ownerOf(access.setting) : SYSTEM;
      await closeResource(ctx, resource, by);
    }
  }
  await ctx.repos.settings.settle(setting.resourceId, version);
}

/**
 * Closes what is still open on `resource` if it is closed now: revokes its open grants and closes
 * its waiting requests. Returns how many of either it moved. Idempotent.
 */
export async function closeResource(
  ctx: ServiceContext,
  resource: ResourceConfig,
  by: Person,
): Promise<number> {
  const access = await ctx.policy.access(resource);
  const now = ctx.clock.now();
  if (isOpen(access, now)) return 0;
  let moved = await closeGrants(ctx, await openGrants(ctx, resource.id), by.email);
  const waiting = await ctx.repos.requests.list({ resourceId: resource.id, status: 'pending', limit: BATCH });
  for (const request of waiting) {
    const why = closedReason(resource, access, now, request.requester.tz) ?? '';
    const closed = await ctx.repos.requests.close(request.id, by, now, why);
    if (!closed) continue; // decided, expired or cancelled meanwhile
    moved++;
    ctx.log.info({ requestId: request.id, resourceId: resource.id, by: by.email }, 'request.closed');
    await settleNow(ctx, () => settleRequest(ctx, closed));
  }
  return moved;
}

/** Job `resource.window_end`: once the window has ended, the resource is closed. Idempotent. */
export async function endWindow(ctx: ServiceContext, resourceId: string): Promise<void> {
  const resource = ctx.config.resources.find((r) => r.id === resourceId);
  if (!resource) return;
  const access = await ctx.policy.access(resource);
  if (!access.windowEndsAt) return;
  if (access.windowEndsAt > ctx.clock.now()) {
    // A stale job (the window moved later): wait for the current end.
    await ctx.scheduler.schedule('resource.window_end', access.windowEndsAt, { id: resourceId });
    return;
  }
  const moved = await closeResource(ctx, resource, SYSTEM);
  if (moved > 0) ctx.log.info({ resourceId, moved }, 'resource.window_ended');
}

/**
 * The sweep's part: saves whose effects a crash cut short are finished; then every closed resource
 * that still has open grants or waiting requests (a lost job, a crash between a save or a reload and
 * its closings) is closed now. Closed: switched off by its owners, its window ended, or
 * `ownerControlled` in the policy file with no setting stored (a reload may have just made it so).
 */
export async function sweepClosedResources(
  ctx: ServiceContext,
  limit = 100,
  /** The log line for each resource closed now: the sweep's, or a reload's (`policy.resource_closed`). */
  event = 'sweep.resource_closed_not_applied',
): Promise<number> {
  let count = 0;
  for (const setting of await ctx.repos.settings.findUnsettled(limit)) {
    ctx.log.warn({ resourceId: setting.resourceId, version: setting.unsettled }, 'sweep.settings_unsettled');
    try {
      await settleSettings(ctx, setting);
    } catch (error) {
      ctx.log.error({ err: error, resourceId: setting.resourceId }, 'sweep.settle_failed');
    }
    count++;
  }
  const now = ctx.clock.now();
  const closed = new Map<string, Person>();
  for (const setting of await ctx.repos.settings.switchedOff(limit)) {
    closed.set(setting.resourceId, ownerOf(setting));
  }
  for (const setting of await ctx.repos.settings.windowsEndedBy(now, limit)) {
    if (!closed.has(setting.resourceId)) closed.set(setting.resourceId, SYSTEM);
  }
  const controlled = ctx.config.resources.filter((r) => r.ownerControlled).map((r) => r.id);
  const set = new Set((await ctx.repos.settings.getMany(controlled)).map((s) => s.resourceId));
  for (const id of controlled) if (!set.has(id)) closed.set(id, SYSTEM);

  // Only the closed resources that still have something open are looked at one by one.
  const ids = [...closed.keys()];
  if (ids.length === 0) return count;
  const [grants, waiting] = await Promise.all([
    ctx.repos.grants.search({ status: ['provisioning', 'active'], resourceIds: ids }, limit),
    ctx.repos.requests.list({ status: 'pending', resourceIds: ids, limit }),
  ]);
  const left = new Set([...grants, ...waiting].map((x) => x.resourceId));
  for (const [resourceId, by] of closed) {
    const resource = left.has(resourceId) ? ctx.config.resources.find((r) => r.id === resourceId) : undefined;
    if (!resource) continue;
    try {
      const moved = await closeResource(ctx, resource, by);
      if (moved === 0) continue;
      ctx.log.warn({ resourceId, moved }, event);
      count++;
    } catch (error) {
      ctx.log.error({ err: error, resourceId }, 'sweep.resource_close_failed');
    }
  }
  return count;
}

/** The owner who switched the resource off. */
function ownerOf(setting: ResourceSetting): Person {
  return { email: setting.updatedBy, name: setting.updatedByName };
}

function openGrants(ctx: ServiceContext, resourceId: string): Promise<Grant[]> {
  return ctx.repos.grants.list({ resourceId, status: ['provisioning', 'active'], limit: BATCH });
}

/**
 * Starts the revocation of each grant (a conditional write, so a grant ended meanwhile is left
 * alone); the connector calls run as `grant.retry` jobs at once. Returns how many it started.
 */
async function closeGrants(ctx: ServiceContext, grants: Grant[], by: string): Promise<number> {
  let started = 0;
  for (const grant of grants) {
    const revoking = await ctx.repos.grants.update(
      grant.id,
      { status: grant.status },
      {
        set: {
          status: 'revoking',
          endReason: 'closed-by-owner',
          endedBy: by,
          attempts: 0,
          nextAttemptAt: ctx.clock.now(),
        },
      },
    );
    if (!revoking) continue;
    started++;
    ctx.log.info({ grantId: grant.id, by }, 'grant.ending');
    await ctx.advanceSoon(grant.id);
  }
  return started;
}
