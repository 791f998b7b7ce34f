/**
 * The grants a person may see, filtered and paginated: the dashboards, the API's `GET /grants` and
 * the CSV report read through here. A filter narrows what the viewer sees and never widens it: a
 * plain user filtering by someone else's resource gets their own grants on it, nothing more.
 */
import type { ServiceContext } from '../context.js';
import { normalizeEmail } from '../email.js';
import { DomainError } from '../errors.js';
import type { Grant, GrantStatus, Person } from '../model.js';
import type { GrantSearch } from '../ports.js';
import { refuse } from '../refusals.js';
import { encodeCursor, type PageRequest, readPage } from './cursor.js';

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type PageRequest } from './cursor.js';

import { resourcesOfGroup, scopeOf, type Viewer, viewerOf } from './visibility.js';

/** The statuses people filter by: `ended` covers expired and revoked grants. */
export const GRANT_LIST_STATUSES = ['provisioning', 'active', 'revoking', 'ended'] as const;
export type GrantListStatus = (typeof GRANT_LIST_STATUSES)[number];

export function listStatusOf(status: GrantStatus): GrantListStatus {
  return status === 'expired' || status === 'revoked' ? 'ended' : status;
}

const STORED: Record<GrantListStatus, GrantStatus[]> = {
  provisioning: ['provisioning'],
  active: ['active'],
  revoking: ['revoking'],
  ended: ['expired', 'revoked'],
};

export interface GrantFilter {
  /** A resource id (exactly one of `resource` and `group`, or neither). */
  resource?: string;
  /** A resource group: every resource that names it as its `group`. */
  group?: string;
  /** The holder's email. */
  user?: string;
  status?: GrantListStatus | readonly GrantListStatus[];
  /** `expiresAt` within [expiresFrom, expiresTo]. */
  expiresFrom?: Date;
  expiresTo?: Date;
  /** Only grants requested (created) at or after this time. */
  since?: Date;
}

/** One row of a grants list: who, what, since when, until when, and where it stands. */
export interface GrantRow {
  id: string;
  requestId: string;
  resourceId: string;
  resourceName: string;
  group?: string;
  holder: Person;
  status: GrantListStatus;
  /** The stored status (`expired` and `revoked` both list as `ended`). */
  grantStatus: GrantStatus;
  requestedAt: Date;
  /** When access started (the connector confirmed); absent while provisioning. */
  since?: Date;
  /** When it ended, else when it expires. */
  until?: Date;
  expiresAt?: Date;
  endedAt?: Date;
  endReason?: Grant['endReason'];
  /** Who ended it: an email, or `system` at expiry. */
  endedBy?: string;
  extensions: number;
}

export interface GrantPage {
  rows: GrantRow[];
  /** How many grants match the filter in all (within what the viewer sees). */
  total: number;
  /** The cursor of the next page, or null on the last one. */
  next: string | null;
}

export function toRow(ctx: ServiceContext, grant: Grant): GrantRow {
  const resource = ctx.resource(grant.resourceId);
  const row: GrantRow = {
    id: grant.id,
    requestId: grant.requestId,
    resourceId: grant.resourceId,
    resourceName: resource.name,
    holder: grant.holder,
    status: listStatusOf(grant.status),
    grantStatus: grant.status,
    requestedAt: grant.createdAt,
    extensions: grant.appliedExtensions?.length ?? 0,
  };
  if (resource.group !== undefined) row.group = resource.group;
  if (grant.startsAt) row.since = grant.startsAt;
  const until = grant.endedAt ?? grant.expiresAt;
  if (until) row.until = until;
  if (grant.expiresAt) row.expiresAt = grant.expiresAt;
  if (grant.endedAt) row.endedAt = grant.endedAt;
  if (grant.endReason) row.endReason = grant.endReason;
  if (grant.endedBy) row.endedBy = grant.endedBy;
  return row;
}

/**
 * The store search for `filter` as `viewer` sees it. An unknown resource or group is refused
 * (audited), like a bad cursor.
 */
export async function searchFor(
  ctx: ServiceContext,
  viewer: Viewer,
  filter: GrantFilter,
): Promise<GrantSearch> {
  const refused = (error: DomainError) => refuse(ctx, { actor: viewer.email, action: 'view' }, error);
  const statuses = filter.status === undefined ? GRANT_LIST_STATUSES : [filter.status].flat();
  const search: GrantSearch = { status: statuses.flatMap((s) => STORED[s]) };
  const scope = scopeOf(viewer);
  if (scope) search.anyOf = scope;
  if (filter.resource !== undefined && filter.group !== undefined) {
    return refused(new DomainError('INVALID_INPUT', 'Filter by a resource or by a group, not both.'));
  }
  if (filter.resource !== undefined) {
    const known = ctx.config.resources.some((r) => r.id === filter.resource);
    if (!known && !viewer.admin) {
      return refused(
        new DomainError('RESOURCE_UNKNOWN', `There is no resource “${filter.resource}”.`, 'resource'),
      );
    }
    search.resourceIds = [filter.resource];
  }
  if (filter.group !== undefined) {
    const members = resourcesOfGroup(ctx.config, filter.group);
    if (members.length === 0) {
      return refused(
        new DomainError('RESOURCE_UNKNOWN', `There is no resource group “${filter.group}”.`, 'resource'),
      );
    }
    search.resourceIds = members.map((r) => r.id);
  }
  if (filter.user !== undefined) search.holderEmail = normalizeEmail(filter.user);
  if (filter.expiresFrom) search.expiresFrom = filter.expiresFrom;
  if (filter.expiresTo) search.expiresTo = filter.expiresTo;
  if (filter.since) search.createdSince = filter.since;
  return search;
}

export async function listGrants(
  ctx: ServiceContext,
  viewerEmail: string,
  filter: GrantFilter,
  page: PageRequest = {},
): Promise<GrantPage> {
  const viewer = viewerOf(ctx.config, viewerEmail);
  const wanted = readPage(page);
  if (wanted instanceof DomainError) return refuse(ctx, { actor: viewer.email, action: 'view' }, wanted);
  const { size, after } = wanted;
  const search = await searchFor(ctx, viewer, filter);
  if (after) search.after = { createdAt: after.at, id: after.id };
  // One more than the page holds tells whether another page follows.
  const [found, total] = await Promise.all([
    ctx.repos.grants.search(search, size + 1),
    ctx.repos.grants.count(search),
  ]);
  const rows = found.slice(0, size);
  const last = rows.at(-1);
  return {
    rows: rows.map((g) => toRow(ctx, g)),
    total,
    next: found.length > size && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
