/** The messages the product sends, as neutral views. Pure functions of stored records. */

import { addDuration } from '../duration.js';
import type { ConnectorOperation, ResourceRef } from '../events.js';
import { type AccessRequest, type Grant, retriesStopped } from '../model.js';
import { windowEndedReason } from '../owner-settings.js';
import { ActionId, type MessageView, type ViewField } from './model.js';
import { formatTime, humanizeDuration } from './time.js';

export interface Viewer {
  tz?: string;
  now: Date;
}

/** Names for emails, when the platform knows them. */
export type NameOf = (email: string) => string;

function requestFields(r: AccessRequest, resource: ResourceRef, viewer: Viewer): ViewField[] {
  const fields: ViewField[] = [
    { label: 'Requester', value: `${r.requester.name} (${r.requester.email})` },
    { label: 'Resource', value: resource.name },
    { label: r.kind === 'extension' ? 'Extend by' : 'Duration', value: humanizeDuration(r.duration) },
    { label: 'Justification', value: r.justification },
  ];
  if (r.ticket) fields.push({ label: 'Ticket', value: r.ticket });
  if (r.status === 'pending' && r.kind === 'access') {
    const wanted = addDuration(viewer.now, r.duration);
    const window = resource.windowEndsAt;
    fields.push({
      label: 'Access would end',
      value:
        window && window < wanted
          ? `${formatTime(window, viewer.tz)} if approved now (the end of the owners' access window)`
          : `${formatTime(wanted, viewer.tz)} if approved now`,
    });
  }
  if (r.status === 'pending')
    fields.push({ label: 'Request expires', value: formatTime(r.decideBy, viewer.tz) });
  return fields;
}

/** What a request closed with its resource says, on every card about it. */
export const CLOSED_BY_OWNERS =
  "the resource's owners closed access to it, so this request can no longer be decided.";

/**
 * Why a request was closed with its resource, as its requester was told (the request form's
 * sentence, stored when it was closed); the end of the owners' window is shown in the viewer's zone.
 */
function closedWhy(r: AccessRequest, resource: ResourceRef, viewer: Viewer): string {
  const end = resource.windowEndsAt;
  if (end && r.reason === windowEndedReason(resource.name, end)) {
    return windowEndedReason(resource.name, end, viewer.tz);
  }
  return r.reason ?? '';
}

/** A request's status in a message's summary line. */
function statusWord(r: AccessRequest): string {
  return r.closedReason ? 'closed by the resource’s owners' : r.status;
}

export function outcomeLine(r: AccessRequest, viewer: Viewer): string {
  const when = r.decidedAt ? formatTime(r.decidedAt, viewer.tz) : '';
  // An admin decision says so: the chosen approvers did not make it.
  const by = `${r.decidedByName}${r.decidedAs === 'admin' ? ' (as administrator)' : ''}`;
  switch (r.status) {
    case 'approved':
      return r.decidedBy === 'system'
        ? `Approved automatically at ${when}.`
        : `Approved by ${by} at ${when}.`;
    case 'denied':
      return `Denied by ${by} at ${when}.${r.reason ? ` Reason: ${r.reason}` : ''}`;
    case 'expired':
      return `Expired at ${when}: nobody decided in time.`;
    case 'cancelled':
      // Closed with its resource: everyone sees that the owners closed access; the requester is
      // also told why (requesterStatus adds the stored sentence).
      if (r.closedReason === 'closed-by-owner') return `Closed at ${when}: ${CLOSED_BY_OWNERS}`;
      return `Cancelled at ${when}.${r.reason ? ` ${r.reason}` : ''}`;
    default:
      return '';
  }
}

/** The approver's card: pending with Approve/Deny, or resolved with the outcome and no buttons. */
export function approvalCard(r: AccessRequest, resource: ResourceRef, viewer: Viewer): MessageView {
  const what = r.kind === 'extension' ? 'an extension of access to' : 'access to';
  const title = r.kind === 'extension' ? 'Extension request' : 'Access request';
  const view: MessageView = {
    text: `${r.requester.name} requests ${what} ${resource.name} for ${humanizeDuration(r.duration)}`,
    title,
    lines: [`${r.requester.name} requests ${what} ${resource.name}.`],
    fields: requestFields(r, resource, viewer),
  };
  if (r.status === 'pending') {
    view.actions = [
      {
        id: ActionId.approve,
        label: 'Approve',
        style: 'primary',
        value: r.id,
        confirm: {
          title: 'Approve access?',
          text: `${r.requester.name} gets ${what} ${resource.name} for ${humanizeDuration(r.duration)}.`,
          confirm: 'Approve',
          deny: 'Back',
        },
      },
      { id: ActionId.deny, label: 'Deny', style: 'danger', value: r.id },
    ];
  } else {
    view.text = `${title} from ${r.requester.name}: ${statusWord(r)}`;
    view.lines = [...(view.lines ?? []), outcomeLine(r, viewer)];
  }
  return view;
}

