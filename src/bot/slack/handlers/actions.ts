/**
 * Buttons on cards and messages: approve, deny (with an optional reason), cancel, request
 * again, request extension, end access. The button's value is untrusted: it is parsed here and
 * the domain re-checks, against the store, that the clicker may do what the button says. Whether
 * a click may go ahead is the domain's to say (its dry runs); nothing here repeats a rule.
 */
import { z } from 'zod';
import { idValue } from '../../../domain/ids.js';
import { DENY_REASON_INPUT, denyForm, MAX_DENY_REASON } from '../../../domain/views/forms.js';
import type { SlackDeps } from '../deps.js';
import type { SlackPerson } from '../directory.js';
import { FormIds } from '../ids.js';
import { buildFormModal } from '../modal.js';
import { openRequestForm } from './request-form.js';

export { idValue } from '../../../domain/ids.js';

const denyMetaSchema = z.object({ requestId: idValue, channelId: z.string().max(50).optional() });

export async function approve(deps: SlackDeps, person: SlackPerson, requestId: string): Promise<void> {
  await deps.service.decide(requestId, person, 'approve');
}

/** Opens the reason dialog when the clicker may deny; otherwise the domain's refusal is thrown. */
export async function startDeny(
  deps: SlackDeps,
  person: SlackPerson,
  requestId: string,
  triggerId: string,
  channelId: string | undefined,
): Promise<void> {
  const refusal = await deps.service.checkDecision(requestId, person, 'deny');
  if (refusal) throw refusal;
  const request = await deps.service.getRequest(requestId);
  if (!request) return;
  const resource = deps.service.findResource(request.resourceId);
  const meta = JSON.stringify({ requestId, ...(channelId ? { channelId } : {}) });
  await deps.client.views.open({
    trigger_id: triggerId,
    view: buildFormModal(
      denyForm(request, { id: request.resourceId, name: resource?.name ?? request.resourceId }),
      FormIds.denyCallback,
      meta,
    ),
  });
}

/** A form's `private_metadata` read back with its schema; null when it is not what we wrote. */
export function parseMeta<T>(raw: string | undefined, schema: z.ZodType<T>): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(raw ?? ''));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function parseDenyMeta(raw: string | undefined): z.infer<typeof denyMetaSchema> | null {
  return parseMeta(raw, denyMetaSchema);
}

/** The text typed into a neutral form's input (block and action id `inputId`), cut to `max`; none when blank. */
export function formInput(state: unknown, inputId: string, max: number): string | undefined {
  const values = (state as { values?: Record<string, Record<string, { value?: unknown }>> } | undefined)
    ?.values;
  const value = values?.[inputId]?.[inputId]?.value;
  return typeof value === 'string' && value.trim() ? value.slice(0, max) : undefined;
}

export function denyReason(state: unknown): string | undefined {
  return formInput(state, DENY_REASON_INPUT, MAX_DENY_REASON);
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
  // Nothing of someone else's request is reused (the neutral form checks whose it is).
  const request = await deps.service.getRequest(requestId);
  await openRequestForm(deps, triggerId, person, request ? { again: request } : {});
}

/** "Request access" on the message a request link sent: the form, with that resource chosen when the person may request it. */
export async function requestResource(
  deps: SlackDeps,
  person: SlackPerson,
  resourceId: string,
  triggerId: string,
): Promise<void> {
  await openRequestForm(deps, triggerId, person, { query: resourceId });
}

/** Opens the extension form, or returns why the clicker may not extend this access. */
export async function startExtension(
  deps: SlackDeps,
  person: SlackPerson,
  grantId: string,
  triggerId: string,
): Promise<string | null> {
  const refusal = await deps.service.checkExtension(grantId, person);
  if (refusal) return refusal.message;
  await openRequestForm(deps, triggerId, person, { extendGrantId: grantId });
  return null;
}

export async function endAccess(deps: SlackDeps, person: SlackPerson, grantId: string): Promise<void> {
  await deps.service.endAccess(grantId, person);
}
