/**
 * `/request-access`, the form's live updates and its submission, in Slack. The form itself (what
 * it offers, what a change does, what is wrong with a submission) is the neutral form of
 * src/core/forms/request-form.ts; this module only moves it in and out of a modal.
 */
import type { ModalView } from '@slack/types';
import { approverOptions, resourceOptions } from '../../../core/forms/pickers.js';
import {
  applyChange,
  buildForm,
  type FormChange,
  type FormState,
  NO_RESOURCES,
  openState,
  validateSubmission,
} from '../../../core/forms/request-form.js';
import type { AccessRequest } from '../../../domain/model.js';
import type { SlackDeps } from '../deps.js';
import type { SlackPerson } from '../directory.js';
import { type FormMeta, nextMeta, openingMeta, parseMeta, parseState, readState } from '../form.js';
import { BlockIds, FormIds } from '../ids.js';
import { LIMITS } from '../limits.js';
import { buildMessageModal, buildOptionsResponse, buildRequestModal, errorsByBlock } from '../modal.js';
import { asJsonArg } from '../render.js';
import { type OpenView, updateModal } from '../views.js';

async function render(
  deps: SlackDeps,
  person: SlackPerson,
  state: FormState,
  meta: FormMeta,
  notice?: string,
): Promise<ModalView> {
  const model = await buildForm(deps.service, person, state, (emails) => deps.directory.names(emails), {
    ...(notice ? { notice } : {}),
  });
  return buildRequestModal(model, meta);
}

/** Opens the form; `query` preselects a resource by id or name when the person may request it. */
export async function openRequestForm(
  deps: SlackDeps,
  triggerId: string,
  person: SlackPerson,
  opts: { query?: string; again?: AccessRequest; extendGrantId?: string } = {},
): Promise<void> {
  const opened = await openState(deps.service, person, opts);
  const view = opened.nothingToRequest
    ? buildMessageModal('Request access', NO_RESOURCES)
    : await render(deps, person, opened.state, openingMeta(opened.state), opened.notice);
  await deps.client.views.open({ trigger_id: triggerId, view: asJsonArg(view) });
}

/** What a block action inside the form means, as a neutral change. */
function changeOf(
  action: { action_id: string; value?: string },
  state: FormState,
  template: string | undefined,
): FormChange | null {
  if (action.action_id === FormIds.resource)
    return { field: 'resource', ...(state.resourceId ? { value: state.resourceId } : {}) };
  if (action.action_id === FormIds.approvers) return { field: 'approvers', value: state.approvers };
  if (action.action_id === FormIds.customAmount)
    return { field: 'customAmount', ...(state.customAmount ? { value: state.customAmount } : {}) };
  if (action.action_id === FormIds.customUnit) return { field: 'customUnit', value: state.customUnit };
  if (action.action_id.startsWith(FormIds.durationPrefix) && action.value)
    return { field: 'quick', value: action.value };
  if (action.action_id === FormIds.template && template) return { field: 'template', value: template };
  return null;
}

/** A change inside the form (resource, approvers, duration, template): refresh the modal in place. */
export async function onFormChange(
  deps: SlackDeps,
  person: SlackPerson,
  view: OpenView,
  action: { action_id: string; value?: string },
): Promise<void> {
  const meta = parseMeta(view.private_metadata);
  if (!meta) return;
  const viewState = parseState((view.state as { values?: unknown } | undefined)?.values);
  const current = readState(meta, viewState);
  // The resource as the modal held it before this change, so a changed resource resets its fields.
  const before: FormState = { ...current, ...(meta.resourceId ? { resourceId: meta.resourceId } : {}) };
  if (!meta.resourceId) delete before.resourceId;
  if (action.action_id === FormIds.customAmount || action.action_id === FormIds.customUnit)
    delete before.quick;
  const template = viewState[BlockIds.template]?.[FormIds.template]?.selected_option?.value;
  const change = changeOf(action, current, template);
  const { state, reset } = change
    ? applyChange(deps.service, person, before, change)
    : { state: current, reset: [] };
  const next = await render(deps, person, state, nextMeta(meta, state, reset));
  await updateModal(deps.client, view, next);
}

export interface SubmissionResult {
  errors?: Record<string, string>;
  /** Replace the modal with this message (nothing was sent). */
  replace?: string;
  submit?: () => Promise<void>;
}

/** Validates a submission. Errors are returned for inline display; nothing is sent unless all is well. */
export async function onFormSubmit(
  deps: SlackDeps,
  person: SlackPerson,
  view: { id: string; private_metadata?: string; state?: unknown },
): Promise<SubmissionResult> {
  const meta = parseMeta(view.private_metadata);
  if (!meta)
    return { replace: 'This form could not be read, so nothing was sent. Close it and start again.' };
  const state = readState(meta, parseState((view.state as { values?: unknown } | undefined)?.values));
  const checked = await validateSubmission(deps.service, person, state, `slack:${view.id}`);
  if ('errors' in checked) {
    const model = await buildForm(deps.service, person, state, async () => new Map());
    return { errors: errorsByBlock(model, meta, checked.errors) };
  }
  return { submit: async () => void (await deps.service.submit(checked.input)) };
}

/**
 * Type-ahead for a picker with too many choices to list (Slack's `block_suggestion`): the
 * resources the person may request, or the chosen resource's eligible approvers, that match
 * what they typed. Eligibility is checked again on submit.
 */
export async function onOptionsLoad(
  deps: SlackDeps,
  person: SlackPerson,
  view: { private_metadata?: string; state?: unknown } | undefined,
  actionId: string,
  query: string,
): Promise<ReturnType<typeof buildOptionsResponse>> {
  // One option is kept for the hint that more match (or none).
  const limit = LIMITS.options - 1;
  if (actionId === FormIds.resource) {
    const result = resourceOptions(deps.service, person, query, limit);
    return buildOptionsResponse(
      result,
      result.groups.some((g) => g.label !== 'Other'),
    );
  }
  const meta = parseMeta(view?.private_metadata);
  if (!meta) return { options: [] };
  const state = readState(meta, parseState((view?.state as { values?: unknown } | undefined)?.values));
  const result = await approverOptions(deps.service, person, state, query, limit, (emails) =>
    deps.directory.names(emails),
  );
  return buildOptionsResponse(result, false);
}
