/**
 * Support-access controls for a resource's owners (`/access-settings`; "access settings" in Teams):
 * JIT access on or off, and an access window ("always allow", or until a date and time). What the
 * owners set is stored per resource (the `resource_settings` collection), audited with who and
 * when, and layered over the policy file by the policy source (./policy-source.ts).
 *
 * - Off, or past the window's end: no new requests (the requester is told why), every waiting
 *   request on it is closed and every open grant on it is revoked through its connector at once
 *   (./resource-closing.ts).
 * - Inside a window: a grant never outlives it (its expiry is clamped to the window's end, and
 *   the approval card says so).
 * - The window's end is a job (`resource.window_end`), and the sweep is its safety net.
 * - A save is crash-safe: it stores an `unsettled` mark with the setting, and its effects follow
 *   (`settleSettings` in ./resource-closing.ts); the sweep finishes any left marked.
 */
import type { ServiceContext } from './context.js';
import { normalizeEmail } from './email.js';
import { DomainError } from './errors.js';
import type { ResourceRef } from './events.js';
import type { Person, ResourceSetting } from './model.js';
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
    return windowEndedReason(resource.name, access.windowEndsAt, tz);
  }
  return null;
}

/** Why nobody may request a resource whose owners' window ended at `end`, in the zone `tz`. */
export function windowEndedReason(name: string, end: Date, tz?: string): string {
  return `The owners of ${name} allowed access only until ${formatTime(end, tz)}, and that window has ended. Ask one of them to open it again.`;
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

/**
 * Stores the owners' setting with the mark of the effects it owes (`unsettled`: its version), in
 * one compare-and-swap. The effects (audit, the approvers' message, the window job, revocations and
 * request closings) are `settleSettings` (./resource-closing.ts), run next by the caller and, after
 * a crash, by the sweep.
 */
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
  const version = input.expectedVersion + 1;
  const setting: ResourceSetting = {
    resourceId: resource.id,
    jitEnabled: input.jitEnabled,
    ...(input.windowEndsAt ? { windowEndsAt: input.windowEndsAt } : {}),
    updatedBy: actorEmail,
    updatedByName: actor.name,
    updatedAt: now,
    version,
    unsettled: version,
  };
  const saved = await ctx.repos.settings.save(setting, input.expectedVersion);
  if (!saved) {
    throw new DomainError(
      'SETTINGS_CHANGED',
      'Someone else changed these settings while you had them open. Open them again to see the latest.',
    );
  }
  return saved;
}
