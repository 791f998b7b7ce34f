/**
 * Support-access controls for a resource's owners (`/access-settings`; "access settings" in Teams):
 * JIT access on or off, and an access window ("always allow", or until a date and time). What the
 * owners set is stored per resource (the `resource_settings` collection), audited with who and
 * when, and layered over the policy file by the policy source (./policy-source.ts).
 *
 * - Off, or past the window's end: no new requests (the requester is told why), no approvals of
 *   waiting ones, and every open grant on the resource is revoked through its connector at once
 *   (the holders are told, as with any revocation).
 * - Inside a window: a grant never outlives it (its expiry is clamped to the window's end, and
 *   the approval card says so).
 * - The window's end is a job (`resource.window_end`), and the sweep is its safety net.
 */
import type { ServiceContext } from './context.js';
import { normalizeEmail } from './email.js';
import { DomainError } from './errors.js';
import type { ResourceRef } from './events.js';
import type { Grant, Person, ResourceSetting } from './model.js';
import type { ResourceConfig } from './policy.js';
import type { ResourceAccess } from './policy-source.js';
import { refuse } from './refusals.js';
import { formatTime } from './views/time.js';

/** The sentence everyone but the resource's owners sees on the settings form. */
export const ONLY_OWNERS = "Only this resource's owners can change this setting";

export interface SettingsInput {
  resourceId: string;
  jitEnabled: boolean;
  /** The window's end (UTC), or null for "always allow". */
  windowEndsAt: Date | null;
  /** The version the form was opened at (0: no setting stored yet), so a concurrent change is seen. */
  expectedVersion: number;
}

/** Owners are named in the policy file (`owners`, emails or groups). */
export function isOwner(resource: ResourceConfig, email: string): boolean {
  return resource.owners.includes(normalizeEmail(email));
}

/** True while new requests and approvals are allowed. */
export function isOpen(access: ResourceAccess, now: Date): boolean {
  return access.enabled && (!access.windowEndsAt || access.windowEndsAt > now);
}

/** Why nobody may request `resource` now (shown to the requester), or null when it is open. */
export function closedReason(
  resource: ResourceConfig,
  access: ResourceAccess,
  now: Date,
  tz?: string,
): string | null {
  if (!access.enabled) {
    return access.setting
      ? `The owners of ${resource.name} have switched off just-in-time access, so it cannot be requested now. Ask one of them to switch it on.`
      : `${resource.name} is controlled by its owners, who have not switched on just-in-time access yet, so nobody can request it. Ask one of them to switch it on.`;
  }
  if (access.windowEndsAt && access.windowEndsAt <= now) {
    return `The owners of ${resource.name} allowed access only until ${formatTime(access.windowEndsAt, tz)}, and that window has ended. Ask one of them to open it again.`;
  }
  return null;
}

/** The resource as events carry it, with the owners' window end when one is set. */
export function resourceRefWith(resource: ResourceConfig, access: ResourceAccess): ResourceRef {
  return {
    id: resource.id,
    name: resource.name,
    ...(access.windowEndsAt ? { windowEndsAt: access.windowEndsAt } : {}),
  };
}

/** A grant's end: `wanted`, or the window's end when that comes first. */
export function clampToWindow(wanted: Date, access: ResourceAccess): Date {
  return access.windowEndsAt && access.windowEndsAt < wanted ? access.windowEndsAt : wanted;
}

