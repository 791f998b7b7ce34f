/** Builds the request modal (Block Kit) from the form state. No handler writes Block Kit itself. */
import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { humanizeDuration } from '../../domain/duration.js';
import type { EffectivePolicy, ResourceConfig } from '../../domain/policy.js';
import { blockId, type FormMeta } from './form.js';
import { BlockIds, FormIds } from './ids.js';
import { LIMITS, truncate } from './limits.js';
import { escapeMrkdwn } from './render.js';

export interface ModalInput {
  meta: FormMeta;
  resources: ResourceConfig[];
  resource?: ResourceConfig;
  policy?: EffectivePolicy;
  /** eligible approvers of the chosen resource (never the requester) */
  approvers: Array<{ email: string; name: string }>;
  summary: string;
  /** a line shown on top, e.g. "No resource called 'x' that you can request." */
  notice?: string;
}

const option = (text: string, value: string): PlainTextOption => ({
  text: { type: 'plain_text', text: truncate(text, LIMITS.optionText) },
  value: truncate(value, LIMITS.optionValue),
});

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

export function buildRequestModal(input: ModalInput): ModalView {
  const { meta, resource, policy } = input;
  const blocks: KnownBlock[] = [];
  if (input.notice) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: escapeMrkdwn(input.notice), verbatim: true }],
    });
  }
  if (meta.kind === 'extension' && resource) {
    blocks.push({
      type: 'section',
      block_id: BlockIds.resource,
      text: { type: 'mrkdwn', text: `Extend your access to *${escapeMrkdwn(resource.name)}*` },
    });
  } else if (input.resources.length === 0) {
    blocks.push({
      type: 'section',
      block_id: BlockIds.resource,
      text: {
        type: 'mrkdwn',
        text: 'There are no resources you can request access to. Ask an administrator.',
      },
    });
  } else {
    const options = input.resources.slice(0, LIMITS.options).map((r) => option(r.name, r.id));
    const initial = resource ? options.find((o) => o.value === resource.id) : undefined;
    blocks.push({
      type: 'input',
      block_id: BlockIds.resource,
      dispatch_action: true,
      label: { type: 'plain_text', text: 'Resource' },
      element: {
        type: 'static_select',
        action_id: FormIds.resource,
        placeholder: { type: 'plain_text', text: 'Choose a resource' },
        options,
        ...(initial ? { initial_option: initial } : {}),
      },
    });
  }

  if (resource && policy) {
    if (policy.approval === 'auto') {
      blocks.push({
        type: 'context',
        block_id: BlockIds.approvers,
        elements: [
          {
            type: 'mrkdwn',
            text: 'Approved automatically under this resource’s policy; a justification is still required.',
          },
        ],
      });
    } else if (input.approvers.length === 0) {
      blocks.push({
        type: 'section',
        block_id: BlockIds.approvers,
        text: { type: 'mrkdwn', text: '*Approvers*\nNo administrators found' },
      });
    } else {
      const options = input.approvers
        .slice(0, LIMITS.options)
        .map((a) => option(`${a.name} (${a.email})`, a.email));
      const initial = options.filter((o) => o.value !== undefined && meta.approvers?.includes(o.value));
      blocks.push({
        type: 'input',
        block_id: blockId.approvers(meta),
        dispatch_action: true,
        label: { type: 'plain_text', text: 'Approvers' },
        hint: { type: 'plain_text', text: 'Each one gets the request; the first decision wins.' },
        element: {
          type: 'multi_static_select',
          action_id: FormIds.approvers,
          placeholder: { type: 'plain_text', text: 'Choose approvers' },
          options,
          ...(initial.length ? { initial_options: initial } : {}),
        },
      });
    }

    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '*Duration*' } });
    if (policy.durations.length) {
      blocks.push({
        type: 'actions',
        block_id: BlockIds.durations,
        elements: policy.durations.slice(0, 25).map((d, i) => ({
          type: 'button' as const,
          action_id: `${FormIds.durationPrefix}${i}`,
          text: { type: 'plain_text' as const, text: humanizeDuration(d.duration) },
          value: d.duration,
          ...(meta.duration === d.duration ? { style: 'primary' as const } : {}),
        })),
      });
    }
    if (policy.custom) {
      blocks.push({
        type: 'input',
        block_id: blockId.customAmount(meta),
        optional: true,
        dispatch_action: true,
        label: { type: 'plain_text', text: 'Custom duration' },
        hint: {
          type: 'plain_text',
          text: `Between ${humanizeDuration(policy.custom.min)} and ${humanizeDuration(policy.custom.max)}.`,
        },
        element: {
          type: 'number_input',
          action_id: FormIds.customAmount,
          is_decimal_allowed: false,
          min_value: '1',
          dispatch_action_config: { trigger_actions_on: ['on_character_entered'] },
          placeholder: { type: 'plain_text', text: 'Number' },
        },
      });
      blocks.push({
        type: 'input',
        block_id: BlockIds.customUnit,
        optional: true,
        dispatch_action: true,
        label: { type: 'plain_text', text: 'Unit' },
        element: {
          type: 'static_select',
          action_id: FormIds.customUnit,
          options: [option('Hour', 'hour'), option('Day', 'day'), option('Week', 'week')],
          initial_option: option('Hour', 'hour'),
        },
      });
    }

    blocks.push({
      type: 'input',
      block_id: BlockIds.template,
      optional: true,
      dispatch_action: true,
      label: { type: 'plain_text', text: 'Justification template' },
      element: {
        type: 'static_select',
        action_id: FormIds.template,
        placeholder: { type: 'plain_text', text: 'Start from a template' },
        options: policy.justificationTemplates.slice(0, LIMITS.options).map((t) => option(t, t)),
      },
    });
    blocks.push({
      type: 'input',
      block_id: blockId.justification(meta),
      label: { type: 'plain_text', text: 'Justification' },
      element: {
        type: 'plain_text_input',
        action_id: FormIds.justification,
        multiline: true,
        max_length: 2000,
        placeholder: { type: 'plain_text', text: 'Why do you need access?' },
        ...(meta.justification ? { initial_value: meta.justification } : {}),
      },
    });
    blocks.push({
      type: 'input',
      block_id: BlockIds.ticket,
      optional: true,
      label: { type: 'plain_text', text: 'Ticket reference' },
      element: {
        type: 'plain_text_input',
        action_id: FormIds.ticket,
        max_length: 200,
        placeholder: { type: 'plain_text', text: 'e.g. INC-1234' },
        ...(meta.ticket ? { initial_value: meta.ticket } : {}),
      },
    });
    blocks.push({ type: 'divider' });
    blocks.push({
      type: 'section',
      block_id: BlockIds.summary,
      text: { type: 'mrkdwn', text: `*Summary*\n${escapeMrkdwn(input.summary)}`, verbatim: true },
    });
  }

  // Slack refuses a modal with input blocks but no submit button, so the resource select alone
  // (nothing chosen yet) gets one too; submitting it then asks for a resource inline.
  const canSubmit = blocks.some((b) => b.type === 'input');
  return {
    type: 'modal',
    callback_id: FormIds.requestCallback,
    title: { type: 'plain_text', text: meta.kind === 'extension' ? 'Extend access' : 'Request access' },
    ...(canSubmit ? { submit: { type: 'plain_text' as const, text: 'Send request' } } : {}),
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: encodeMeta(meta),
    notify_on_close: false,
    blocks: blocks.slice(0, LIMITS.blocksInModal),
  };
}

export function buildDenyModal(meta: string, requesterName: string, resourceName: string): ModalView {
  return {
    type: 'modal',
    callback_id: FormIds.denyCallback,
    title: { type: 'plain_text', text: 'Deny request' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Back' },
    private_metadata: meta,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Deny ${escapeMrkdwn(requesterName)}'s request for *${escapeMrkdwn(resourceName)}*?`,
        },
      },
      {
        type: 'input',
        block_id: BlockIds.denyReason,
        optional: true,
        label: { type: 'plain_text', text: 'Reason (optional)' },
        element: {
          type: 'plain_text_input',
          action_id: FormIds.denyReason,
          multiline: true,
          max_length: 1000,
        },
      },
    ],
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
