/** Small neutral forms (the request form itself is in src/core/forms). */
import type { ResourceRef } from '../events.js';
import type { AccessRequest } from '../model.js';
import type { FormView } from './model.js';

export const DENY_REASON_INPUT = 'jit.deny.reason';
export const MAX_DENY_REASON = 1000;

/** Asked before a deny: an optional reason, shown to the requester. */
export function denyForm(request: AccessRequest, resource: ResourceRef): FormView {
  return {
    title: 'Deny request',
    lines: [`Deny ${request.requester.name}'s request for ${resource.name}?`],
    inputs: [
      {
        id: DENY_REASON_INPUT,
        label: 'Reason (optional)',
        optional: true,
        multiline: true,
        maxLength: MAX_DENY_REASON,
      },
    ],
    submitLabel: 'Deny',
    closeLabel: 'Back',
  };
}

export const REVOKE_REASON_INPUT = 'jit.revoke.reason';
export const MAX_REVOKE_REASON = 1000;

/** The confirmation of a revocation (Revoke on the dashboard): an optional reason, told to the holder. */
export function revokeForm(holderName: string, resourceName: string): FormView {
  return {
    title: 'Revoke access',
    lines: [
      `Revoke ${holderName}'s access to ${resourceName} now? It is removed at once through the resource's connector, and ${holderName} is told.`,
    ],
    inputs: [
      {
        id: REVOKE_REASON_INPUT,
        label: 'Reason (optional, shown to the holder)',
        optional: true,
        multiline: true,
        maxLength: MAX_REVOKE_REASON,
      },
    ],
    submitLabel: 'Revoke',
    closeLabel: 'Back',
  };
}
