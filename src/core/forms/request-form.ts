/**
 * The request form, once for every platform: which resources a person may choose, the eligible
 * approvers ("No administrators found" when there are none), the quick durations with the chosen
 * one marked, a custom amount and unit within the policy, templates that fill the justification,
 * an optional ticket, a live summary in the viewer's zone, and per-field errors. Slack renders the
 * model as a modal (src/bot/slack/modal.ts); Teams renders it as an Adaptive Card in the chat
 * (src/bot/teams/request-form-card.ts). Platforms keep no rule of their own: they turn what the person did
 * into `FormState` and render the model.
 *
 * The state comes back from the platform untrusted (private metadata, card data): every value is
 * re-checked here and again by the domain on submit.
 */
import {
  addDuration,
  customToIso,
  durationMs,
  humanizeDuration,
  isValidDuration,
  MAX_DURATION_WORDS,
} from '../../domain/duration.js';
import { normalizeEmail } from '../../domain/email.js';
import { isDomainError } from '../../domain/errors.js';
import type { AccessRequest, Person } from '../../domain/model.js';
import { closedReason } from '../../domain/owner-settings.js';
import { durationOption, type EffectivePolicy, type ResourceConfig } from '../../domain/policy.js';
import { MAX_JUSTIFICATION, MAX_TICKET } from '../../domain/requests.js';
import type { AccessService, SubmitInput } from '../../domain/service.js';
import { formatTime } from '../../domain/views/time.js';
import { approverLabel, PICKER_LIST_MAX, queried, resourceOf, resourceOptions } from './pickers.js';

export type CustomUnit = 'hour' | 'day' | 'week';
export const CUSTOM_UNITS: ReadonlyArray<{ value: CustomUnit; label: string }> = [
  { value: 'hour', label: 'Hour' },
  { value: 'day', label: 'Day' },
  { value: 'week', label: 'Week' },
];

/** What the person has chosen and typed so far. */
export interface FormState {
  kind: 'access' | 'extension';
  /** For an extension: the grant it extends. */
  grantId?: string;
  resourceId?: string;
  approvers: string[];
  /** The chosen quick duration (ISO-8601). */
  quick?: string;
  /** A typed custom amount: wins over a quick duration. */
  customAmount?: string;
  customUnit: CustomUnit;
  justification: string;
  ticket: string;
  /** What `/request-access <words>` searched for, while no resource is chosen: the picker lists its matches. */
  query?: string;
}

export type FormField = 'resource' | 'approvers' | 'duration' | 'justification' | 'ticket';

export interface Choice {
  value: string;
  label: string;
}

/** What a platform renders. Sections after `resource` are present once a resource is chosen. */
export interface RequestFormModel {
  kind: FormState['kind'];
  title: string;
  submitLabel: string;
  /** A line on top, e.g. "No resource called … that you can request." */
  notice?: string;
  resource:
    | { mode: 'choose'; label: string; placeholder: string; options: Choice[]; selected?: string }
    | {
        /** Too many to list: the platform asks `resourceOptions` as the person types. */
        mode: 'search';
        label: string;
        placeholder: string;
        selected?: Choice;
        /** How many the person may choose from. */
        count: number;
      }
    | { mode: 'fixed'; text: string; resourceId: string }
    | { mode: 'none'; text: string };
  approvers?:
    | { mode: 'auto'; text: string }
    | { mode: 'none'; label: string; text: string }
    | {
        mode: 'choose';
        label: string;
        hint: string;
        placeholder: string;
        options: Choice[];
        selected: string[];
      }
    | {
        /** Too many to list: the platform asks `approverOptions` as the person types. */
        mode: 'search';
        label: string;
        hint: string;
        placeholder: string;
        selected: Choice[];
        count: number;
      };
  duration?: {
    label: string;
    quick: Array<Choice & { selected: boolean }>;
    custom?: { label: string; hint: string; amount?: string; unit: CustomUnit; units: Choice[] };
  };
  templates?: { label: string; placeholder: string; options: Choice[] };
  justification?: { label: string; placeholder: string; value: string; maxLength: number };
  ticket?: { label: string; placeholder: string; value: string; maxLength: number };
  summary?: string;
  errors: Partial<Record<FormField, string>>;
  /** False when there is nothing the person could send (no resource to choose from). */
  canSubmit: boolean;
}

