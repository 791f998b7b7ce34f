/**
 * Whose home shows what a lifecycle event changed: the requester or holder, the request's chosen
 * approvers, the resource's approvers and owners (their dashboard), and the admins (who see every
 * pending request and every grant). Their homes are refreshed (src/core/home.ts).
 */
import type { LifecycleEvent } from '../events.js';
import type { AccessConfig } from '../policy.js';

export function homeAudience(config: AccessConfig, event: LifecycleEvent): string[] {
  const resourceId =
    'grant' in event
      ? event.grant.resourceId
      : 'request' in event
        ? event.request.resourceId
        : event.resource.id;
  const resource = config.resources.find((r) => r.id === resourceId);
  const people = [...config.admins, ...(resource?.approvers ?? []), ...(resource?.owners ?? [])];
  if ('grant' in event) people.push(event.grant.holder.email);
  if ('request' in event) people.push(event.request.requester.email, ...event.request.approvers);
  return [...new Set(people)];
}