/** The requester's own status message; offers Cancel while pending and Request again after expiry. */
export function requesterStatus(
  r: AccessRequest,
  resource: ResourceRef,
  viewer: Viewer,
  nameOf: NameOf,
): MessageView {
  const what = r.kind === 'extension' ? `your extension of ${resource.name}` : `access to ${resource.name}`;
  const view: MessageView = {
    text: `Your request for ${what}: ${statusWord(r)}`,
    title: r.kind === 'extension' ? 'Your extension request' : 'Your access request',
    fields: [
      { label: 'Resource', value: resource.name },
      { label: r.kind === 'extension' ? 'Extend by' : 'Duration', value: humanizeDuration(r.duration) },
      { label: 'Justification', value: r.justification },
    ],
  };
  if (r.status === 'pending') {
    const to = r.approvers.map(nameOf).join(', ');
    view.lines = [
      `Your request for ${what} for ${humanizeDuration(r.duration)} was sent to ${to}.`,
      `It expires if nobody decides by ${formatTime(r.decideBy, viewer.tz)}.`,
    ];
    view.actions = [
      {
        id: ActionId.cancel,
        label: 'Cancel request',
        value: r.id,
        confirm: {
          title: 'Cancel request?',
          text: 'The approvers will see it was cancelled.',
          confirm: 'Cancel it',
          deny: 'Keep it',
        },
      },
    ];
  } else {
    view.lines = [outcomeLine(r, viewer)];
    if (r.closedReason && r.reason) view.lines.push(closedWhy(r, resource, viewer));
    if (r.status === 'expired' && r.kind === 'access') {
      view.actions = [{ id: ActionId.requestAgain, label: 'Request again', value: r.id, style: 'primary' }];
    }
  }
  return view;
}

/** Told to the requester when approvers could not be reached on any chat platform. */
export function unreachableNotice(
  input: {
    request: AccessRequest;
    resource: ResourceRef;
    unreachable: string[];
    nobody: boolean;
    /** some approver has the request (else the others are still being tried) */
    delivered?: boolean;
    platforms: string[];
  },
  nameOf: NameOf,
): MessageView {
  const where = input.platforms.join(' or ');
  const who = input.unreachable.map(nameOf).join(', ');
  const line = input.nobody
    ? `None of your approvers could be reached on ${where} (${who}), so nobody can decide your request for ${input.resource.name}. Cancel it and ask someone else.`
    : `Could not reach ${who} on ${where}; ${input.delivered === false ? 'still trying to reach the others' : 'the others have it'}.`;
  return {
    text: line,
    title: 'Approver not reachable',
    lines: [line],
    ...(input.request.status === 'pending'
      ? {
          actions: [
            {
              id: ActionId.cancel,
              label: 'Cancel request',
              value: input.request.id,
              confirm: {
                title: 'Cancel request?',
                text: 'The approvers will see it was cancelled.',
                confirm: 'Cancel it',
                deny: 'Keep it',
              },
            },
          ],
        }
      : {}),
  };
}

/** Told to approvers who did not decide, and to the requester. */
export function decisionNotice(r: AccessRequest, resource: ResourceRef, viewer: Viewer): MessageView {
  const line = outcomeLine(r, viewer);
  return {
    text: `${r.requester.name}'s request for ${resource.name}: ${r.status}`,
    title: `Request ${r.status}`,
    lines: [`${r.requester.name}'s request for ${resource.name} (${humanizeDuration(r.duration)}). ${line}`],
  };
}

export function autoApprovedNotice(r: AccessRequest, resource: ResourceRef, viewer: Viewer): MessageView {
  return {
    text: `${r.requester.name} was granted ${resource.name} automatically`,
    title: 'Access granted automatically',
    lines: [`${r.requester.name} was granted access to ${resource.name} automatically under its policy.`],
    fields: requestFields(r, resource, viewer),
  };
}

function endLine(g: Grant, viewer: Viewer, nameOf: NameOf): string {
  const when = g.endedAt ? formatTime(g.endedAt, viewer.tz) : '';
  switch (g.endReason) {
    case 'ended-by-holder':
      return `You ended it at ${when}.`;
    case 'revoked-by-admin': {
      const who = g.endedBy?.includes('@') ? nameOf(g.endedBy) : 'An administrator';
      const how = g.endedBy === 'api' ? ' through the access API' : '';
      return `${who} revoked it${how} at ${when}.${g.endComment ? ` Reason: ${g.endComment}` : ''}`;
    }
    case 'closed-by-owner':
      return g.endedBy && g.endedBy !== 'system'
        ? `${nameOf(g.endedBy)}, an owner of the resource, switched off access to it; it ended at ${when}.`
        : `The access window its owners set has ended; it ended at ${when}.`;
    default:
      return `It expired at ${when}.`;
  }
}

