/**
 * The request form's state, kept in the modal's private_metadata and in Slack's view state.
 * Both are untrusted: parsed with zod here and re-checked against policy and the store on submit.
 */
import { z } from 'zod';
import { customToIso } from '../../domain/duration.js';
import { BlockIds, FormIds } from './ids.js';

export const metaSchema = z.object({
  kind: z.enum(['access', 'extension']),
  grantId: z.string().max(100).optional(),
  resourceId: z.string().max(200).optional(),
  /** selected quick duration (ISO) */
  duration: z.string().max(50).optional(),
  /** versions of blocks whose initial value must be replaced (Slack keeps state per block_id) */
  av: z.number().int().nonnegative().default(0),
  cv: z.number().int().nonnegative().default(0),
  jv: z.number().int().nonnegative().default(0),
  /** initial values to show, e.g. from "Request again" or a chosen template */
  approvers: z.array(z.string().max(320)).max(50).optional(),
  justification: z.string().max(1500).optional(),
  ticket: z.string().max(200).optional(),
});
export type FormMeta = z.infer<typeof metaSchema>;

export function parseMeta(raw: string | undefined): FormMeta | null {
  if (!raw) return null;
  try {
    const parsed = metaSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
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

export interface FormValues {
  resourceId?: string;
  approvers: string[];
  customAmount?: string;
  customUnit: 'hour' | 'day' | 'week';
  template?: string;
  justification: string;
  ticket: string;
}

export function readValues(meta: FormMeta, state: ViewState): FormValues {
  const get = (block: string, action: string) => state[block]?.[action];
  const unit = get(BlockIds.customUnit, FormIds.customUnit)?.selected_option?.value;
  const values: FormValues = {
    approvers: (get(blockId.approvers(meta), FormIds.approvers)?.selected_options ?? []).map((o) => o.value),
    customUnit: unit === 'day' || unit === 'week' ? unit : 'hour',
    justification: get(blockId.justification(meta), FormIds.justification)?.value ?? meta.justification ?? '',
    ticket: get(BlockIds.ticket, FormIds.ticket)?.value ?? '',
  };
  const resourceId = get(BlockIds.resource, FormIds.resource)?.selected_option?.value ?? meta.resourceId;
  if (resourceId) values.resourceId = resourceId;
  const amount = get(blockId.customAmount(meta), FormIds.customAmount)?.value?.trim();
  if (amount) values.customAmount = amount;
  const template = get(BlockIds.template, FormIds.template)?.selected_option?.value;
  if (template) values.template = template;
  return values;
}

/** The duration the form asks for: a typed custom amount wins over a quick button. */
export function chosenDuration(meta: FormMeta, values: FormValues): { iso?: string; error?: string } {
  if (values.customAmount !== undefined) {
    const n = Number(values.customAmount);
    if (!Number.isInteger(n) || n <= 0) return { error: 'Enter a whole number greater than 0.' };
    return { iso: customToIso(n, values.customUnit) };
  }
  if (meta.duration) return { iso: meta.duration };
  return { error: 'Choose a duration.' };
}
