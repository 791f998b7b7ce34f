/**
 * What a request form becomes once its request went out, where the platform keeps the form in the
 * chat (a Teams card is replaced by this view; a Slack modal simply closes). It keeps the record
 * (what was asked, for how long, to whom) and has no buttons: the requester's status message,
 * sent through the outbox, carries Cancel.
 */
import type { ResourceRef } from '../../domain/events.js';
import type { AccessRequest } from '../../domain/model.js';
import type { MessageView, ViewField } from '../../domain/views/model.js';
import { humanizeDuration } from '../../domain/views/time.js';

export function requestSentView(
  request: AccessRequest,
  resource: ResourceRef,
  nameOf: (email: string) => string,
): MessageView {
  const extension = request.kind === 'extension';
  const what = extension ? `more time on ${resource.name}` : `access to ${resource.name}`;
  const how = humanizeDuration(request.duration);
  const fields: ViewField[] = [
    { label: 'Resource', value: resource.name },
    { label: extension ? 'Extend by' : 'Duration', value: how },
    { label: 'Justification', value: request.justification },
  ];
  if (request.ticket) fields.push({ label: 'Ticket', value: request.ticket });
  const line =
    request.approval === 'auto'
      ? `Your request for ${what} for ${how} was approved automatically under the resource’s policy.`
      : `Your request for ${what} for ${how} was sent to ${request.approvers.map(nameOf).join(', ')}.`;
  return {
    text: request.approval === 'auto' ? `Approved: ${what}` : `Request sent: ${what}`,
    title: request.approval === 'auto' ? 'Request approved' : 'Request sent',
    lines: [line],
    fields,
    note:
      request.approval === 'auto'
        ? 'You will be told here when the access is ready.'
        : 'You will be told here when someone decides.',
  };
}
