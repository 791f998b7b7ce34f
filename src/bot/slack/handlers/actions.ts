/**
 * Buttons on cards and messages: approve, deny (with an optional reason), cancel, request
 * again, request extension, end access. The button's value is untrusted: it is parsed here and
 * the domain re-checks, against the store, that the clicker may do what the button says.
 */
import { z } from 'zod';
import type { SlackDeps } from '../deps.js';
import type { SlackPerson } from '../directory.js';
import { BlockIds, FormIds } from '../ids.js';
import { buildDenyModal } from '../modal.js';
import { openRequestForm } from './request-form.js';

/** Ids we issue are UUIDs; anything else was not made by us. */
export const idValue = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9-]+$/);

const denyMetaSchema = z.object({ requestId: idValue, channelId: z.string().max(50).optional() });

export async function approve(deps: SlackDeps, person: SlackPerson, requestId: string): Promise<void> {
  await deps.service.decide(requestId, person, 'approve');
}

/** Opens the reason dialog when the clicker may deny; otherwise the domain explains the refusal. */
export async function startDeny(
  deps: SlackDeps,
  person: SlackPerson,
  requestId: string,
  triggerId: string,
  channelId: string | undefined,
): Promise<void> {
  const request = await deps.service.getRequest(requestId);
  const mayDecide =
    request &&
    request.status === 'pending' &&
    request.decideBy > deps.service.now() &&
    request.requester.email !== person.email &&
    request.approvers.includes(person.email);
  if (!request || !mayDecide) {
    await deps.service.decide(requestId, person, 'deny'); // throws the reason, and audits the refusal
    return;
  }
  const resource = deps.service.findResource(request.resourceId);
  const meta = JSON.stringify({ requestId, ...(channelId ? { channelId } : {}) });
  await deps.client.views.open({
    trigger_id: triggerId,
    view: buildDenyModal(meta, request.requester.name, resource?.name ?? request.resourceId),
  });
}

export function parseDenyMeta(raw: string | undefined): z.infer<typeof denyMetaSchema> | null {
  try {
    const parsed = denyMetaSchema.safeParse(JSON.parse(raw ?? ''));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function denyReason(state: unknown): string | undefined {
  const values = (state as { values?: Record<string, Record<string, { value?: unknown }>> } | undefined)
    ?.values;
  const value = values?.[BlockIds.denyReason]?.[FormIds.denyReason]?.value;
  return typeof value === 'string' && value.trim() ? value.slice(0, 1000) : undefined;
}

export async function cancel(deps: SlackDeps, person: SlackPerson, requestId: string): Promise<void> {
  await deps.service.cancel(requestId, person);
}

export async function requestAgain(
  deps: SlackDeps,
  person: SlackPerson,
  requestId: string,
  triggerId: string,
): Promise<void> {
  const request = await deps.service.getRequest(requestId);
  if (!request || request.requester.email !== person.email) {
    // Nothing of someone else's request is reused: open an empty form instead.
    await openRequestForm(deps, triggerId, person);
    return;
  }
  await openRequestForm(deps, triggerId, person, { again: request });
}

export async function startExtension(
  deps: SlackDeps,
  person: SlackPerson,
  grantId: string,
  triggerId: string,
): Promise<string | null> {
  const grant = await deps.service.getGrant(grantId);
  if (!grant || grant.holder.email !== person.email) return 'Only the holder of this access can extend it.';
  if (grant.status !== 'active') return 'This access has already ended; request it again instead.';
  const resource = deps.service.findResource(grant.resourceId);
  if (!resource || !deps.service.policyFor(resource, person.email).extensions) {
    return 'Extensions are turned off for this resource.';
  }
  await openRequestForm(deps, triggerId, person, { extendGrantId: grantId });
  return null;
}

export async function endAccess(deps: SlackDeps, person: SlackPerson, grantId: string): Promise<void> {
  await deps.service.endAccess(grantId, person);
}
