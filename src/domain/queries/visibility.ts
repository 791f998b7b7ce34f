/**
 * Who sees what. Admins (top-level `admins`) see every grant; a resource's approvers and owners see
 * that resource's grants; everyone sees their own. Every read in ./grants.ts, ./timeline.ts,
 * ./history.ts and ./report.ts goes through here with the asking person; none passes a filter
 * straight to the store.
 */
import { normalizeEmail } from '../email.js';
import type { Grant } from '../model.js';
import type { AccessConfig, ResourceConfig } from '../policy.js';
import type { GrantScope } from '../ports.js';

/**
 * The HTTP API's actor (`API_TOKEN`): reads like an admin, and is recorded as `api` in the audit
 * trail. No person can be it: people are known by email, and this has no `@`.
 */
export const API_ACTOR = 'api';

export interface Viewer {
  /** Normalised email of the asking person. */
  readonly email: string;
  readonly admin: boolean;
  /** Ids of the resources this person approves or owns. */
  readonly resources: ReadonlySet<string>;
}

/** Per policy (a reload makes a new one): email → the resources that person approves or owns. */
const roleIndex = new WeakMap<AccessConfig, Map<string, Set<string>>>();

function rolesByEmail(config: AccessConfig): Map<string, Set<string>> {
  let index = roleIndex.get(config);
  if (!index) {
    index = new Map();
    for (const resource of config.resources) {
      for (const email of [...resource.approvers, ...resource.owners]) {
        const ids = index.get(email) ?? new Set<string>();
        ids.add(resource.id);
        index.set(email, ids);
      }
    }
    roleIndex.set(config, index);
  }
  return index;
}

export function viewerOf(config: AccessConfig, email: string): Viewer {
  const normalized = normalizeEmail(email);
  return {
    email: normalized,
    admin: normalized === API_ACTOR || config.admins.includes(normalized),
    resources: rolesByEmail(config).get(normalized) ?? new Set(),
  };
}

/** Admins, and the resource's approvers and owners. */
export function canSeeResource(viewer: Viewer, resourceId: string): boolean {
  return viewer.admin || viewer.resources.has(resourceId);
}

/** Those who see the resource, and the holder. */
export function canSeeGrant(viewer: Viewer, grant: Pick<Grant, 'resourceId' | 'holder'>): boolean {
  return canSeeResource(viewer, grant.resourceId) || grant.holder.email === viewer.email;
}

/** The branches of what `viewer` sees, for a grant search; undefined: everything (an admin). */
export function scopeOf(viewer: Viewer): GrantScope[] | undefined {
  if (viewer.admin) return undefined;
  const own: GrantScope = { holderEmail: viewer.email };
  return viewer.resources.size > 0 ? [{ resourceIds: [...viewer.resources] }, own] : [own];
}

/** The resources a report or a dashboard filter may name: a resource by id or name, or a group. */
export function resourcesOfGroup(config: AccessConfig, group: string): ResourceConfig[] {
  const key = group.trim().toLowerCase();
  return config.resources.filter((r) => r.group?.toLowerCase() === key);
}
