/**
 * What the outbox stores for each delivery: the message as data (a snapshot of the request or
 * grant at the time of the event), rendered into a neutral view for its recipient only when it is
 * sent, so times are in the recipient's own zone and "if approved now" means the moment it arrives.
 */
import type { ConnectorOperation, ResourceRef } from '../domain/events.js';
import type { AccessRequest, Grant, ResourceSetting } from '../domain/model.js';
import {
  approvalCard,
  autoApprovedNotice,
  connectorFailing,
  decisionNotice,
  extendedNotice,
  grantStatus,
  type NameOf,
  reminder,
  requesterStatus,
  unreachableNotice,
  type Viewer,
} from '../domain/views/messages.js';
import type { MessageView } from '../domain/views/model.js';
import { requestPrompt } from '../domain/views/request-prompt.js';
import { settingsChanged } from '../domain/views/settings.js';

export type Message =
  | { view: 'approval-card'; request: AccessRequest; resource: ResourceRef }
  | { view: 'requester-status'; request: AccessRequest; resource: ResourceRef }
  | { view: 'decision-notice'; request: AccessRequest; resource: ResourceRef }
  | { view: 'auto-approved'; request: AccessRequest; resource: ResourceRef }
  | {
      view: 'unreachable';
      request: AccessRequest;
      resource: ResourceRef;
      /** the approvers who could not be reached so far */
      unreachable: string[];
      /** true when nobody at all has the request */
      nobody: boolean;
      /** true when some approver has it */
      delivered?: boolean;
      platforms: string[];
    }
  | { view: 'grant-status'; grant: Grant; resource: ResourceRef }
  | { view: 'reminder'; grant: Grant; resource: ResourceRef; extensionsAllowed: boolean }
  | { view: 'extended'; grant: Grant; resource: ResourceRef }
  | { view: 'connector-failing'; grant: Grant; resource: ResourceRef; operation: ConnectorOperation }
  | { view: 'settings-changed'; setting: ResourceSetting; resource: ResourceRef; revoking: number }
  /** The request form for `resource`, one press away (the API's request link was opened). */
  | { view: 'request-prompt'; resource: ResourceRef };

export type MessageKind = Message['view'];

/** The emails whose display names a message shows. */
export function namesIn(message: Message): string[] {
  switch (message.view) {
    case 'requester-status':
      return message.request.approvers;
    case 'unreachable':
      return message.unreachable;
    case 'grant-status':
      // `system` (expiry) and `api` (the HTTP API) are not people.
      return message.grant.endedBy?.includes('@') ? [message.grant.endedBy] : [];
    default:
      return [];
  }
}

/** The neutral view of `message` for one viewer. */
export function renderMessage(message: Message, viewer: Viewer, nameOf: NameOf): MessageView {
  switch (message.view) {
    case 'approval-card':
      return approvalCard(message.request, message.resource, viewer);
    case 'requester-status':
      return requesterStatus(message.request, message.resource, viewer, nameOf);
    case 'decision-notice':
      return decisionNotice(message.request, message.resource, viewer);
    case 'auto-approved':
      return autoApprovedNotice(message.request, message.resource, viewer);
    case 'unreachable':
      return unreachableNotice(message, nameOf);
    case 'grant-status':
      return grantStatus(message.grant, message.resource, viewer, nameOf);
    case 'reminder':
      return reminder(message.grant, message.resource, viewer, message.extensionsAllowed);
    case 'extended':
      return extendedNotice(message.grant, message.resource, viewer);
    case 'connector-failing':
      return connectorFailing(message.grant, message.resource, message.operation, viewer);
    case 'settings-changed':
      return settingsChanged(message.setting, message.resource, message.revoking, viewer);
    case 'request-prompt':
      return requestPrompt(message.resource);
  }
}

const KINDS = new Set<string>([
  'approval-card',
  'requester-status',
  'decision-notice',
  'auto-approved',
  'unreachable',
  'grant-status',
  'reminder',
  'extended',
  'connector-failing',
  'settings-changed',
  'request-prompt',
]);

/** A stored message back from the outbox (written by this module; checked for its kind). */
export function asMessage(data: Record<string, unknown>): Message {
  if (typeof data.view !== 'string' || !KINDS.has(data.view)) {
    throw new Error(`outbox item holds an unknown message kind: ${String(data.view)}`);
  }
  return data as unknown as Message;
}
