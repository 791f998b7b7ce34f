/**
 * Who is told what, decided once for every platform: each lifecycle event becomes deliveries,
 * each to one person (by email), as a new message or as an edit of the one sent earlier for the
 * same subject and purpose. The outbox (./outbox.ts) stores them and sends them.
 *
 * Keys make deliveries idempotent: an event handled twice (a retried job, the sweep finishing a
 * crashed step) enqueues nothing new. Lanes keep order: every message about one request (and the
 * grant it led to) to one person goes out in the order it was decided here, so an edit never
 * overtakes the message it edits.
 */
import type { LifecycleEvent, ResourceRef } from '../domain/events.js';
import type { Grant, OutboxItem } from '../domain/model.js';
import type { Message } from './messages.js';

export const Purpose = {
  approvalCard: 'approval-card',
  requesterStatus: 'requester-status',
  reminder: 'reminder',
  /** The holder's "Access granted" message: edited when the grant is extended or ends. */
  grantStatus: 'grant-status',
} as const;

/** An outbox item as planned: what is sent to whom, before the outbox adds its bookkeeping. */
export type Delivery = Pick<OutboxItem, 'key' | 'lane' | 'recipient' | 'mode' | 'subjectId' | 'purpose'> & {
  message: Message;
};

/** The lane of a person's messages about one request and the grant it led to. */
export const laneOf = (requestId: string, email: string) => `${requestId}|${email}`;

function send(
  subjectId: string,
  laneRequestId: string,
  recipient: string,
  key: string,
  message: Message,
  purpose = '',
): Delivery {
  return {
    key: `${subjectId}:${key}:${recipient}`,
    lane: laneOf(laneRequestId, recipient),
    recipient,
    mode: 'send',
    subjectId,
    purpose,
    message,
  };
}

function edit(
  subjectId: string,
  laneRequestId: string,
  recipient: string,
  purpose: string,
  key: string,
  message: Message,
): Delivery {
  return {
    key: `${subjectId}:${purpose}:edit:${key}:${recipient}`,
    lane: laneOf(laneRequestId, recipient),
    recipient,
    mode: 'update',
    subjectId,
    purpose,
    message,
  };
}

/** Which failure report this is: a later failure of the same grant gets a report of its own. */
function failureStamp(g: Grant): string {
  const ext = g.pendingExtension;
  return ext ? `${g.attempts}:${ext.requestId}:${ext.attempts}` : String(g.attempts);
}

export function plan(event: LifecycleEvent): Delivery[] {
  switch (event.type) {
    case 'request.submitted': {
      const { request: r, resource } = event;
      return [
        ...r.approvers.map((a) =>
          send(r.id, r.id, a, 'card', { view: 'approval-card', request: r, resource }, Purpose.approvalCard),
        ),
        send(
          r.id,
          r.id,
          r.requester.email,
          'status',
          { view: 'requester-status', request: r, resource },
          Purpose.requesterStatus,
        ),
      ];
    }
    case 'request.decided':
    case 'request.expired':
    case 'request.cancelled': {
      const { request: r, resource } = event;
      const out: Delivery[] = [
        ...r.approvers.map((a) =>
          edit(r.id, r.id, a, Purpose.approvalCard, r.status, {
            view: 'approval-card',
            request: r,
            resource,
          }),
        ),
        edit(r.id, r.id, r.requester.email, Purpose.requesterStatus, r.status, {
          view: 'requester-status',
          request: r,
          resource,
        }),
        // A fresh message too (an edit notifies nobody); expiry offers "Request again".
        send(
          r.id,
          r.id,
          r.requester.email,
          `outcome:${r.status}`,
          event.type === 'request.decided'
            ? { view: 'decision-notice', request: r, resource }
            : { view: 'requester-status', request: r, resource },
        ),
      ];
      if (event.type === 'request.decided') {
        for (const a of r.approvers.filter((x) => x !== r.decidedBy)) {
          out.push(
            send(r.id, r.id, a, `outcome:${r.status}`, { view: 'decision-notice', request: r, resource }),
          );
        }
      }
      return out;
    }
    case 'request.auto_approved': {
      const { request: r, resource } = event;
      return [
        ...event.informed.map((a) =>
          send(r.id, r.id, a, 'auto', { view: 'auto-approved', request: r, resource }),
        ),
        send(r.id, r.id, r.requester.email, 'auto-status', {
          view: 'requester-status',
          request: r,
          resource,
        }),
      ];
    }
    case 'grant.activated':
    case 'grant.provisioning_delayed':
    case 'grant.revocation_delayed': {
      const g = event.grant;
      const key = {
        'grant.activated': 'activated',
        'grant.provisioning_delayed': 'provisioning-delayed',
        'grant.revocation_delayed': 'revocation-delayed',
      }[event.type];
      return [
        send(
          g.id,
          g.requestId,
          g.holder.email,
          key,
          { view: 'grant-status', grant: g, resource: event.resource },
          event.type === 'grant.activated' ? Purpose.grantStatus : '',
        ),
      ];
    }
    case 'grant.connector_failing': {
      const g = event.grant;
      return event.recipients.map((a) =>
        send(g.id, g.requestId, a, `failing:${event.operation}:${failureStamp(g)}`, {
          view: 'connector-failing',
          grant: g,
          resource: event.resource,
          operation: event.operation,
        }),
      );
    }
    case 'grant.reminder': {
      const g = event.grant;
      return [
        send(
          g.id,
          g.requestId,
          g.holder.email,
          `reminder:${g.expiresAt?.toISOString() ?? ''}`,
          {
            view: 'reminder',
            grant: g,
            resource: event.resource,
            extensionsAllowed: event.extensionsAllowed,
          },
          Purpose.reminder,
        ),
      ];
    }
    case 'grant.extended': {
      const g = event.grant;
      const message: Message = { view: 'extended', grant: g, resource: event.resource };
      const key = `extended:${event.request.id}`;
      return [
        edit(g.id, g.requestId, g.holder.email, Purpose.reminder, key, message),
        edit(g.id, g.requestId, g.holder.email, Purpose.grantStatus, key, {
          view: 'grant-status',
          grant: g,
          resource: event.resource,
        }),
        send(g.id, g.requestId, g.holder.email, key, message),
      ];
    }
    case 'resource.settings_changed': {
      const { setting, resource } = event;
      const subject = `settings:${resource.id}`;
      return event.recipients.map((a) =>
        send(subject, subject, a, `v${setting.version}`, {
          view: 'settings-changed',
          setting,
          resource,
          revoking: event.revoking,
        }),
      );
    }
    case 'grant.ended': {
      const g = event.grant;
      const message: Message = { view: 'grant-status', grant: g, resource: event.resource };
      return [
        edit(g.id, g.requestId, g.holder.email, Purpose.reminder, 'ended', message),
        edit(g.id, g.requestId, g.holder.email, Purpose.grantStatus, 'ended', message),
        send(g.id, g.requestId, g.holder.email, 'ended', message),
      ];
    }
  }
}

/**
 * The request form, one press away, for someone who opened a request link (src/core/request-links.ts).
 * Keyed by the link, so opening the same link again sends nothing new.
 */
export function requestPromptDelivery(recipient: string, resource: ResourceRef, linkId: string): Delivery {
  const subject = `request-link:${resource.id}`;
  return {
    key: `${subject}:${linkId}:${recipient}`,
    lane: laneOf(subject, recipient),
    recipient,
    mode: 'send',
    subjectId: subject,
    purpose: '',
    message: { view: 'request-prompt', resource },
  };
}
