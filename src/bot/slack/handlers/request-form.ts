/**
 * `/request-access`, the form's live updates, and its submission. The form never trusts its own
 * metadata or state: every value is parsed with zod here and re-checked by the domain on submit.
 */
import type { ModalView } from '@slack/types';
import { addDuration, humanizeDuration } from '../../../domain/duration.js';
import type { AccessRequest } from '../../../domain/model.js';
import type { ResourceConfig } from '../../../domain/policy.js';
import { durationOption } from '../../../domain/policy.js';
import { formatTime } from '../../../domain/views/time.js';
import type { SlackDeps } from '../deps.js';
import type { SlackPerson } from '../directory.js';
import {
  blockId,
  chosenDuration,
  type FormMeta,
  type FormValues,
  parseMeta,
  parseState,
  readValues,
} from '../form.js';
import { BlockIds, FormIds } from '../ids.js';
import { buildMessageModal, buildRequestModal } from '../modal.js';

interface FormContext {
  resources: ResourceConfig[];
  resource?: ResourceConfig;
  notice?: string;
}

async function formContext(deps: SlackDeps, person: SlackPerson, meta: FormMeta): Promise<FormContext> {
  const resources = deps.service.requestableResources(person.email);
  if (meta.kind === 'extension') {
    const grant = meta.grantId ? await deps.service.getGrant(meta.grantId) : null;
    const resource =
      grant && grant.holder.email === person.email ? deps.service.findResource(grant.resourceId) : undefined;
    return { resources, ...(resource ? { resource } : {}) };
  }
  const resource = meta.resourceId ? resources.find((r) => r.id === meta.resourceId) : undefined;
  return { resources, ...(resource ? { resource } : {}) };
}

function summaryText(
  deps: SlackDeps,
  person: SlackPerson,
  ctx: FormContext,
  meta: FormMeta,
  values: FormValues | undefined,
  names: Map<string, string>,
): string {
  if (!ctx.resource) return 'Choose a resource.';
  const policy = deps.service.policyFor(ctx.resource, person.email);
  const parts: string[] = [];
  const duration = values ? chosenDuration(meta, values) : meta.duration ? { iso: meta.duration } : {};
  if (duration.iso) {
    const base = meta.kind === 'extension' ? 'more' : '';
    const until = addDuration(deps.service.now(), duration.iso);
    parts.push(
      `${ctx.resource.name} for ${humanizeDuration(duration.iso)}${base ? ' more' : ''}` +
        (meta.kind === 'extension' ? '' : `, until ${formatTime(until, person.tz)} your time`),
    );
  } else {
    parts.push(
      `${ctx.resource.name}: ${(duration.error ?? 'choose a duration').replace(/\.$/, '').toLowerCase()}`,
    );
  }
  if (policy.approval === 'auto') {
    parts.push('approved automatically');
  } else {
    const chosen = values?.approvers ?? meta.approvers ?? [];
    parts.push(
      chosen.length
        ? `approvers: ${chosen.map((e) => names.get(e) ?? e).join(', ')}`
        : 'approvers: none chosen yet',
    );
  }
  return parts.join('; ');
}

/** Builds the whole modal for the current form state. */
export async function renderForm(
  deps: SlackDeps,
  person: SlackPerson,
  meta: FormMeta,
  values?: FormValues,
  notice?: string,
): Promise<ModalView> {
  const ctx = await formContext(deps, person, meta);
  const policy = ctx.resource ? deps.service.policyFor(ctx.resource, person.email) : undefined;
  if (policy && meta.duration && !durationOption(policy, meta.duration)) delete meta.duration;
  const approverEmails =
    ctx.resource && policy?.approval === 'manual'
      ? deps.service.approversFor(ctx.resource, person.email)
      : [];
  const names = await deps.directory.names(approverEmails);
  return buildRequestModal({
    meta,
    resources: ctx.resources,
    ...(ctx.resource ? { resource: ctx.resource } : {}),
    ...(policy ? { policy } : {}),
    approvers: approverEmails.map((email) => ({ email, name: names.get(email) ?? email })),
    summary: summaryText(deps, person, ctx, meta, values, names),
    ...(notice ? { notice } : {}),
  });
}

/** Opens the form; `query` preselects a resource by id or name when the person may request it. */
export async function openRequestForm(
  deps: SlackDeps,
  triggerId: string,
  person: SlackPerson,
  opts: { query?: string; again?: AccessRequest; extendGrantId?: string } = {},
): Promise<void> {
  const meta: FormMeta = { kind: opts.extendGrantId ? 'extension' : 'access', av: 0, cv: 0, jv: 0 };
  let notice: string | undefined;
  const allowed = deps.service.requestableResources(person.email);
  if (opts.extendGrantId) {
    meta.grantId = opts.extendGrantId;
  } else if (opts.again) {
    meta.resourceId = opts.again.resourceId;
    meta.approvers = opts.again.approvers;
    meta.duration = opts.again.duration;
    meta.justification = opts.again.justification.slice(0, 1500);
    if (opts.again.ticket) meta.ticket = opts.again.ticket;
  } else if (opts.query?.trim()) {
    const found = deps.service.findResource(opts.query.trim());
    if (found && allowed.some((r) => r.id === found.id)) meta.resourceId = found.id;
    else
      notice = `There is no resource called “${opts.query.trim().slice(0, 100)}” that you can request. Choose one below.`;
  } else if (allowed.length === 1 && allowed[0]) {
    meta.resourceId = allowed[0].id;
  }
  const view =
    allowed.length === 0 && !opts.extendGrantId
      ? buildMessageModal(
          'Request access',
          'There are no resources you can request access to. Ask an administrator.',
        )
      : await renderForm(deps, person, meta, undefined, notice);
  await deps.client.views.open({ trigger_id: triggerId, view });
}