/** Stores the owners' setting, audits it, tells the approvers, and applies it (revocations, the window job). */
export async function saveSettings(
  ctx: ServiceContext,
  actor: Person,
  input: SettingsInput,
): Promise<ResourceSetting> {
  const actorEmail = normalizeEmail(actor.email);
  const refusal = { actor: actorEmail, action: 'change-settings' as const, resourceId: input.resourceId };
  const resource = ctx.config.resources.find((r) => r.id === input.resourceId);
  if (!resource) {
    return refuse(ctx, refusal, new DomainError('RESOURCE_UNKNOWN', 'There is no such resource.'));
  }
  if (!isOwner(resource, actorEmail)) {
    return refuse(ctx, refusal, new DomainError('NOT_OWNER', `${ONLY_OWNERS}.`));
  }
  const now = ctx.clock.now();
  if (input.windowEndsAt && input.windowEndsAt <= now) {
    throw new DomainError('WINDOW_IN_PAST', 'Choose a date and time in the future.');
  }
  const setting: ResourceSetting = {
    resourceId: resource.id,
    jitEnabled: input.jitEnabled,
    ...(input.windowEndsAt ? { windowEndsAt: input.windowEndsAt } : {}),
    updatedBy: actorEmail,
    updatedByName: actor.name,
    updatedAt: now,
    version: input.expectedVersion + 1,
  };
  const saved = await ctx.repos.settings.save(setting, input.expectedVersion);
  if (!saved) {
    throw new DomainError(
      'SETTINGS_CHANGED',
      'Someone else changed these settings while you had them open. Open them again to see the latest.',
    );
  }
  await ctx.audit('resource.settings_changed', actorEmail, {
    resourceId: resource.id,
    details: {
      jitEnabled: saved.jitEnabled,
      windowEndsAt: saved.windowEndsAt?.toISOString() ?? null,
      version: saved.version,
    },
  });
  ctx.log.info(
    {
      resourceId: resource.id,
      by: actorEmail,
      jitEnabled: saved.jitEnabled,
      windowEndsAt: saved.windowEndsAt,
    },
    'resource.settings_changed',
  );
  if (saved.windowEndsAt) {
    await ctx.scheduler.schedule('resource.window_end', saved.windowEndsAt, { id: resource.id });
  } else {
    await ctx.scheduler.cancel('resource.window_end', resource.id);
  }
  const access = await ctx.policy.access(resource);
  const open = await openGrants(ctx, resource.id);
  const closing = !isOpen(access, now);
  await ctx.publish({
    type: 'resource.settings_changed',
    setting: saved,
    resource: resourceRefWith(resource, access),
    recipients: resource.approvers,
    revoking: closing ? open.length : 0,
  });
  if (closing) await closeGrants(ctx, open, actorEmail);
  return saved;
}

/** Job `resource.window_end`: once the window has ended, the resource's open grants are revoked. Idempotent. */
export async function endWindow(ctx: ServiceContext, resourceId: string): Promise<void> {
  const resource = ctx.config.resources.find((r) => r.id === resourceId);
  if (!resource) return;
  const access = await ctx.policy.access(resource);
  const now = ctx.clock.now();
  if (!access.windowEndsAt) return;
  if (access.windowEndsAt > now) {
    // A stale job (the window moved later): wait for the current end.
    await ctx.scheduler.schedule('resource.window_end', access.windowEndsAt, { id: resourceId });
    return;
  }
  const open = await openGrants(ctx, resourceId);
  if (open.length > 0) {
    ctx.log.info({ resourceId, grants: open.length }, 'resource.window_ended');
    await closeGrants(ctx, open, 'system');
  }
}

/**
 * The sweep's part: resources switched off, or whose window has ended, that still have open grants
 * (a lost job, a crash between the save and the revocations) are closed now.
 */
export async function sweepClosedResources(ctx: ServiceContext, limit = 100): Promise<number> {
  let count = 0;
  const now = ctx.clock.now();
  const settings = [
    ...(await ctx.repos.settings.switchedOff(limit)),
    ...(await ctx.repos.settings.windowsEndedBy(now, limit)),
  ];
  for (const setting of settings) {
    const open = await openGrants(ctx, setting.resourceId);
    if (open.length === 0) continue;
    ctx.log.warn({ resourceId: setting.resourceId }, 'sweep.resource_closed_not_applied');
    await closeGrants(ctx, open, setting.jitEnabled ? 'system' : setting.updatedBy);
    count++;
  }
  return count;
}

function openGrants(ctx: ServiceContext, resourceId: string): Promise<Grant[]> {
  return ctx.repos.grants.list({ resourceId, status: ['provisioning', 'active'], limit: 10_000 });
}

/**
 * Starts the revocation of each grant (a conditional write, so a grant ended meanwhile is left
 * alone); the connector calls run as `grant.retry` jobs at once.
 */
async function closeGrants(ctx: ServiceContext, grants: Grant[], by: string): Promise<void> {
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
    ctx.log.info({ grantId: grant.id, by }, 'grant.ending');
    await ctx.advanceSoon(grant.id);
  }
}
