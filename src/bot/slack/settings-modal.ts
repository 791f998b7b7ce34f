/**
 * The neutral access settings form (src/core/forms/access-settings.ts) as a Block Kit modal, and
 * back: the modal's metadata and view state read into the neutral `SettingsFormState`. Every
 * element that changes the preview dispatches a block action, so the modal is re-rendered (the
 * preview, the warning) before anything is saved. Metadata and state are untrusted: parsed with
 * zod here and checked again by the domain on save.
 */
import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { z } from 'zod';
import type {
  SettingsField,
  SettingsFormModel,
  SettingsFormState,
} from '../../core/forms/access-settings.js';
import { parseState } from './form.js';
import { SettingsBlocks, SettingsIds } from './ids.js';
import { LIMITS, truncate } from './limits.js';
import { escapeMrkdwn } from './render.js';
import { parseMetadata } from './views.js';

const metaSchema = z.object({
  resourceId: z.string().max(LIMITS.metaId).optional(),
  /** the resource came with the command: no picker */
  fixed: z.boolean().default(false),
  version: z.number().int().nonnegative().default(0),
});
export type SettingsMeta = z.infer<typeof metaSchema>;

export function parseSettingsMeta(raw: string | undefined): SettingsMeta | null {
  return parseMetadata(metaSchema, raw);
}

export function settingsMeta(state: SettingsFormState, fixed: boolean): SettingsMeta {
  return { ...(state.resourceId ? { resourceId: state.resourceId } : {}), fixed, version: state.version };
}

const pickerValue = z
  .object({
    selected_option: z.object({ value: z.string() }).nullable().optional(),
    selected_date: z.string().nullable().optional(),
    selected_time: z.string().nullable().optional(),
  })
  .loose();

/**
 * The neutral state: the metadata, overlaid with what the person has in the modal now. Block ids
 * carry the resource (`settings_jit.<resource>`), so a newly chosen resource shows its own values.
 */
export function readSettingsState(meta: SettingsMeta, rawValues: unknown): SettingsFormState {
  const values = parseState(rawValues);
  const suffix = meta.resourceId ?? '';
  const get = (block: string, action: string) => {
    const parsed = pickerValue.safeParse(values[`${block}.${suffix}`]?.[action]);
    return parsed.success ? parsed.data : undefined;
  };
  const jit = get(SettingsBlocks.jit, SettingsIds.jit)?.selected_option?.value;
  const window = get(SettingsBlocks.window, SettingsIds.window)?.selected_option?.value;
  const date = get(SettingsBlocks.date, SettingsIds.date)?.selected_date;
  const time = get(SettingsBlocks.time, SettingsIds.time)?.selected_time;
  const state: SettingsFormState = {
    jitEnabled: jit !== 'off',
    window: window === 'until' ? 'until' : 'always',
    version: meta.version,
  };
  if (meta.resourceId) state.resourceId = meta.resourceId;
  if (date && /^\d{4}-\d{2}-\d{2}$/.test(date)) state.date = date;
  if (time && /^\d{2}:\d{2}$/.test(time)) state.time = time;
  return state;
}

/** The resource the picker shows now (a change of it is handled before the rest is read). */
export function pickedResource(rawValues: unknown): string | undefined {
  const picked =
    parseState(rawValues)[SettingsBlocks.resource]?.[SettingsIds.resource]?.selected_option?.value;
  return picked ?? undefined;
}

const plain = (text: string, max: number = LIMITS.sectionText) => ({
  type: 'plain_text' as const,
  text: truncate(text, max),
});
const option = (text: string, value: string): PlainTextOption => ({
  text: plain(text, LIMITS.optionText),
  value: truncate(value, LIMITS.optionValue),
});
const section = (text: string, blockId?: string): KnownBlock => ({
  type: 'section',
  ...(blockId ? { block_id: blockId } : {}),
  text: { type: 'mrkdwn', text: truncate(escapeMrkdwn(text), LIMITS.sectionText), verbatim: true },
});