export interface Viewer extends Person {
  tz?: string;
}

/** Display names of emails (the platform's directory); an unknown email stands for itself. */
export type NamesOf = (emails: string[]) => Promise<Map<string, string>>;

export const NO_RESOURCES = 'There are no resources you can request access to. Ask an administrator.';

export function emptyState(kind: FormState['kind'] = 'access'): FormState {
  return { kind, approvers: [], customUnit: 'hour', justification: '', ticket: '' };
}

/**
 * The form as it opens: `query` preselects a resource by id or name when the person may request
 * it; `again` prefills from an earlier request of theirs; `extendGrantId` makes it an extension.
 */
export async function openState(
  service: AccessService,
  viewer: Viewer,
  opts: { query?: string; again?: AccessRequest; extendGrantId?: string } = {},
): Promise<{ state: FormState; notice?: string; nothingToRequest?: boolean }> {
  const allowed = service.requestableResources(viewer.email);
  if (opts.extendGrantId) {
    const state = emptyState('extension');
    state.grantId = opts.extendGrantId;
    const grant = await service.getGrant(opts.extendGrantId);
    if (grant && grant.holder.email === viewer.email.toLowerCase()) state.resourceId = grant.resourceId;
    return { state };
  }
  if (allowed.length === 0) return { state: emptyState(), nothingToRequest: true };
  const state = emptyState();
  let notice: string | undefined;
  if (opts.again && opts.again.requester.email === viewer.email.toLowerCase()) {
    state.resourceId = opts.again.resourceId;
    state.approvers = [...opts.again.approvers];
    setDuration(service, viewer, state, opts.again.duration);
    state.justification = opts.again.justification.slice(0, MAX_JUSTIFICATION);
    state.ticket = opts.again.ticket ?? '';
  } else if (opts.query?.trim()) {
    const query = opts.query.trim().slice(0, 100);
    const exact = service.findResource(query);
    const found = resourceOptions(service, viewer, query, 2);
    const single = found.total === 1 ? found.groups[0]?.options[0]?.value : undefined;
    if (exact && allowed.some((r) => r.id === exact.id)) state.resourceId = exact.id;
    else if (single) state.resourceId = single;
    else if (found.total === 0)
      notice = `There is no resource called “${query}” that you can request. Choose one below.`;
    else if (found.total <= PICKER_LIST_MAX) {
      state.query = query; // the menu lists just these
      notice = `${found.total} resources match “${query}”: choose one below.`;
    } else {
      // Too many to list, and a type-ahead menu cannot be opened with a query typed in.
      notice = `${found.total} resources match “${query}”: type part of the name in the menu below to narrow them down.`;
    }
  } else if (allowed.length === 1 && allowed[0]) {
    state.resourceId = allowed[0].id;
  }
  return { state, ...(notice ? { notice } : {}) };
}

export type FormChange =
  | { field: 'resource'; value?: string }
  | { field: 'approvers'; value: string[] }
  | { field: 'quick'; value: string }
  | { field: 'customAmount'; value?: string }
  | { field: 'customUnit'; value: string }
  | { field: 'template'; value: string }
  | { field: 'justification'; value: string }
  | { field: 'ticket'; value: string };

