/**
 * Lifecycle events the domain publishes after a state change has been stored. The core
 * (src/core/deliveries.ts) turns them into messages for every chat platform. An event is published only by the caller whose
 * conditional write won, so a replayed click or a repeated job never sends a message twice.
 */
import type { AccessRequest, Grant, ResourceSetting } from './model.js';

export interface ResourceRef {
  id: string;
  name: string;
  /**
   * The end of the owners' access window when the event happened: a grant approved now ends
   * no later than this, and the approval card says so.
   */
  windowEndsAt?: Date;
}

export type ConnectorOperation = 'provision' | 'revoke' | 'extend';

export type LifecycleEvent =
  | { type: 'request.submitted'; request: AccessRequest; resource: ResourceRef }
  | { type: 'request.auto_approved'; request: AccessRequest; resource: ResourceRef; informed: string[] }
  | { type: 'request.decided'; request: AccessRequest; resource: ResourceRef }
  | { type: 'request.expired'; request: AccessRequest; resource: ResourceRef }
  | { type: 'request.cancelled'; request: AccessRequest; resource: ResourceRef }
  | { type: 'grant.activated'; grant: Grant; resource: ResourceRef }
  | { type: 'grant.provisioning_delayed'; grant: Grant; resource: ResourceRef }
  | { type: 'grant.revocation_delayed'; grant: Grant; resource: ResourceRef }
  | {
      type: 'grant.connector_failing';
      grant: Grant;
      resource: ResourceRef;
      operation: ConnectorOperation;
      /** who is told: the resource's approvers */
      recipients: string[];
    }
  | { type: 'grant.reminder'; grant: Grant; resource: ResourceRef; extensionsAllowed: boolean }
  | { type: 'grant.extended'; grant: Grant; request: AccessRequest; resource: ResourceRef }
  | { type: 'grant.ended'; grant: Grant; resource: ResourceRef }
  | {
      type: 'resource.settings_changed';
      setting: ResourceSetting;
      resource: ResourceRef;
      /** who is told: the resource's approvers */
      recipients: string[];
      /** how many open grants the change is revoking now */
      revoking: number;
    };

export interface Notifier {
  notify(event: LifecycleEvent): Promise<void>;
}

/** The minimal structured logger the domain needs (pino satisfies it). */
export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Log;
}
