/**
 * The access report: one row per grant the viewer may see, with the request that led to it (who
 * asked, why, who decided and when) and how it ended. Neutral data; src/core/reports turns it into
 * CSV. Read in keyset pages, so a report over tens of thousands of grants never loads a whole
 * collection at once, nor scans it.
 */
import type { ServiceContext } from '../context.js';
import type { AccessRequest, Grant } from '../model.js';
import type { GrantFilter } from './grants.js';
import { searchFor } from './grants.js';
import { viewerOf } from './visibility.js';

export interface ReportRow {
  resourceId: string;
  resourceName: string;
  userName: string;
  email: string;
  /** provisioning, active, revoking, expired or revoked. */
  status: string;
  requestedAt: Date;
  justification: string;
  /** Who decided (their email); `auto-approved` under auto-approval. */
  decidedBy: string;
  decidedAt?: Date;
  startedAt?: Date;
  /** When it ended, else when it expires. */
  expiresOrEndedAt?: Date;
  extensions: number;
  /** Who revoked it early (an admin or owner, or the holder), if anyone did. */
  revokedBy: string;
}

/** Grants read per round trip. */
const REPORT_BATCH = 500;
/** The most rows one report holds; a wider one is cut here and says so (`truncated`). */
export const REPORT_MAX_ROWS = 100_000;

export interface Report {
  rows: ReportRow[];
  truncated: boolean;
}

export async function accessReport(
  ctx: ServiceContext,
  viewerEmail: string,
  filter: GrantFilter,
): Promise<Report> {
  const viewer = viewerOf(ctx.config, viewerEmail);
  const search = await searchFor(ctx, viewer, filter);
  const rows: ReportRow[] = [];
  for (;;) {
    const grants = await ctx.repos.grants.search(search, REPORT_BATCH);
    const requests = new Map(
      (await ctx.repos.requests.getMany(grants.map((g) => g.requestId))).map((r) => [r.id, r]),
    );
    for (const grant of grants) {
      if (rows.length >= REPORT_MAX_ROWS) return { rows, truncated: true };
      rows.push(rowOf(ctx, grant, requests.get(grant.requestId)));
    }
    const last = grants.at(-1);
    if (grants.length < REPORT_BATCH || !last) return { rows, truncated: false };
    search.after = { createdAt: last.createdAt, id: last.id };
  }
}

function rowOf(ctx: ServiceContext, grant: Grant, request: AccessRequest | undefined): ReportRow {
  const resource = ctx.resource(grant.resourceId);
  const row: ReportRow = {
    resourceId: grant.resourceId,
    resourceName: resource.name,
    userName: grant.holder.name,
    email: grant.holder.email,
    status: grant.status,
    requestedAt: request?.createdAt ?? grant.createdAt,
    justification: request?.justification ?? grant.justification,
    decidedBy: decider(request),
    extensions: grant.appliedExtensions?.length ?? 0,
    revokedBy: grant.endReason && grant.endReason !== 'expired' ? (grant.endedBy ?? '') : '',
  };
  if (request?.decidedAt) row.decidedAt = request.decidedAt;
  if (grant.startsAt) row.startedAt = grant.startsAt;
  const end = grant.endedAt ?? grant.expiresAt;
  if (end) row.expiresOrEndedAt = end;
  return row;
}

function decider(request: AccessRequest | undefined): string {
  if (!request) return '';
  if (request.approval === 'auto' || request.decidedBy === 'system') return 'auto-approved';
  return request.decidedBy ?? '';
}
