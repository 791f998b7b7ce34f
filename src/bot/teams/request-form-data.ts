/**
 * How the neutral request form (src/core/forms/request-form.ts) lives in an Adaptive Card: the
 * identifiers the card uses, and reading what comes back when a button is pressed.
 *
 * An `Action.Execute` sends its `data` with every input of the card merged in (under the input's
 * id). The form's own state travels in `data.form` (kind, the resource and quick duration the card
 * shows, a form id); what the person typed comes from the inputs. All of it is untrusted: parsed
 * with zod here and re-checked against the policy and the store by the core and the domain. Who
 * pressed the button is never read from it: that is the activity's verified `from` (./identity.ts).
 */
import { z } from 'zod';
import {
  applyChange,
  emptyState,
  type FormChange,
  type FormState,
  type Viewer,
} from '../../core/forms/request-form.js';
import type { AccessService } from '../../domain/service.js';

/** The verbs of the form's `Action.Execute` buttons. */
export const FormVerb = {
  /** Apply the resource chosen in the menu. */
  resource: 'form.resource',
  /** A quick duration button (`data.value` is the ISO duration). */
  duration: 'form.duration',
  /** Fill the justification from the template chosen in the menu. */
  template: 'form.template',
  /** Show the summary for what is entered now. */
  refresh: 'form.refresh',
  submit: 'form.submit',
} as const;
export type FormVerb = (typeof FormVerb)[keyof typeof FormVerb];
export const FORM_VERB_PREFIX = 'form.';

/** The ids of the card's inputs: their values come back under these keys. */
export const FormInput = {
  resource: 'jit.form.resource',
  approvers: 'jit.form.approvers',
  customAmount: 'jit.form.customAmount',
  customUnit: 'jit.form.customUnit',
  template: 'jit.form.template',
  justification: 'jit.form.justification',
  ticket: 'jit.form.ticket',
} as const;

/** `Data.Query` datasets answered through `application/search`. */
export const Dataset = {
  resources: 'jit.resources',
  /** Followed by the resource id: that resource's eligible approvers. */
  approversPrefix: 'jit.approvers:',
} as const;

/** Values of the hint choices a list or a search ends with; never a resource or an approver. */
export const HintValue = {
  more: 'jit.search.more',
  none: 'jit.search.none',
} as const;
const isHint = (value: string) => (Object.values(HintValue) as string[]).includes(value);

const id = z.string().max(200);
/** The form's state as the card carries it. */
export const wireSchema = z.object({
  kind: z.enum(['access', 'extension']),
  /** Made when the form opens; with the person's id it keys the submission (a repeat sends nothing new). */
  formId: z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'a form id'),
  grantId: id.optional(),
  resourceId: id.optional(),
  quick: z.string().max(40).optional(),
  query: z.string().max(100).optional(),
});
export type FormWire = z.infer<typeof wireSchema>;

/** An input's value as clients send it (Input.Number may come as a number). */
const inputValue = (max: number) =>
  z
    .union([z.string(), z.number()])
    .transform((v) => String(v))
    .pipe(z.string().max(max, `at most ${max} characters`))
    .optional();

export const actionDataSchema = z.object({
  form: wireSchema,
  value: z.string().max(300).optional(),
  [FormInput.resource]: inputValue(200),
  [FormInput.approvers]: inputValue(40_000),
  [FormInput.customAmount]: inputValue(20),
  [FormInput.customUnit]: inputValue(20),
  [FormInput.template]: inputValue(300),
  [FormInput.justification]: inputValue(4000),
  [FormInput.ticket]: inputValue(200),
});
export type ActionData = z.infer<typeof actionDataSchema>;

/** What an `adaptiveCard/action` invoke carries. */
export const executeSchema = z.object({
  action: z.object({ type: z.literal('Action.Execute'), verb: z.string().max(100), data: z.unknown() }),
});

/** What an `application/search` invoke carries (Teams' dynamic type-ahead). */
export const searchSchema = z.object({
  queryText: z.string().max(200).default(''),
  dataset: z.string().max(300),
  queryOptions: z
    .object({
      skip: z.coerce.number().int().min(0).max(10_000).default(0),
      top: z.coerce.number().int().min(1).max(100).default(15),
    })
    .default({ skip: 0, top: 15 }),
});

/** The state the card was rendered with. */
function stateOf(wire: FormWire): FormState {
  const state = emptyState(wire.kind);
  if (wire.grantId) state.grantId = wire.grantId;
  if (wire.resourceId) state.resourceId = wire.resourceId;
  if (wire.quick) state.quick = wire.quick;
  if (wire.query) state.query = wire.query;
  return state;
}

/**
 * The form state after the person pressed `verb` on a card holding `data`: the card's state, with
 * what they entered and the button's change applied through the core's `applyChange`. A resource
 * other than the one the card showed is a change of resource, which resets approvers and duration.
 */
export function readCard(service: AccessService, viewer: Viewer, verb: string, data: ActionData): FormState {
  let state = stateOf(data.form);
  const apply = (change: FormChange) => {
    state = applyChange(service, viewer, state, change).state;
  };
  const raw = data[FormInput.resource]?.trim();
  const picked = raw && !isHint(raw) ? raw : undefined;
  const resourceChanged = raw !== undefined && picked !== state.resourceId;
  if (resourceChanged) {
    apply({ field: 'resource', ...(picked ? { value: picked } : {}) });
  } else {
    const approvers = data[FormInput.approvers];
    if (approvers !== undefined) {
      apply({
        field: 'approvers',
        value: approvers
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a && !isHint(a)),
      });
    }
    const amount = data[FormInput.customAmount]?.trim();
    if (amount) apply({ field: 'customAmount', value: amount });
  }
  const unit = data[FormInput.customUnit];
  if (unit !== undefined) apply({ field: 'customUnit', value: unit });
  const justification = data[FormInput.justification];
  if (justification !== undefined) apply({ field: 'justification', value: justification });
  const ticket = data[FormInput.ticket];
  if (ticket !== undefined) apply({ field: 'ticket', value: ticket });
  if (verb === FormVerb.duration && data.value) apply({ field: 'quick', value: data.value });
  const template = data[FormInput.template];
  if (verb === FormVerb.template && template) apply({ field: 'template', value: template });
  return state;
}