/** A change inside the form (resource, approvers, duration, template): refresh the modal in place. */
export async function onFormChange(
  deps: SlackDeps,
  person: SlackPerson,
  view: { id: string; hash?: string; private_metadata?: string; state?: unknown },
  action: { action_id: string; value?: string },
): Promise<void> {
  const meta = parseMeta(view.private_metadata);
  if (!meta) return;
  const values = readValues(meta, parseState((view.state as { values?: unknown } | undefined)?.values));
  meta.approvers = values.approvers;
  if (values.justification) meta.justification = values.justification.slice(0, 1500);
  if (action.action_id === FormIds.resource && meta.kind === 'access') {
    if (values.resourceId !== meta.resourceId) {
      if (values.resourceId) meta.resourceId = values.resourceId;
      else delete meta.resourceId;
      delete meta.duration;
      meta.approvers = [];
      meta.av += 1;
      meta.cv += 1;
    }
  } else if (
    (action.action_id === FormIds.customAmount || action.action_id === FormIds.customUnit) &&
    values.customAmount !== undefined
  ) {
    delete meta.duration; // a typed amount wins: no quick button stays highlighted
  } else if (action.action_id.startsWith(FormIds.durationPrefix) && action.value) {
    meta.duration = action.value; // checked against policy in renderForm and again on submit
    meta.cv += 1; // a quick choice clears the custom amount
    delete values.customAmount;
  } else if (action.action_id === FormIds.template && values.template) {
    const ctx = await formContext(deps, person, meta);
    const policy = ctx.resource ? deps.service.policyFor(ctx.resource, person.email) : undefined;
    if (policy?.justificationTemplates.includes(values.template)) {
      meta.justification = values.template;
      meta.jv += 1;
    }
  }
  const next = await renderForm(deps, person, meta, values);
  try {
    await deps.client.views.update({
      view_id: view.id,
      ...(view.hash ? { hash: view.hash } : {}),
      view: next,
    });
  } catch (error) {
    if ((error as { data?: { error?: string } }).data?.error !== 'hash_conflict') throw error;
    // Another update landed first. This action carries the person's latest input, so it wins.
    await deps.client.views.update({ view_id: view.id, view: next });
  }
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
  const values = meta
    ? readValues(meta, parseState((view.state as { values?: unknown } | undefined)?.values))
    : null;
  if (!meta || !values) {
    return { replace: 'This form could not be read, so nothing was sent. Close it and start again.' };
  }
  let resourceId = values.resourceId;
  if (meta.kind === 'extension' && meta.grantId)
    resourceId = (await deps.service.getGrant(meta.grantId))?.resourceId;
  const resource = resourceId ? deps.service.findResource(resourceId) : undefined;
  const policy = resource ? deps.service.policyFor(resource, person.email) : undefined;
  const duration = chosenDuration(meta, values);
  const input = {
    requester: { email: person.email, name: person.name },
    resourceId: resourceId ?? '',
    approvers: values.approvers,
    duration: duration.iso ?? 'PT0S',
    justification: values.justification,
    ...(values.ticket.trim() ? { ticket: values.ticket } : {}),
    submissionKey: `slack:${view.id}`,
    ...(meta.grantId ? { grantId: meta.grantId } : {}),
  };
  const fieldErrors = await deps.service.checkSubmission(input);
  const hasInput = {
    resource: meta.kind === 'access',
    approvers:
      policy?.approval === 'manual' && resource
        ? deps.service.approversFor(resource, person.email).length > 0
        : false,
    custom: Boolean(policy?.custom),
  };
  const errors: Record<string, string> = {};
  const put = (block: string, message: string) => {
    if (!errors[block]) errors[block] = message;
  };
  const fallback = hasInput.resource ? BlockIds.resource : blockId.justification(meta);
  for (const e of fieldErrors) {
    if (e.field === 'approvers') put(hasInput.approvers ? blockId.approvers(meta) : fallback, e.message);
    else if (e.field === 'duration')
      put(hasInput.custom ? blockId.customAmount(meta) : BlockIds.template, duration.error ?? e.message);
    else if (e.field === 'justification') put(blockId.justification(meta), e.message);
    else put(fallback, e.message);
  }
  // Without a resource the form has no duration blocks; the resource error says what to do.
  if (duration.error && policy)
    put(hasInput.custom ? blockId.customAmount(meta) : BlockIds.template, duration.error);
  if (Object.keys(errors).length) return { errors };
  return { submit: async () => void (await deps.service.submit(input)) };
}
