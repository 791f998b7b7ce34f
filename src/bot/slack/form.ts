/**
 * How the neutral request form (src/core/forms/request-form.ts) lives in a Slack modal: the
 * form's state is kept in `private_metadata` and in Slack's view state, and read back into the
 * neutral `FormState` here. Both are untrusted: parsed with zod here and re-checked against
 * policy and the store on submit.
 *
 * Slack keeps what a person typed per `block_id`; to replace a value (a template filling the
 * justification, a new resource clearing the approvers) the block gets a new id: `av`, `cv` and
 * `jv` count those versions.
 */
import { z } from 'zod';
import type { FormField, FormState } from '../../core/forms/request-form.js';
import { MAX_TICKET } from '../../domain/requests.js';
import { BlockIds, FormIds, OptionValues } from './ids.js';
import { LIMITS } from './limits.js';
import { parseMetadata } from './views.js';

export const metaSchema = z.object({
  kind: z.enum(['access', 'extension']),
  grantId: z.string().max(LIMITS.metaId).optional(),
  resourceId: z.string().max(LIMITS.metaId).optional(),
  /** the chosen quick duration (ISO) */
  duration: z.string().max(LIMITS.metaDuration).optional(),
  av: z.number().int().nonnegative().default(0),
  cv: z.number().int().nonnegative().default(0),
  jv: z.number().int().nonnegative().default(0),
  /** values to show: prefills ("Request again") and the person's input carried across a re-render */
  approvers: z.array(z.string().max(LIMITS.email)).max(LIMITS.options).optional(),
  justification: z.string().max(LIMITS.metaJustification).optional(),
  ticket: z.string().max(MAX_TICKET).optional(),
  /** a `/request-access <words>` search whose matches the resource menu lists */
  query: z.string().max(LIMITS.metaId).optional(),
});
export type FormMeta = z.infer<typeof metaSchema>;

export function parseMeta(raw: string | undefined): FormMeta | null {
  return parseMetadata(metaSchema, raw);
}

/**
 * The form state as private_metadata, within Slack's limit. Optional prefills are dropped (never
 * cut mid-JSON) when it would not fit; Slack keeps what the person typed in the view state anyway.
 */
export function encodeMeta(meta: FormMeta): string {
  let json = JSON.stringify(meta);
  for (const drop of ['justification', 'ticket', 'approvers'] as const) {
    if (json.length <= LIMITS.privateMetadata) break;
    const { [drop]: _dropped, ...rest } = JSON.parse(json) as FormMeta;
    json = JSON.stringify(rest);
  }
  return json;
}

const stateValue = z
  .object({
    type: z.string(),
    value: z.string().nullable().optional(),
    selected_option: z.object({ value: z.string() }).nullable().optional(),
    selected_options: z.array(z.object({ value: z.string() })).optional(),
  })
  .loose();
const stateSchema = z.record(z.string(), z.record(z.string(), stateValue));
export type ViewState = z.infer<typeof stateSchema>;

export function parseState(raw: unknown): ViewState {
  const parsed = stateSchema.safeParse(raw ?? {});
  return parsed.success ? parsed.data : {};
}

export const blockId = {
  approvers: (m: FormMeta) => `${BlockIds.approvers}.${m.av}`,
  customAmount: (m: FormMeta) => `${BlockIds.customAmount}.${m.cv}`,
  justification: (m: FormMeta) => `${BlockIds.justification}.${m.jv}`,
};

const isHint = (value: string) => (Object.values(OptionValues) as string[]).includes(value);

/** The neutral form state: the metadata, overlaid with what the person has in the modal now. */
export function readState(meta: FormMeta, view: ViewState): FormState {
  const get = (block: string, action: string) => view[block]?.[action];
  const unit = get(BlockIds.customUnit, FormIds.customUnit)?.selected_option?.value;
  const approvers = get(blockId.approvers(meta), FormIds.approvers)?.selected_options;
  const state: FormState = {
    kind: meta.kind,
    approvers: (approvers ? approvers.map((o) => o.value) : (meta.approvers ?? []))
      .filter((v) => !isHint(v))
      .slice(0, LIMITS.options),
    customUnit: unit === 'day' || unit === 'week' ? unit : 'hour',
    justification: get(blockId.justification(meta), FormIds.justification)?.value ?? meta.justification ?? '',
    ticket: get(BlockIds.ticket, FormIds.ticket)?.value ?? meta.ticket ?? '',
  };
  if (meta.grantId) state.grantId = meta.grantId;
  const picked = get(BlockIds.resource, FormIds.resource)?.selected_option?.value;
  // A type-ahead's hint option ("… more match") is not a resource.
  const resourceId = picked && !isHint(picked) ? picked : picked ? undefined : meta.resourceId;
  if (resourceId) state.resourceId = resourceId;
  if (meta.duration) state.quick = meta.duration;
  if (meta.query && !state.resourceId) state.query = meta.query;
  const amount = get(blockId.customAmount(meta), FormIds.customAmount)?.value?.trim();
  if (amount) {
    state.customAmount = amount;
    delete state.quick; // a typed amount wins
  }
  return state;
}

/** The metadata that carries `state` into the next render; `reset` fields get fresh blocks. */
export function nextMeta(meta: FormMeta, state: FormState, reset: FormField[]): FormMeta {
  const next: FormMeta = {
    kind: state.kind,
    av: meta.av + (reset.includes('approvers') ? 1 : 0),
    cv: meta.cv + (reset.includes('duration') ? 1 : 0),
    jv: meta.jv + (reset.includes('justification') ? 1 : 0),
    approvers: state.approvers,
  };
  if (state.grantId) next.grantId = state.grantId;
  if (state.resourceId) next.resourceId = state.resourceId;
  if (state.quick) next.duration = state.quick;
  if (state.justification) next.justification = state.justification.slice(0, LIMITS.metaJustification);
  if (state.ticket) next.ticket = state.ticket;
  if (state.query) next.query = state.query;
  return next;
}

/** The first metadata of a form opened with `state`. */
export function openingMeta(state: FormState): FormMeta {
  return nextMeta({ kind: state.kind, av: 0, cv: 0, jv: 0 }, state, []);
}
