/**
 * Notifications to other channels: with `notifications: { webhook: { url, secretEnv } }` in the
 * policy file, every request and grant event (and every change of an owner's settings) is also
 * POSTed to that URL, signed like the connector webhook (src/connectors/signing.ts), for teams that
 * route approvals into a ticketing system.
 *
 * Each event becomes one outbox item (./outbox.ts) addressed to `NOTIFICATIONS_RECIPIENT`, keyed by
 * the event, so it is stored before it is sent, retried with backoff until the receiver answers
 * 2xx (or given up and audited after the outbox's give-up time, or at once when the receiver
 * refuses it with a 4xx refusal), and enqueued at most once per event. The events of one request
 * (and the grant it led to) go out in order. The URL and secret are read from the policy in force
 * when each item is sent, so they follow a reload.
 */

import { WebhookConnector } from '../connectors/webhook.js';
import type { Clock } from '../domain/clock.js';
import type { LifecycleEvent } from '../domain/events.js';
import type { Grant } from '../domain/model.js';
import { ConnectorError } from '../domain/ports.js';
import { DeliveryError } from './chat.js';
import { type Delivery, laneOf } from './deliveries.js';

/** The outbox recipient of notification items: not a person, and never reached on a chat platform. */
export const NOTIFICATIONS_RECIPIENT = 'webhook:notifications';
/** How long one notification call may take. */
export const NOTIFICATION_TIMEOUT_MS = 10_000;

/** The body POSTed for each event. */
export interface NotificationBody {
  /** Stable per event: the same in every retry (also sent as `X-Jit-Idempotency-Key`). */
  id: string;
  /** The lifecycle event's name, e.g. `request.submitted`, `grant.activated`. */
  type: LifecycleEvent['type'];
  resource: { id: string; name: string };
  request?: unknown;
  grant?: unknown;
  /** Event-specific extras (`operation`, `extensionsAllowed`, `setting`, `revoking`). */
  details?: Record<string, unknown>;
}

function stamp(g: Grant): string {
  const ext = g.pendingExtension;
  return ext ? `${g.attempts}:${ext.requestId}:${ext.attempts}` : String(g.attempts);
}

/** The body of `event`, with an id that is the same however often the event is handled. */
export function notificationOf(event: LifecycleEvent): { body: NotificationBody; laneRequestId: string } {
  const resource = { id: event.resource.id, name: event.resource.name };
  switch (event.type) {
    case 'request.submitted':
    case 'request.auto_approved':
    case 'request.decided':
    case 'request.expired':
    case 'request.cancelled': {
      const r = event.request;
      const outcome = event.type === 'request.decided' ? r.status : event.type.slice('request.'.length);
      return {
        body: { id: `${r.id}:${outcome}`, type: event.type, resource, request: r },
        laneRequestId: r.id,
      };
    }
    case 'resource.settings_changed':
      return {
        body: {
          id: `${resource.id}:settings:v${event.setting.version}`,
          type: event.type,
          resource,
          details: { setting: event.setting, revoking: event.revoking },
        },
        laneRequestId: `settings:${resource.id}`,
      };
    default: {
      const g = event.grant;
      const suffix = {
        'grant.activated': 'activated',
        'grant.ended': 'ended',
        'grant.provisioning_delayed': `provisioning_delayed:${stamp(g)}`,
        'grant.revocation_delayed': `revocation_delayed:${stamp(g)}`,
        'grant.connector_failing': `connector_failing:${stamp(g)}`,
        'grant.reminder': `reminder:${g.expiresAt?.toISOString() ?? ''}`,
        'grant.extended': `extended:${event.type === 'grant.extended' ? event.request.id : ''}`,
      }[event.type];
      const details: Record<string, unknown> = {};
      if (event.type === 'grant.connector_failing') details.operation = event.operation;
      if (event.type === 'grant.reminder') details.extensionsAllowed = event.extensionsAllowed;
      if (event.type === 'grant.extended') details.requestId = event.request.id;
      return {
        body: {
          id: `${g.id}:${suffix}`,
          type: event.type,
          resource,
          grant: g,
          ...(Object.keys(details).length ? { details } : {}),
        },
        laneRequestId: g.requestId,
      };
    }
  }
}

/** An outbox item for the notifications webhook: the body itself is the stored message. */
export type NotificationDelivery = Omit<Delivery, 'message'> & { message: Record<string, unknown> };

/** The outbox item of `event` for the notifications webhook. */
export function notificationDelivery(event: LifecycleEvent): NotificationDelivery {
  const { body, laneRequestId } = notificationOf(event);
  return {
    key: `notify:${body.id}`,
    lane: laneOf(laneRequestId, NOTIFICATIONS_RECIPIENT),
    recipient: NOTIFICATIONS_RECIPIENT,
    mode: 'send',
    subjectId: laneRequestId,
    purpose: '',
    // JSON-safe (dates as ISO text), so the stored item is the body byte for byte.
    message: JSON.parse(JSON.stringify(body)),
  };
}

/** Sends a stored notification; throws `DeliveryError` (permanent or not) as chat platforms do. */
export interface NotificationSink {
  deliver(body: Record<string, unknown>): Promise<void>;
}

/** The policy's notifications webhook, as configured when each notification is sent. */
export function webhookSink(opts: {
  webhook: () => { url: string; secretEnv: string } | undefined;
  secretFor: (envName: string) => string;
  clock: Clock;
}): NotificationSink {
  return {
    async deliver(body) {
      const hook = opts.webhook();
      if (!hook) throw new DeliveryError('the policy file no longer configures notifications.webhook', true);
      const connector = new WebhookConnector({
        url: hook.url,
        secret: opts.secretFor(hook.secretEnv),
        timeoutMs: NOTIFICATION_TIMEOUT_MS,
        clock: opts.clock,
      });
      try {
        await connector.post(body, String(body.id));
      } catch (error) {
        if (error instanceof ConnectorError) throw new DeliveryError(error.message, !error.retryable);
        throw error;
      }
    },
  };
}
