/**
 * Refused actions. Every refusal is written to the audit trail (`action.refused`: who, which
 * action, on what, and the error's stable code) and logged under the same name before the coded
 * error reaches the caller, so no refusal goes unrecorded and all read alike.
 */

import type { ServiceContext } from './context.js';
import type { DomainError, ErrorCode } from './errors.js';

/**
 * What was refused: `request` and `extend` are submissions; `approve` … `end` are clicks on a
 * request or grant; `view` is a read (a list, a timeline, a history or a report); `record-use` is a
 * reported use of access; `change-settings` is an owner's save of a resource's support access.
 */
export type RefusedAction =
  | 'request'
  | 'extend'
  | 'approve'
  | 'deny'
  | 'cancel'
  | 'end'
  | 'view'
  | 'record-use'
  | 'change-settings';

export interface Refusal {
  /** The normalised email of who tried. */
  actor: string;
  action: RefusedAction;
  requestId?: string;
  grantId?: string;
  resourceId?: string;
}

/** Audits and logs a refusal without throwing (a dry run reports it; the caller decides what next). */
export async function recordRefusal(ctx: ServiceContext, refusal: Refusal, code: ErrorCode): Promise<void> {
  const { actor, action, ...subject } = refusal;
  await ctx.audit('action.refused', actor, { ...subject, details: { action, code } });
  ctx.log.warn({ ...subject, actor, action, code }, 'action.refused');
}

/** Audits and logs the refusal, then throws `error`. */
export async function refuse(ctx: ServiceContext, refusal: Refusal, error: DomainError): Promise<never> {
  await recordRefusal(ctx, refusal, error.code);
  throw error;
}