/** Applies one change the person made. Returns the new state and which fields were reset. */
export function applyChange(
  service: AccessService,
  viewer: Viewer,
  current: FormState,
  change: FormChange,
): { state: FormState; reset: FormField[] } {
  const state: FormState = { ...current, approvers: [...current.approvers] };
  const reset: FormField[] = [];
  switch (change.field) {
    case 'resource':
      if (state.kind !== 'access' || change.value === state.resourceId) break;
      delete state.query;
      if (change.value) state.resourceId = change.value;
      else delete state.resourceId;
      // A new resource has its own approvers and durations.
      state.approvers = [];
      delete state.quick;
      delete state.customAmount;
      reset.push('approvers', 'duration');
      break;
    case 'approvers':
      state.approvers = change.value.map((e) => e.trim().toLowerCase());
      break;
    case 'quick':
      state.quick = change.value; // checked against the policy when rendered and on submit
      delete state.customAmount; // a quick choice clears the custom amount
      reset.push('duration');
      break;
    case 'customAmount':
      if (change.value?.trim()) {
        state.customAmount = change.value.trim();
        delete state.quick; // a typed amount wins: no quick button stays marked
      } else delete state.customAmount;
      break;
    case 'customUnit':
      state.customUnit = CUSTOM_UNITS.some((u) => u.value === change.value)
        ? (change.value as CustomUnit)
        : 'hour';
      break;
    case 'template': {
      const policy = policyOf(service, viewer, state);
      if (policy?.justificationTemplates.includes(change.value)) {
        state.justification = change.value;
        reset.push('justification');
      }
      break;
    }
    case 'justification':
      // Kept whole: a text past the limit (a card or payload edited past the input's maxLength) is
      // refused at submission with the field's error, as in Slack, never silently cut.
      state.justification = change.value;
      break;
    case 'ticket':
      state.ticket = change.value.slice(0, MAX_TICKET);
      break;
  }
  return { state, reset };
}

/** Shows `iso` as the quick choice of the same length, else as a custom amount, else not at all. */
function setDuration(service: AccessService, viewer: Viewer, state: FormState, iso: string): void {
  const policy = policyOf(service, viewer, state);
  const option = policy ? durationOption(policy, iso) : undefined;
  if (option) {
    state.quick = option.duration;
    return;
  }
  if (!policy?.custom || !isValidDuration(iso)) return;
  const hours = durationMs(iso) / HOUR_MS;
  const as = [
    { unit: 'week' as const, per: 168 },
    { unit: 'day' as const, per: 24 },
    { unit: 'hour' as const, per: 1 },
  ].find((u) => Number.isInteger(hours / u.per) && hours / u.per > 0);
  if (as) {
    state.customAmount = String(hours / as.per);
    state.customUnit = as.unit;
  }
}

const HOUR_MS = 3_600_000;

/**
 * The state with what the policy does not allow taken out: a quick choice the policy does not
 * offer (stale, tampered) is dropped, an equal one is written the policy's way; approvers are
 * lower-cased, without repeats.
 */
function normalized(service: AccessService, viewer: Viewer, input: FormState): FormState {
  const state: FormState = { ...input, approvers: [...new Set(input.approvers.map(normalizeEmail))] };
  const policy = policyOf(service, viewer, state);
  if (state.quick) {
    const option = policy ? durationOption(policy, state.quick) : undefined;
    if (option) state.quick = option.duration;
    else delete state.quick;
  }
  return state;
}

function policyOf(service: AccessService, viewer: Viewer, state: FormState): EffectivePolicy | undefined {
  const resource = resourceOf(service, viewer, state);
  return resource ? service.policyFor(resource, viewer.email) : undefined;
}

/** The duration the form asks for: a typed custom amount wins over a quick choice. */
export function chosenDuration(state: FormState): { iso?: string; error?: string } {
  if (state.customAmount !== undefined) {
    const n = Number(state.customAmount);
    if (!/^\d+$/.test(state.customAmount) || !Number.isSafeInteger(n) || n <= 0) {
      return { error: 'Enter a whole number greater than 0.' };
    }
    try {
      const iso = customToIso(n, state.customUnit);
      // A number too large for any duration (it would end at a time that cannot be shown).
      if (!isValidDuration(iso)) return { error: `Enter a duration of at most ${MAX_DURATION_WORDS}.` };
      return { iso };
    } catch (error) {
      if (isDomainError(error)) return { error: error.message };
      throw error;
    }
  }
  if (state.quick) return { iso: state.quick };
  return { error: 'Choose a duration.' };
}

