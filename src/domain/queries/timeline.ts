/**
 * A grant's timeline, from the audit trail: requested, approved or auto-approved by whom,
 * provisioned, reminded, extended (each extension), used, revoked or expired and by whom.
 */
import type { ServiceContext } from '../context.js';
import { DomainError } from '../errors.js';
import type { AuditEvent, AuditEventType } from '../model.js';
import { refuse } from '../refusals.js';
import { type GrantRow, toRow } from './grants.js';
import { canSeeGrant, canSeeResource, viewerOf } from './visibility.js';

export type TimelineStep =
  | 'requested'
  | 'extension-requested'
  | 'approved'
  | 'auto-approved'
  | 'provisioned'
  | 'provisioning-failed'
  | 'reminded'
  | 'extended'
  | 'used'
  | 'revocation-failed'
  | 'ended-by-holder'
  | 'revoked'
  | 'expired';

export interface TimelineEntry {
  at: Date;
  step: TimelineStep;
  /** Who did it: an email, or `system`. */
  by: string;
  /** Their name, when the record holds it. */
  byName?: string;
  /** `extended`: the expiry before and after; `revoked`, `ended-by-holder`: the reason given, if any. */
  from?: Date;
  to?: Date;
  /** `provisioning-failed`, `revocation-failed`: what the connector said (short). */
  error?: string;
  /** `revoked`: the reason the revoker gave, if any. */
  comment?: string;
}

export interface GrantTimeline {
  grant: GrantRow;
  justification: string;
  ticket?: string;
  entries: TimelineEntry[];
  /** Whether the viewer may also see the resource's access history (its owners, approvers, admins). */
  resourceHistory: boolean;
}

const STEP: Partial<Record<AuditEventType, TimelineStep>> = {
  'request.created': 'requested',
  'request.approved': 'approved',
  'request.auto_approved': 'auto-approved',
  'grant.activated': 'provisioned',
  'grant.provisioning_failed': 'provisioning-failed',
  'grant.reminded': 'reminded',
  'grant.extended': 'extended',
  'access.used': 'used',
  'grant.revocation_failed': 'revocation-failed',
  'grant.expired': 'expired',
};

/** How many audit events of one grant a timeline reads at most. */
const TIMELINE_LIMIT = 1000;

export async function grantTimeline(
  ctx: ServiceContext,
  viewerEmail: string,
  grantId: string,
): Promise<GrantTimeline> {
  const viewer = viewerOf(ctx.config, viewerEmail);
  const grant = await ctx.repos.grants.get(grantId);
  if (!grant || !canSeeGrant(viewer, grant)) {
    // The same answer whether the grant exists or not: nothing is revealed to who may not see it.
    return refuse(
      ctx,
      { actor: viewer.email, action: 'view', grantId },
      new DomainError(
        grant ? 'NOT_ALLOWED_TO_VIEW' : 'NOT_FOUND',
        'There is no such access that you may see: only admins, the resource’s approvers and owners, and the holder can.',
      ),
    );
  }
  const [request, ofRequest, ofGrant] = await Promise.all([
    ctx.repos.requests.get(grant.requestId),
    ctx.repos.audit.list({ requestId: grant.requestId, limit: TIMELINE_LIMIT }),
    ctx.repos.audit.list({ grantId, limit: TIMELINE_LIMIT }),
  ]);
  const byId = new Map<string, AuditEvent>();
  for (const event of [...ofRequest, ...ofGrant]) byId.set(event.id, event);
  const events = [...byId.values()].sort(
    (a, b) => a.at.getTime() - b.at.getTime() || a.id.localeCompare(b.id),
  );
  const entries: TimelineEntry[] = [];
  for (const event of events) {
    const step = stepOf(event, grant.requestId);
    if (!step) continue;
    const entry: TimelineEntry = { at: event.at, step, by: event.actor };
    if (event.actor === grant.holder.email) entry.byName = grant.holder.name;
    else if (step === 'approved' && request?.decidedBy === event.actor && request.decidedByName) {
      entry.byName = request.decidedByName;
    }
    const details = event.details ?? {};
    if (step === 'extended') {
      if (typeof details.from === 'string') entry.from = new Date(details.from);
      if (typeof details.to === 'string') entry.to = new Date(details.to);
    }
    if (typeof details.error === 'string') entry.error = details.error;
    if (typeof details.comment === 'string') entry.comment = details.comment;
    entries.push(entry);
  }
  const timeline: GrantTimeline = {
    grant: toRow(ctx, grant),
    justification: grant.justification,
    entries,
    resourceHistory: canSeeResource(viewer, grant.resourceId),
  };
  if (request?.ticket) timeline.ticket = request.ticket;
  return timeline;
}

function stepOf(event: AuditEvent, originalRequestId: string): TimelineStep | undefined {
  if (event.type === 'request.created' && event.requestId !== originalRequestId) return 'extension-requested';
  if (event.type === 'grant.revoked') {
    return event.details?.reason === 'ended-by-holder' ? 'ended-by-holder' : 'revoked';
  }
  return STEP[event.type];
}
