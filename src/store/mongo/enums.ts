/**
 * The allowed values of the enum fields the mongoose schemas validate, each checked at compile time
 * against the union it mirrors in src/domain/model.ts: a member missing here is a type error.
 */
import type {
  ApprovalMode,
  AuditEventType,
  Grant,
  GrantStatus,
  OutboxItem,
  OutboxStatus,
  RequestKind,
  RequestStatus,
} from '../../domain/model.js';

/** `values` must list every member of `U`: a missing one is a compile error. */
const everyOf =
  <U extends string>() =>
  <const A extends readonly U[]>(
    values: A & ([Exclude<U, A[number]>] extends [never] ? unknown : { missing: Exclude<U, A[number]> }),
  ): A =>
    values;

export const REQUEST_KINDS = everyOf<RequestKind>()(['access', 'extension']);
export const APPROVAL_MODES = everyOf<ApprovalMode>()(['manual', 'auto']);
export const REQUEST_STATUSES = everyOf<RequestStatus>()([
  'pending',
  'approved',
  'denied',
  'expired',
  'cancelled',
]);
export const GRANT_STATUSES = everyOf<GrantStatus>()([
  'provisioning',
  'active',
  'revoking',
  'expired',
  'revoked',
]);
export const END_REASONS = everyOf<NonNullable<Grant['endReason']>>()([
  'expired',
  'ended-by-holder',
  'revoked-by-admin',
  'closed-by-owner',
]);
export const AUDIT_EVENT_TYPES = everyOf<AuditEventType>()([
  'request.created',
  'request.approved',
  'request.denied',
  'request.expired',
  'request.cancelled',
  'request.auto_approved',
  'grant.provisioning_failed',
  'grant.activated',
  'grant.extended',
  'grant.reminded',
  'grant.revocation_failed',
  'grant.revoked',
  'grant.expired',
  'message.undeliverable',
  'action.refused',
  'access.used',
  'resource.settings_changed',
]);
export const OUTBOX_STATUSES = everyOf<OutboxStatus>()(['pending', 'sent', 'undeliverable']);
export const OUTBOX_MODES = everyOf<OutboxItem['mode']>()(['send', 'update']);