export function grantStatus(g: Grant, resource: ResourceRef, viewer: Viewer, nameOf: NameOf): MessageView {
  switch (g.status) {
    case 'active':
      return {
        text: `Your access to ${resource.name} is active`,
        title: 'Access granted',
        lines: [
          `Your access to ${resource.name} is active until ${g.expiresAt ? formatTime(g.expiresAt, viewer.tz) : '?'}${
            g.expiresAt &&
            resource.windowEndsAt &&
            g.expiresAt.getTime() === new Date(resource.windowEndsAt).getTime()
              ? ", the end of its owners' access window"
              : ''
          }.`,
        ],
        actions: [endAccessAction(g, resource)],
      };
    case 'provisioning':
      return {
        text: `Your access to ${resource.name} is being set up`,
        title: 'Access pending',
        lines: [
          retriesStopped(g)
            ? `Your request for ${resource.name} was approved, but access is not set up: ${resource.name} refused it, so it is not retried automatically. Its approvers have been told; its time starts only once it is set up.`
            : `Your request for ${resource.name} was approved, but access is not set up yet: the connection to ${resource.name} has not confirmed. It is retried automatically; its time starts once it is set up.`,
        ],
      };
    case 'revoking':
      return {
        text: `Your access to ${resource.name} is being removed`,
        title: 'Access ending',
        lines: [
          retriesStopped(g)
            ? `Your access to ${resource.name} is being removed, but ${resource.name} refused the removal, so it is not retried automatically. Its approvers have been told, and you will be told when it is done.`
            : `Your access to ${resource.name} is being removed. ${resource.name} has not confirmed the removal yet; it is retried automatically, and you will be told when it is done.`,
        ],
      };
    default:
      return {
        text: `Your access to ${resource.name} has ended`,
        title: 'Access ended',
        lines: [`Your access to ${resource.name} has ended. ${endLine(g, viewer, nameOf)}`],
      };
  }
}

function endAccessAction(g: Grant, resource: ResourceRef) {
  return {
    id: ActionId.endAccess,
    label: 'End access now',
    style: 'danger' as const,
    value: g.id,
    confirm: {
      title: 'End access now?',
      text: `Your access to ${resource.name} is removed at once.`,
      confirm: 'End access',
      deny: 'Keep it',
    },
  };
}

export function reminder(
  g: Grant,
  resource: ResourceRef,
  viewer: Viewer,
  extensionsAllowed: boolean,
): MessageView {
  const ends = g.expiresAt ? formatTime(g.expiresAt, viewer.tz) : '?';
  const view: MessageView = {
    text: `Your access to ${resource.name} ends at ${ends}`,
    title: 'Access ending soon',
    lines: [`Your access to ${resource.name} ends at ${ends}.`],
    actions: [],
  };
  if (extensionsAllowed) {
    view.actions?.push({ id: ActionId.extend, label: 'Request extension', style: 'primary', value: g.id });
  } else {
    view.note = 'Extensions are turned off for this resource.';
  }
  view.actions?.push(endAccessAction(g, resource));
  return view;
}

export function extendedNotice(g: Grant, resource: ResourceRef, viewer: Viewer): MessageView {
  return {
    text: `Your access to ${resource.name} was extended`,
    title: 'Access extended',
    lines: [
      `Your access to ${resource.name} now ends at ${g.expiresAt ? formatTime(g.expiresAt, viewer.tz) : '?'}.`,
    ],
    actions: [endAccessAction(g, resource)],
  };
}

export function connectorFailing(
  g: Grant,
  resource: ResourceRef,
  operation: ConnectorOperation,
  viewer: Viewer,
): MessageView {
  const what = { provision: 'Granting', revoke: 'Removing', extend: 'Extending' }[operation];
  const next = g.nextAttemptAt ?? g.pendingExtension?.nextAttemptAt;
  const fields = [
    { label: 'Last error', value: g.lastError ?? 'unknown' },
    { label: 'Grant', value: g.id },
  ];
  if (!next) {
    // Not retried: the target refused (a non-retryable failure), or a last revocation failed.
    const then = {
      provision: `The access is not set up and waits; once ${resource.name} is fixed, an administrator can end it and ${g.holder.name} can ask again.`,
      revoke: `The access may still be open in ${resource.name}: remove it there by hand${g.status === 'revoking' ? `, or fix ${resource.name} and end the access again to retry` : ''}.`,
      extend: `${resource.name} was not told of the new expiry and may end the access at the earlier one.`,
    }[operation];
    return {
      text: `${what} access to ${resource.name} for ${g.holder.name} failed and is not retried`,
      title: 'Access connector failed',
      lines: [
        `${what} access to ${resource.name} for ${g.holder.name} (${g.holder.email}) failed and is not retried automatically. ${then}`,
      ],
      fields,
    };
  }
  return {
    text: `${what} access to ${resource.name} for ${g.holder.name} keeps failing`,
    title: 'Access connector failing',
    lines: [
      `${what} access to ${resource.name} for ${g.holder.name} (${g.holder.email}) keeps failing. It is retried automatically; next attempt ${formatTime(next, viewer.tz)}.`,
    ],
    fields,
  };
}
