/**
 * The access policy: which resources exist, who may request them, who approves, and which
 * durations are allowed. No I/O: `parseAccessConfig` takes already-parsed YAML data (see
 * `src/config.ts` for the loader and `access.example.yaml` for the documented file).
 *
 * The policy is split by concern: the types, `ConfigError` and the built-in defaults live in
 * ./policy-model.ts, the zod schema and issue formatting in ./policy-schema.ts, and
 * `parseAccessConfig` in ./policy-parse.ts. This module re-exports all of it and holds the
 * queries (who may request, approve or administer, and which durations are allowed), so import
 * from here.
 *
 * Policies layer: built-in defaults <- `defaults` <- `resources[i].policy` <- the first of
 * `resources[i].groupPolicies` (in key order) whose group holds the requester. `custom` merges
 * key by key; every other key replaces the value below it.
 */
import { DurationConstraint, durationMs, humanizeDuration, isValidDuration } from './duration.js';
import { normalizeEmail } from './email.js';
import {
  type AccessConfig,
  type DurationOption,
  type EffectivePolicy,
  type ResourceConfig,
  resolve,
} from './policy-model.js';

export type {
  AccessConfig,
  Approval,
  ChatPreference,
  ConfigIssue,
  ConnectorConfig,
  DurationEntry,
  DurationOption,
  EffectivePolicy,
  PolicyLayer,
  ResourceConfig,
} from './policy-model.js';
export { BUILT_IN_DEFAULTS, ConfigError } from './policy-model.js';
export { parseAccessConfig } from './policy-parse.js';
export { formatPath } from './policy-schema.js';

// ---------------------------------------------------------------- queries

/** By id, or by name ignoring case. */
export function findResource(config: AccessConfig, idOrName: string): ResourceConfig | undefined {
  const key = idOrName.trim().toLowerCase();
  return (
    config.resources.find((r) => r.id === key) ?? config.resources.find((r) => r.name.toLowerCase() === key)
  );
}

export function canRequest(_config: AccessConfig, resource: ResourceConfig, email: string): boolean {
  return resource.requesters === undefined || resource.requesters.includes(normalizeEmail(email));
}

export function requestableResources(config: AccessConfig, email: string): ResourceConfig[] {
  return config.resources.filter((r) => canRequest(config, r, email));
}

/** defaults <- resource.policy <- the first group (in `groupPolicies` key order) holding the requester. */
export function effectivePolicy(
  config: AccessConfig,
  resource: ResourceConfig,
  requesterEmail: string,
): EffectivePolicy {
  const email = normalizeEmail(requesterEmail);
  const match = resource.groupPolicies.find((g) => config.groups[g.group]?.includes(email));
  return resolve(match ? match.policy : resource.basePolicy);
}

/** The resource's approvers minus the requester: nobody approves their own request. */
export function eligibleApprovers(resource: ResourceConfig, requesterEmail: string): string[] {
  const email = normalizeEmail(requesterEmail);
  return resource.approvers.filter((a) => a !== email);
}

export function isAdmin(config: AccessConfig, email: string): boolean {
  return config.admins.includes(normalizeEmail(email));
}

/** Admins, and owners of this resource; approvers alone may not. */
export function canAdminister(config: AccessConfig, resource: ResourceConfig, email: string): boolean {
  return isAdmin(config, email) || resource.owners.includes(normalizeEmail(email));
}

/** The quick option of the same length as `iso` (compared in milliseconds). */
export function durationOption(policy: EffectivePolicy, iso: string): DurationOption | undefined {
  if (!isValidDuration(iso)) return undefined;
  const ms = durationMs(iso);
  return policy.durations.find((o) => durationMs(o.duration) === ms);
}

/** A quick option is always allowed; otherwise custom must be on and min <= duration <= max. */
export function checkDuration(
  policy: EffectivePolicy,
  iso: string,
): { ok: true; remindBefore: string } | { ok: false; message: string } {
  const option = durationOption(policy, iso);
  if (option) return { ok: true, remindBefore: option.remindBefore };
  if (policy.custom) {
    if (DurationConstraint.of(policy.custom.min, policy.custom.max).contains(iso)) {
      return { ok: true, remindBefore: policy.remindBefore };
    }
    const { min, max } = policy.custom;
    return {
      ok: false,
      message: `Choose a duration between ${humanizeDuration(min)} and ${humanizeDuration(max)}.`,
    };
  }
  if (policy.durations.length === 0)
    return { ok: false, message: 'No durations are available for this resource.' };
  return {
    ok: false,
    message: `Choose one of: ${policy.durations.map((o) => humanizeDuration(o.duration)).join(', ')}.`,
  };
}