function summaryOf(
  service: AccessService,
  viewer: Viewer,
  state: FormState,
  resource: ResourceConfig,
  policy: EffectivePolicy,
  names: Map<string, string>,
  windowEndsAt: Date | undefined,
): string {
  const parts: string[] = [];
  const duration = chosenDuration(state);
  if (duration.iso) {
    const wanted = addDuration(service.now(), duration.iso);
    // A grant never outlives the owners' access window.
    const until = windowEndsAt && windowEndsAt < wanted ? windowEndsAt : wanted;
    parts.push(
      state.kind === 'extension'
        ? `${resource.name} for ${humanizeDuration(duration.iso)} more`
        : `${resource.name} for ${humanizeDuration(duration.iso)}, until ${formatTime(until, viewer.tz)} your time${until === windowEndsAt ? " (the end of the owners' access window)" : ''}`,
    );
  } else {
    parts.push(
      `${resource.name}: ${(duration.error ?? 'choose a duration').replace(/\.$/, '').toLowerCase()}`,
    );
  }
  if (policy.approval === 'auto') parts.push('approved automatically');
  else
    parts.push(
      state.approvers.length
        ? `approvers: ${state.approvers.map((e) => names.get(e) ?? e).join(', ')}`
        : 'approvers: none chosen yet',
    );
  return parts.join('; ');
}

/** The whole form for the current state. */
export async function buildForm(
  service: AccessService,
  viewer: Viewer,
  input: FormState,
  namesOf: NamesOf,
  extra: { notice?: string; errors?: Partial<Record<FormField, string>> } = {},
): Promise<RequestFormModel> {
  const state = normalized(service, viewer, input);
  const allowed = service.requestableResources(viewer.email);
  const resource = resourceOf(service, viewer, state);
  const policy = resource ? service.policyFor(resource, viewer.email) : undefined;
  const matched = state.query && !resource ? queried(service, viewer, state.query) : undefined;
  const model: RequestFormModel = {
    kind: state.kind,
    title: state.kind === 'extension' ? 'Extend access' : 'Request access',
    submitLabel: 'Send request',
    ...(extra.notice ? { notice: extra.notice } : {}),
    resource:
      state.kind === 'extension'
        ? resource
          ? { mode: 'fixed', text: `Extend your access to ${resource.name}`, resourceId: resource.id }
          : { mode: 'none', text: 'This access can no longer be extended.' }
        : allowed.length === 0
          ? { mode: 'none', text: NO_RESOURCES }
          : matched
            ? { mode: 'choose', label: 'Resource', placeholder: 'Choose a resource', options: matched }
            : allowed.length > PICKER_LIST_MAX
              ? {
                  mode: 'search',
                  label: 'Resource',
                  placeholder: 'Type to search resources',
                  count: allowed.length,
                  ...(resource ? { selected: { value: resource.id, label: resource.name } } : {}),
                }
              : {
                  mode: 'choose',
                  label: 'Resource',
                  placeholder: 'Choose a resource',
                  options: allowed.map((r) => ({ value: r.id, label: r.name })),
                  ...(resource ? { selected: resource.id } : {}),
                },
    errors: { ...extra.errors },
    canSubmit: state.kind === 'access' ? allowed.length > 0 : Boolean(resource),
  };
  if (!resource || !policy) return model;
  const access = await service.resourceAccess(resource);
  const closed = closedReason(resource, access, service.now(), viewer.tz);
  if (closed) model.notice = closed;

  const eligible = policy.approval === 'manual' ? service.approversFor(resource, viewer.email) : [];
  // A type-ahead (more than a list holds) shows only the chosen approvers' names: looking up every
  // eligible one would hold up the form (Slack's trigger lasts 3 s) for names nobody sees yet.
  const named = eligible.length > PICKER_LIST_MAX ? state.approvers : [...eligible, ...state.approvers];
  const names = await namesOf([...new Set(named)]);
  if (policy.approval === 'auto') {
    model.approvers = {
      mode: 'auto',
      text: 'Approved automatically under this resource’s policy; a justification is still required.',
    };
  } else if (eligible.length === 0) {
    model.approvers = { mode: 'none', label: 'Approvers', text: 'No administrators found' };
  } else if (eligible.length > PICKER_LIST_MAX) {
    model.approvers = {
      mode: 'search',
      label: 'Approvers',
      hint: 'Each one gets the request; the first decision wins.',
      placeholder: 'Type to search approvers',
      count: eligible.length,
      selected: state.approvers
        .filter((a) => eligible.includes(a))
        .map((email) => ({ value: email, label: approverLabel(email, names) })),
    };
  } else {
    model.approvers = {
      mode: 'choose',
      label: 'Approvers',
      hint: 'Each one gets the request; the first decision wins.',
      placeholder: 'Choose approvers',
      options: eligible.map((email) => ({ value: email, label: approverLabel(email, names) })),
      selected: state.approvers.filter((a) => eligible.includes(a)),
    };
  }
  model.duration = {
    label: 'Duration',
    quick: policy.durations.map((d) => ({
      value: d.duration,
      label: humanizeDuration(d.duration),
      selected: state.quick === d.duration,
    })),
    ...(policy.custom
      ? {
          custom: {
            label: 'Custom duration',
            hint: `Between ${humanizeDuration(policy.custom.min)} and ${humanizeDuration(policy.custom.max)}.`,
            ...(state.customAmount ? { amount: state.customAmount } : {}),
            unit: state.customUnit,
            units: CUSTOM_UNITS.map((u) => ({ value: u.value, label: u.label })),
          },
        }
      : {}),
  };
  model.templates = {
    label: 'Justification template',
    placeholder: 'Start from a template',
    options: policy.justificationTemplates.map((t) => ({ value: t, label: t })),
  };
  model.justification = {
    label: 'Justification',
    placeholder: 'Why do you need access?',
    value: state.justification,
    maxLength: MAX_JUSTIFICATION,
  };
  model.ticket = {
    label: 'Ticket reference',
    placeholder: 'e.g. INC-1234',
    value: state.ticket,
    maxLength: MAX_TICKET,
  };
  model.summary = summaryOf(
    service,
    viewer,
    { ...state, approvers: state.approvers.filter((a) => eligible.includes(a)) },
    resource,
    policy,
    names,
    access.windowEndsAt,
  );
  return model;
}

