/**
 * Coded domain errors. The code is stable (branch on it, never on the message); the message is
 * the sentence a person sees; `field` names the form field an inline error belongs to.
 */

export type ErrorCode =
  | 'NOT_FOUND'
  | 'RESOURCE_UNKNOWN'
  | 'NOT_ALLOWED_TO_REQUEST'
  | 'NO_APPROVERS'
  | 'APPROVER_NOT_ELIGIBLE'
  | 'SELF_APPROVAL'
  | 'NOT_AN_APPROVER'
  | 'DURATION_OUT_OF_POLICY'
  | 'JUSTIFICATION_REQUIRED'
  | 'ALREADY_DECIDED'
  | 'REQUEST_EXPIRED'
  | 'NOT_REQUESTER'
  | 'NOT_HOLDER'
  | 'NOT_ADMIN'
  | 'GRANT_NOT_ACTIVE'
  | 'EXTENSIONS_DISABLED'
  | 'ALREADY_HAS_ACCESS'
  | 'ALREADY_REQUESTED'
  | 'INVALID_INPUT'
  | 'NOT_ALLOWED_TO_VIEW'
  | 'NO_ACTIVE_GRANT'
  | 'RESOURCE_CLOSED'
  | 'NOT_OWNER'
  | 'WINDOW_IN_PAST'
  | 'SETTINGS_CHANGED';

/** Form fields an error can be attached to, for inline errors in request forms. */
export type ErrorField = 'resource' | 'approvers' | 'duration' | 'justification';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: ErrorField,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
