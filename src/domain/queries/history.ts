/**
 * A resource's access history (for its owners, approvers and admins): when each person's access
 * started, was extended, was used and ended, newest first; and recording a use, which the
 * protected system reports (`POST /api/v1/access-events`) and which counts only while the person
 * held an active grant.
 */
import type { ServiceContext } from '../context.js';
import { normalizeEmail } from '../email.js';
import { DomainError } from '../errors.js';
import { sortableId } from '../ids.js';
import type { AuditEvent, AuditEventType, Grant, Person } from '../model.js';
import { refuse } from '../refusals.js';
import { encodeCursor, type PageRequest, readPage } from './cursor.js';
import { canSeeResource, viewerOf } from './visibility.js';

export type HistoryKind = 'started' | 'extended' | 'used' | 'ended';

export interface HistoryEntry {
  at: Date;
  kind: HistoryKind;
  user: Person;
  grantId: string;
  /** `ended`: how (expired, ended by the holder, revoked by an admin or owner) and by whom. */
  endReason?: string;
  by?: string;
  /** `extended`: the new expiry. */
  until?: Date;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  next: string | null;
}

const KIND: Partial<Record<AuditEventType, HistoryKind>> = {
  'grant.activated': 'started',
  'grant.extended': 'extended',
  'access.used': 'used',
  'grant.revoked': 'ended',
  'grant.expired': 'ended',
};
const TYPES = Object.keys(KIND) as AuditEventType[];

export async function accessHistory(
  ctx: ServiceContext,
  viewerEmail: string,
  resourceId: string,
  page: PageRequest = {},
): Promise<HistoryPage> {
  const viewer = viewerOf(ctx.config, viewerEmail);
  const refused = (error: DomainError) =>
    refuse(ctx, { actor: viewer.email, action: 'view', resourceId }, error);
  if (!canSeeResource(viewer, resourceId)) {
    return refused(
      new DomainError(
        'NOT_ALLOWED_TO_VIEW',
        'Only admins and this resource’s approvers and owners can see its access history.',
      ),
    );
  }
  const wanted = readPage(page);
  if (wanted instanceof DomainError) return refused(wanted);
  const { size, after: before } = wanted;
  const events = await ctx.repos.audit.history({
    resourceId,
    types: TYPES,
    limit: size + 1,
    ...(before ? { before } : {}),
  });
  const shown = events.slice(0, size);
  const grantIds = [...new Set(shown.flatMap((e) => (e.grantId ? [e.grantId] : [])))];
  const grants = new Map((await ctx.repos.grants.getMany(grantIds)).map((g) => [g.id, g]));
  const entries = shown.flatMap((e) => {
    const grant = e.grantId ? grants.get(e.grantId) : undefined;
    return grant ? [entryOf(e, grant)] : [];
  });
  const last = shown.at(-1);
  return {
    entries,
    next: events.length > size && last ? encodeCursor(last.at, last.id) : null,
  };
}

function entryOf(event: AuditEvent, grant: Grant): HistoryEntry {
  const entry: HistoryEntry = {
    at: event.at,
    kind: KIND[event.type] ?? 'used',
    user: grant.holder,
    grantId: grant.id,
  };
  if (entry.kind === 'ended') {
    entry.endReason =
      event.type === 'grant.expired' ? 'expired' : String(event.details?.reason ?? 'revoked-by-admin');
    entry.by = event.actor;
  }
  if (entry.kind === 'extended' && typeof event.details?.to === 'string')
    entry.until = new Date(event.details.to);
  return entry;
}

// ---------------------------------------------------------------- recording a use

/** How far in the future a reported use may lie (clock skew between systems). */
export const USE_CLOCK_SKEW_MS = 5 * 60_000;

export interface AccessUse {
  email: string;
  resourceId: string;
  at: Date;
}

/** The grant of `email` on `resourceId` that was active at `at`, if any. */
export async function grantActiveAt(ctx: ServiceContext, email: string, resourceId: string, at: Date) {
  const grants = await ctx.repos.grants.list({ holderEmail: email, resourceId, limit: 100 });
  return grants.find((g) => heldAt(g, at)) ?? null;
}

/** Access counts from its start (the connector confirmed) until it expired or was ended. */
export function heldAt(grant: Grant, at: Date): boolean {
  if (!grant.startsAt || grant.startsAt > at) return false;
  const ends = [grant.expiresAt, grant.endedAt].filter((d): d is Date => d !== undefined);
  return ends.every((end) => at < end);
}

/**
 * Records that `email` used their access to `resourceId` at `at` (an `access.used` audit event,
 * dated `at`). Refused (and audited, `actor` being who reported it) unless they held an active
 * grant then.
 */
export async function recordAccessUse(
  ctx: ServiceContext,
  use: AccessUse,
  actor: string,
): Promise<AuditEvent> {
  const email = normalizeEmail(use.email);
  const refused = (error: DomainError) =>
    refuse(ctx, { actor, action: 'record-use', resourceId: use.resourceId }, error);
  if (use.at.getTime() > ctx.clock.now().getTime() + USE_CLOCK_SKEW_MS) {
    return refused(new DomainError('INVALID_INPUT', 'A use of access cannot lie in the future.'));
  }
  const grant = await grantActiveAt(ctx, email, use.resourceId, use.at);
  if (!grant) {
    return refused(
      new DomainError('NO_ACTIVE_GRANT', `${email} held no active access to ${use.resourceId} at that time.`),
    );
  }
  const event: AuditEvent = {
    id: sortableId(use.at, ctx.newId()),
    type: 'access.used',
    at: use.at,
    actor: email,
    grantId: grant.id,
    requestId: grant.requestId,
    resourceId: grant.resourceId,
    details: { reportedBy: actor, recordedAt: ctx.clock.now().toISOString() },
  };
  await ctx.repos.audit.append(event);
  ctx.log.info({ grantId: grant.id, resourceId: grant.resourceId }, 'access.used');
  return event;
}