/**
 * Checks a submission. Errors come back per field, to show beside the field; nothing is sent
 * unless all is well. `submit` then sends it (the domain checks everything again).
 */
export async function validateSubmission(
  service: AccessService,
  viewer: Viewer,
  given: FormState,
  submissionKey: string,
): Promise<{ errors: Partial<Record<FormField, string>> } | { input: SubmitInput }> {
  const state = normalized(service, viewer, given);
  let resourceId = state.resourceId;
  if (state.kind === 'extension') {
    resourceId = state.grantId ? (await service.getGrant(state.grantId))?.resourceId : undefined;
  }
  const duration = chosenDuration(state);
  const input: SubmitInput = {
    requester: { email: viewer.email, name: viewer.name },
    resourceId: resourceId ?? '',
    approvers: state.approvers,
    duration: duration.iso ?? 'PT0S',
    justification: state.justification,
    ...(state.ticket.trim() ? { ticket: state.ticket } : {}),
    submissionKey,
    ...(state.kind === 'extension' && state.grantId ? { grantId: state.grantId } : {}),
  };
  const errors: Partial<Record<FormField, string>> = {};
  const put = (field: FormField, message: string) => {
    errors[field] ??= message;
  };
  for (const e of await service.checkSubmission(input)) {
    put(
      e.field === 'duration' ? 'duration' : e.field,
      e.field === 'duration' ? (duration.error ?? e.message) : e.message,
    );
  }
  // Without a resource there is no duration to ask about; the resource error says what to do.
  if (duration.error && resourceId && service.findResource(resourceId)) put('duration', duration.error);
  if (state.ticket.length > MAX_TICKET)
    put('ticket', `Keep the ticket reference under ${MAX_TICKET} characters.`);
  return Object.keys(errors).length ? { errors } : { input };
}