export function buildSettingsModal(model: SettingsFormModel, meta: SettingsMeta): ModalView {
  const blocks: KnownBlock[] = [];
  const r = model.resource;
  if (r.mode === 'choose') {
    const options = r.options.slice(0, LIMITS.options).map((o) => option(o.label, o.value));
    const initial = options.find((o) => o.value === r.selected);
    blocks.push({
      type: 'input',
      block_id: SettingsBlocks.resource,
      dispatch_action: true,
      label: plain(r.label, LIMITS.optionText),
      ...(r.hint ? { hint: plain(r.hint) } : {}),
      element: {
        type: 'static_select',
        action_id: SettingsIds.resource,
        placeholder: plain(r.placeholder, LIMITS.optionText),
        options,
        ...(initial ? { initial_option: initial } : {}),
      },
    });
  } else {
    blocks.push(section(r.text, SettingsBlocks.resource));
  }
  if (model.current) blocks.push(section(model.current));
  if (model.readOnly) {
    blocks.push({ type: 'context', elements: [{ type: 'plain_text', text: model.readOnly }] });
  }
  const suffix = meta.resourceId ?? '';
  const radios = (
    block: string,
    action: string,
    label: string,
    choices: Array<{ value: string; label: string }>,
    value: string,
  ): KnownBlock => {
    const options = choices.map((c) => option(c.label, c.value));
    const initial = options.find((o) => o.value === value);
    return {
      type: 'input',
      block_id: `${block}.${suffix}`,
      dispatch_action: true,
      label: plain(label, LIMITS.optionText),
      element: {
        type: 'radio_buttons',
        action_id: action,
        options,
        ...(initial ? { initial_option: initial } : {}),
      },
    };
  };
  if (model.jit) {
    blocks.push(
      radios(SettingsBlocks.jit, SettingsIds.jit, model.jit.label, model.jit.options, model.jit.value),
    );
    if (model.jit.warning) blocks.push(section(`:warning: ${model.jit.warning}`));
  }
  const w = model.window;
  if (w) {
    blocks.push(radios(SettingsBlocks.window, SettingsIds.window, w.label, w.options, w.value));
    if (w.value === 'until') {
      blocks.push({
        type: 'input',
        block_id: `${SettingsBlocks.date}.${suffix}`,
        dispatch_action: true,
        label: plain(w.dateLabel, LIMITS.optionText),
        element: {
          type: 'datepicker',
          action_id: SettingsIds.date,
          ...(w.date ? { initial_date: w.date } : {}),
        },
      });
      blocks.push({
        type: 'input',
        block_id: `${SettingsBlocks.time}.${suffix}`,
        dispatch_action: true,
        label: plain(w.timeLabel, LIMITS.optionText),
        element: {
          type: 'timepicker',
          action_id: SettingsIds.time,
          timezone: w.timeZone,
          ...(w.time ? { initial_time: w.time } : {}),
        },
      });
    }
  }
  if (model.errors.window) blocks.push(section(`:x: ${model.errors.window}`, SettingsBlocks.preview));
  else if (model.preview) blocks.push(section(model.preview, SettingsBlocks.preview));
  return {
    type: 'modal',
    callback_id: SettingsIds.callback,
    title: plain(model.title, LIMITS.modalTitle),
    ...(model.canSubmit ? { submit: plain(model.submitLabel, LIMITS.modalButton) } : {}),
    close: plain(model.canSubmit ? 'Cancel' : 'Close', LIMITS.modalButton),
    private_metadata: JSON.stringify(meta),
    blocks: blocks.slice(0, LIMITS.blocksInModal),
  };
}

/** Inline errors by block id, as `response_action: errors` wants them. */
export function settingsErrorsByBlock(
  errors: Partial<Record<SettingsField, string>>,
  meta: SettingsMeta,
  state: SettingsFormState,
): Record<string, string> {
  const out: Record<string, string> = {};
  const suffix = meta.resourceId ?? '';
  if (errors.resource) out[SettingsBlocks.resource] = errors.resource;
  if (errors.jit) out[`${SettingsBlocks.jit}.${suffix}`] = errors.jit;
  if (errors.window) {
    const block = state.window === 'until' ? SettingsBlocks.date : SettingsBlocks.window;
    out[`${block}.${suffix}`] = errors.window;
  }
  return out;
}
