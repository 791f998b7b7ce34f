/**
 * Renders the neutral request form (src/core/forms/request-form.ts) as a Block Kit modal. No rule
 * of the form lives here: only how Slack shows it.
 */
import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import type { SearchOptions } from '../../core/forms/pickers.js';
import type { FormField, RequestFormModel } from '../../core/forms/request-form.js';
import type { FormView, MessageView } from '../../domain/views/model.js';
import { blockId, encodeMeta, type FormMeta } from './form.js';
import { BlockIds, FormIds, OptionValues } from './ids.js';
import { LIMITS, truncate } from './limits.js';
import { escapeMrkdwn, renderButton, renderMessage } from './render.js';

const option = (text: string, value: string): PlainTextOption => ({
  text: { type: 'plain_text', text: truncate(text, LIMITS.optionText) },
  value: truncate(value, LIMITS.optionValue),
});

const plain = (text: string, max: number = LIMITS.sectionText) => ({
  type: 'plain_text' as const,
  text: truncate(text, max),
});

export function buildRequestModal(model: RequestFormModel, meta: FormMeta): ModalView {
  const blocks: KnownBlock[] = [];
  if (model.notice) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: escapeMrkdwn(model.notice), verbatim: true }],
    });
  }
  const r = model.resource;
  if (r.mode === 'fixed' || r.mode === 'none') {
    blocks.push({
      type: 'section',
      block_id: BlockIds.resource,
      text: { type: 'mrkdwn', text: escapeMrkdwn(r.text), verbatim: true },
    });
  } else if (r.mode === 'search') {
    blocks.push({
      type: 'input',
      block_id: BlockIds.resource,
      dispatch_action: true,
      label: plain(r.label, LIMITS.optionText),
      hint: plain(`${r.count} resources: type part of a name, id or group.`),
      element: {
        type: 'external_select',
        action_id: FormIds.resource,
        placeholder: plain(r.placeholder, LIMITS.optionText),
        min_query_length: 0,
        ...(r.selected ? { initial_option: option(r.selected.label, r.selected.value) } : {}),
      },
    });
  } else {
    const options = r.options.slice(0, LIMITS.options).map((o) => option(o.label, o.value));
    const initial = options.find((o) => o.value === r.selected);
    blocks.push({
      type: 'input',
      block_id: BlockIds.resource,
      dispatch_action: true,
      label: plain(r.label, LIMITS.optionText),
      element: {
        type: 'static_select',
        action_id: FormIds.resource,
        placeholder: plain(r.placeholder, LIMITS.optionText),
        options,
        ...(initial ? { initial_option: initial } : {}),
      },
    });
  }

  const a = model.approvers;
  if (a?.mode === 'auto') {
    blocks.push({
      type: 'context',
      block_id: BlockIds.approvers,
      elements: [{ type: 'mrkdwn', text: escapeMrkdwn(a.text) }],
    });
  } else if (a?.mode === 'none') {
    blocks.push({
      type: 'section',
      block_id: BlockIds.approvers,
      text: { type: 'mrkdwn', text: `*${escapeMrkdwn(a.label)}*\n${escapeMrkdwn(a.text)}` },
    });
  } else if (a?.mode === 'search') {
    blocks.push({
      type: 'input',
      block_id: blockId.approvers(meta),
      dispatch_action: true,
      label: plain(a.label, LIMITS.optionText),
      hint: plain(`${a.hint} ${a.count} approvers: type part of a name or email.`),
      element: {
        type: 'multi_external_select',
        action_id: FormIds.approvers,
        placeholder: plain(a.placeholder, LIMITS.optionText),
        min_query_length: 0,
        ...(a.selected.length ? { initial_options: a.selected.map((c) => option(c.label, c.value)) } : {}),
      },
    });
  } else if (a?.mode === 'choose') {
    const options = a.options.slice(0, LIMITS.options).map((o) => option(o.label, o.value));
    const initial = options.filter((o) => o.value !== undefined && a.selected.includes(o.value));
    blocks.push({
      type: 'input',
      block_id: blockId.approvers(meta),
      dispatch_action: true,
      label: plain(a.label, LIMITS.optionText),
      hint: plain(a.hint),
      element: {
        type: 'multi_static_select',
        action_id: FormIds.approvers,
        placeholder: plain(a.placeholder, LIMITS.optionText),
        options,
        ...(initial.length ? { initial_options: initial } : {}),
      },
    });
  }

  const d = model.duration;
  if (d) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(d.label)}*` } });
    if (d.quick.length) {
      blocks.push({
        type: 'actions',
        block_id: BlockIds.durations,
        elements: d.quick.slice(0, LIMITS.actionsElements).map((q, i) => ({
          type: 'button' as const,
          action_id: `${FormIds.durationPrefix}${i}`,
          text: plain(q.label, LIMITS.buttonText),
          value: q.value,
          ...(q.selected ? { style: 'primary' as const } : {}),
        })),
      });
    }
    if (d.custom) {
      blocks.push({
        type: 'input',
        block_id: blockId.customAmount(meta),
        optional: true,
        dispatch_action: true,
        label: plain(d.custom.label, LIMITS.optionText),
        hint: plain(d.custom.hint),
        element: {
          type: 'number_input',
          action_id: FormIds.customAmount,
          is_decimal_allowed: false,
          min_value: '1',
          ...(d.custom.amount ? { initial_value: d.custom.amount } : {}),
          dispatch_action_config: { trigger_actions_on: ['on_character_entered'] },
          placeholder: plain('Number', LIMITS.optionText),
        },
      });
      const units = d.custom.units.map((u) => option(u.label, u.value));
      blocks.push({
        type: 'input',
        block_id: BlockIds.customUnit,
        optional: true,
        dispatch_action: true,
        label: plain('Unit', LIMITS.optionText),
        element: {
          type: 'static_select',
          action_id: FormIds.customUnit,
          options: units,
          initial_option: units.find((u) => u.value === d.custom?.unit) ?? units[0] ?? option('Hour', 'hour'),
        },
      });
    }
  }
  if (model.templates) {
    blocks.push({
      type: 'input',
      block_id: BlockIds.template,
      optional: true,
      dispatch_action: true,
      label: plain(model.templates.label, LIMITS.optionText),
      element: {
        type: 'static_select',
        action_id: FormIds.template,
        placeholder: plain(model.templates.placeholder, LIMITS.optionText),
        options: model.templates.options.slice(0, LIMITS.options).map((t) => option(t.label, t.value)),
      },
    });
  }
  if (model.justification) {
    const j = model.justification;
    blocks.push({
      type: 'input',
      block_id: blockId.justification(meta),
      label: plain(j.label, LIMITS.optionText),
      element: {
        type: 'plain_text_input',
        action_id: FormIds.justification,
        multiline: true,
        max_length: Math.min(j.maxLength, LIMITS.plainTextInput),
        placeholder: plain(j.placeholder, LIMITS.optionText),
        ...(j.value ? { initial_value: truncate(j.value, LIMITS.plainTextInput) } : {}),
      },
    });
  }
  if (model.ticket) {
    const t = model.ticket;
    blocks.push({
      type: 'input',
      block_id: BlockIds.ticket,
      optional: true,
      label: plain(t.label, LIMITS.optionText),
      element: {
        type: 'plain_text_input',
        action_id: FormIds.ticket,
        max_length: t.maxLength,
        placeholder: plain(t.placeholder, LIMITS.optionText),
        ...(t.value ? { initial_value: t.value.slice(0, t.maxLength) } : {}),
      },
    });
  }
  if (model.summary !== undefined) {
    blocks.push({ type: 'divider' });
    blocks.push({
      type: 'section',
      block_id: BlockIds.summary,
      text: { type: 'mrkdwn', text: `*Summary*\n${escapeMrkdwn(model.summary)}`, verbatim: true },
    });
  }

  // Slack refuses a modal with input blocks but no submit button, so the resource select alone
  // (nothing chosen yet) gets one too; submitting it then asks for a resource inline.
  const canSubmit = model.canSubmit && blocks.some((b) => b.type === 'input');
  return {
    type: 'modal',
    callback_id: FormIds.requestCallback,
    title: plain(model.title, LIMITS.modalTitle),
    ...(canSubmit ? { submit: plain(model.submitLabel, LIMITS.modalButton) } : {}),
    close: plain('Cancel', LIMITS.modalButton),
    private_metadata: encodeMeta(meta),
    notify_on_close: false,
    blocks: blocks.slice(0, LIMITS.blocksInModal),
  };
}

/**
 * The form's field errors as Slack's `response_action: errors` wants them: keyed by the input
 * block they belong to. A field without an input block of its own (the approvers under "No
 * administrators found", quick durations without a custom amount) shows its error on the nearest
 * input that has one.
 */
export function errorsByBlock(
  model: RequestFormModel,
  meta: FormMeta,
  errors: Partial<Record<FormField, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (block: string, message: string) => {
    out[block] ??= message;
  };
  const fallback =
    model.resource.mode === 'choose' || model.resource.mode === 'search'
      ? BlockIds.resource
      : blockId.justification(meta);
  for (const [field, message] of Object.entries(errors) as Array<[FormField, string]>) {
    if (field === 'approvers')
      put(
        model.approvers?.mode === 'choose' || model.approvers?.mode === 'search'
          ? blockId.approvers(meta)
          : fallback,
        message,
      );
    else if (field === 'duration')
      put(
        model.duration?.custom ? blockId.customAmount(meta) : model.templates ? BlockIds.template : fallback,
        message,
      );
    else if (field === 'justification') put(blockId.justification(meta), message);
    else if (field === 'ticket') put(BlockIds.ticket, message);
    else put(fallback, message);
  }
  return out;
}

/** A neutral form (e.g. the deny reason) as a modal. */
export function buildFormModal(form: FormView, callbackId: string, meta: string): ModalView {
  const blocks: KnownBlock[] = (form.lines ?? []).map((line) => ({
    type: 'section' as const,
    text: { type: 'mrkdwn' as const, text: truncate(escapeMrkdwn(line), LIMITS.sectionText), verbatim: true },
  }));
  for (const input of form.inputs) {
    blocks.push({
      type: 'input',
      block_id: input.id,
      optional: input.optional,
      label: plain(input.label, LIMITS.optionText),
      element: {
        type: 'plain_text_input',
        action_id: input.id,
        multiline: input.multiline ?? false,
        max_length: Math.min(input.maxLength, LIMITS.plainTextInput),
      },
    });
  }
  return {
    type: 'modal',
    callback_id: callbackId,
    title: plain(form.title, LIMITS.modalTitle),
    submit: plain(form.submitLabel, LIMITS.modalButton),
    close: plain(form.closeLabel, LIMITS.modalButton),
    private_metadata: meta,
    blocks: blocks.slice(0, LIMITS.blocksInModal),
  };
}

/**
 * A neutral message view (e.g. a grant's timeline) as a modal to read and close. Its lines share
 * sections up to Slack's text limit, so a long timeline fits; what still does not fit is counted.
 */
export function buildInfoModal(view: MessageView, callbackId?: string): ModalView {
  const head = renderMessage({ ...view, lines: [], actions: [] }).blocks;
  const sections: string[] = [];
  for (const line of (view.lines ?? []).map(escapeMrkdwn)) {
    const last = sections.at(-1);
    if (last !== undefined && last.length + line.length + 1 <= LIMITS.sectionText) {
      sections[sections.length - 1] = `${last}\n${line}`;
    } else sections.push(truncate(line, LIMITS.sectionText));
  }
  const buttons: KnownBlock[] = view.actions?.length
    ? [{ type: 'actions', block_id: 'jit.actions', elements: view.actions.map(renderButton) }]
    : [];
  const room = LIMITS.blocksInModal - head.length - buttons.length - 1;
  const blocks: KnownBlock[] = [
    ...head,
    ...sections.slice(0, room).map((text) => ({
      type: 'section' as const,
      text: { type: 'mrkdwn' as const, text, verbatim: true },
    })),
  ];
  if (sections.length > room) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${sections.length - room} more parts are not shown here.` }],
    });
  }
  blocks.push(...buttons);
  return {
    type: 'modal',
    ...(callbackId ? { callback_id: callbackId } : {}),
    title: plain(view.title, LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalButton),
    blocks,
  };
}

/** A modal that only says something (e.g. "You cannot request anything"). */
export function buildMessageModal(title: string, text: string): ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: truncate(title, LIMITS.modalTitle) },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(text) } }],
  };
}

/** Type-ahead results as Slack's options response: grouped when there are groups, the hint last. */
export function buildOptionsResponse(result: SearchOptions, grouped: boolean) {
  const room = LIMITS.options - (result.hint ? 1 : 0);
  const hint = result.hint
    ? option(result.hint, result.total === 0 ? OptionValues.none : OptionValues.more)
    : null;
  if (!grouped) {
    const options = result.groups
      .flatMap((g) => g.options)
      .slice(0, room)
      .map((o) => option(o.label, o.value));
    return { options: hint ? [...options, hint] : options };
  }
  let left = room;
  const option_groups = [];
  for (const g of result.groups) {
    if (left <= 0) break;
    const options = g.options.slice(0, left).map((o) => option(o.label, o.value));
    left -= options.length;
    option_groups.push({ label: plain(g.label, LIMITS.optionText), options });
  }
  if (hint)
    option_groups.push({
      label: plain(result.total === 0 ? 'No match' : 'More', LIMITS.optionText),
      options: [hint],
    });
  return { option_groups };
}
