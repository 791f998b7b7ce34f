/** What every domain operation works with: config, repositories, ports, clock and log. */
import type { Clock } from './clock.js';
import type { LifecycleEvent, Log, Notifier } from './events.js';
import { sortableId } from './ids.js';
import { type Metrics, NO_METRICS } from './metrics.js';
import type { AccessRequest, AuditEvent } from './model.js';
import type { AccessConfig, ResourceConfig } from './policy.js';
import type { PolicySource } from './policy-source.js';
import { type ConnectorRegistry, DuplicateKeyError, type Repositories, type Scheduler } from './ports.js';

export interface ServiceDeps {
  /** The policy file in force (it follows reloads) with the owners' settings layered over it. */
  policy: PolicySource;
  repos: Repositories;
  scheduler: Scheduler;
  connectors: ConnectorRegistry;
  notifier: Notifier;
  clock: Clock;
  log: Log;
  newId: () => string;
  /** Connector retry delay for the given attempt number (1-based). */
  backoffMs: (attempt: number) => number;
  /** After this many failed attempts in a row the resource's approvers and the admins are told. */
  reportAfterAttempts: number;
  /** Counters and timings (src/http/metrics.ts); none when absent. */
  metrics?: Metrics;
}

export interface ServiceContext extends ServiceDeps {
  metrics: Metrics;
  /** The policy file in force now (`policy.current()`): read it afresh, never keep it. */
  readonly config: AccessConfig;
  resource(id: string): ResourceConfig;
  /**
   * Appends to the audit trail. With `once`, the event is stored under that key (unique: a second
   * append under it changes nothing), so an effect that is finished again after a crash is recorded
   * once; its id stays sortable, so events of one instant keep the order they happened in.
   */
  audit(
    type: AuditEvent['type'],
    actor: string,
    subject: Pick<AuditEvent, 'requestId' | 'grantId' | 'resourceId' | 'details'>,
    once?: string,
  ): Promise<void>;
  /**
   * Publishes an event after the change it reports was stored: its messages are queued (the
   * outbox), never sent here. A failure to queue is logged and never undoes the stored change.
   */
  publish(event: LifecycleEvent): Promise<void>;
  /** Like `publish`, but a failure to queue throws (the caller's job then runs again). */
  publishOrThrow(event: LifecycleEvent): Promise<void>;
  /** Runs the next connector step of a grant as a job (`grant.retry`), now. */
  advanceSoon(grantId: string): Promise<void>;
  /** Records what an approval means; returns the follow-up (connector calls) to run after telling people. */
  onApproved(request: AccessRequest): Promise<() => Promise<void>>;
}

export function makeContext(
  deps: ServiceDeps,
  onApproved: (ctx: ServiceContext, r: AccessRequest) => Promise<() => Promise<void>>,
) {
  const ctx: ServiceContext = {
    ...deps,
    metrics: deps.metrics ?? NO_METRICS,
    get config() {
      return deps.policy.current();
    },
    resource(id) {
      const found = deps.policy.current().resources.find((r) => r.id === id);
      // A resource removed from the policy file still has requests and grants to finish.
      return (
        found ?? {
          id,
          name: id,
          approvers: [],
          owners: [],
          requesters: [],
          connector: { type: 'log' },
          ownerControlled: false,
          basePolicy: deps.policy.current().defaultLayer,
          groupPolicies: [],
        }
      );
    },
    async audit(type, actor, subject, once) {
      const at = deps.clock.now();
      const event: AuditEvent = { id: sortableId(at, deps.newId()), type, at, actor };
      if (once) event.key = once;
      if (subject.requestId) event.requestId = subject.requestId;
      if (subject.grantId) event.grantId = subject.grantId;
      if (subject.resourceId) event.resourceId = subject.resourceId;
      if (subject.details) event.details = subject.details;
      try {
        await deps.repos.audit.append(event);
      } catch (error) {
        if (!(once && error instanceof DuplicateKeyError && error.key === 'key')) throw error;
      }
    },
    async publish(event) {
      try {
        await deps.notifier.notify(event);
      } catch (error) {
        deps.log.error({ err: error, event: event.type }, 'notify.failed');
      }
    },
    publishOrThrow: (event) => deps.notifier.notify(event),
    advanceSoon: (grantId) => deps.scheduler.schedule('grant.retry', deps.clock.now(), { id: grantId }),
    onApproved: (r) => onApproved(ctx, r),
  };
  return ctx;
}
