/**
 * Renders the neutral request form (src/core/forms/request-form.ts) as an Adaptive Card 1.5 that
 * lives in the chat: no dialog, no card refresh, no people picker, so it works in every Teams
 * client and in the Microsoft 365 Agents Playground. No rule of the form lives here: only how Teams
 * shows it.
 *
 * - Resource and approvers are `Input.ChoiceSet`s (a drop-down, the default `compact` style). When there are more than one list holds, the
 *   menu is `style: filtered` with `choices.data` of type `Data.Query` (Teams' dynamic type-ahead,
 *   answered through the `application/search` invoke) and, for clients without it, static
 *   `choices`: the first page and a hint to type.
 * - Adaptive Cards 1.5 in Teams cannot react to a menu by itself, so every change is a button, an
 *   `Action.Execute` whose verb says what it does (./request-form-data.ts): "Use this resource", a quick
 *   duration (the chosen one marked ✓), "Use template", "Update summary", "Send request". Each
 *   carries the form's state and every input; the bot answers with the card re-rendered.
 * - Field errors sit under their field in the Attention colour; typed text is escaped as in every
 *   card (./cards.ts).
 */
import type { Choice, FormField, RequestFormModel } from '../../core/forms/request-form.js';
import { ADAPTIVE_CARD_VERSION, type AdaptiveCard, type CardElement, escapeMarkdown } from './cards.js';
import { LIMITS, truncate } from './limits.js';
import { Dataset, FormInput, FormVerb, type FormWire } from './request-form-data.js';

/** What the type-ahead menus list for clients without dynamic search: the first page and a hint. */
export interface StaticPages {
  resources?: Choice[];
  approvers?: Choice[];
}

const text = (value: string, extra: Record<string, unknown> = {}): CardElement => ({
  type: 'TextBlock',
  text: escapeMarkdown(truncate(value, LIMITS.text)),
  wrap: true,
  ...extra,
});

const label = (value: string) => text(value, { weight: 'Bolder', spacing: 'Medium' });

const choice = (c: Choice) => ({
  title: truncate(c.label, LIMITS.choiceTitle),
  value: truncate(c.value, LIMITS.buttonValue),
});

/** The given choices, with `first` ahead of them (once): what the menu shows selected must be listed. */
function listing(first: Choice[], rest: Choice[]): Array<{ title: string; value: string }> {
  const seen = new Set(first.map((c) => c.value));
  return [...first, ...rest.filter((c) => !seen.has(c.value))].map(choice);
}

function execute(title: string, verb: string, wire: FormWire, extra: Record<string, unknown> = {}) {
  const { value, ...rest } = extra;
  return {
    type: 'Action.Execute',
    title: truncate(title, LIMITS.buttonTitle),
    verb,
    data: { form: wire, ...(typeof value === 'string' ? { value } : {}) },
    ...rest,
  };
}

const actionSet = (actions: CardElement[]): CardElement => ({ type: 'ActionSet', actions });

function resourceElements(model: RequestFormModel, wire: FormWire, pages: StaticPages): CardElement[] {
  const r = model.resource;
  if (r.mode === 'fixed' || r.mode === 'none') return [text(r.text)];
  const use = actionSet([execute('Use this resource', FormVerb.resource, wire)]);
  if (r.mode === 'choose') {
    return [
      {
        type: 'Input.ChoiceSet',
        id: FormInput.resource,
        label: r.label,
        placeholder: r.placeholder,
        choices: r.options.slice(0, LIMITS.choices).map(choice),
        ...(r.selected ? { value: r.selected } : {}),
      },
      use,
    ];
  }
  return [
    {
      type: 'Input.ChoiceSet',
      id: FormInput.resource,
      label: r.label,
      style: 'filtered',
      placeholder: r.placeholder,
      choices: listing(r.selected ? [r.selected] : [], pages.resources ?? []),
      'choices.data': { type: 'Data.Query', dataset: Dataset.resources },
      ...(r.selected ? { value: r.selected.value } : {}),
    },
    text(`${r.count} resources: type part of a name, id or group.`, { isSubtle: true, size: 'Small' }),
    use,
  ];
}

function approverElements(model: RequestFormModel, wire: FormWire, pages: StaticPages): CardElement[] {
  const a = model.approvers;
  if (!a) return [];
  if (a.mode === 'auto') return [text(a.text, { isSubtle: true })];
  if (a.mode === 'none') return [label(a.label), text(a.text)];
  const hint = text(
    a.mode === 'search' ? `${a.count} approvers: type part of a name or email. ${a.hint}` : a.hint,
    {
      isSubtle: true,
      size: 'Small',
    },
  );
  if (a.mode === 'choose') {
    return [
      {
        type: 'Input.ChoiceSet',
        id: FormInput.approvers,
        label: a.label,
        isMultiSelect: true,
        placeholder: a.placeholder,
        choices: a.options.slice(0, LIMITS.choices).map(choice),
        ...(a.selected.length ? { value: a.selected.join(',') } : {}),
      },
      hint,
    ];
  }
  return [
    {
      type: 'Input.ChoiceSet',
      id: FormInput.approvers,
      label: a.label,
      style: 'filtered',
      isMultiSelect: true,
      placeholder: a.placeholder,
      choices: listing(a.selected, pages.approvers ?? []),
      'choices.data': { type: 'Data.Query', dataset: `${Dataset.approversPrefix}${wire.resourceId ?? ''}` },
      ...(a.selected.length ? { value: a.selected.map((s) => s.value).join(',') } : {}),
    },
    hint,
  ];
}

function durationElements(model: RequestFormModel, wire: FormWire): CardElement[] {
  const d = model.duration;
  if (!d) return [];
  const elements: CardElement[] = [label(d.label)];
  if (d.quick.length) {
    elements.push(
      actionSet(
        d.quick.map((q) =>
          execute(q.selected ? `✓ ${q.label}` : q.label, FormVerb.duration, wire, {
            value: q.value,
            ...(q.selected ? { style: 'positive' } : {}),
          }),
        ),
      ),
    );
  }
  if (d.custom) {
    const c = d.custom;
    elements.push({
      type: 'ColumnSet',
      columns: [
        {
          type: 'Column',
          width: 'stretch',
          items: [
            {
              type: 'Input.Number',
              id: FormInput.customAmount,
              label: c.label,
              min: 1,
              placeholder: 'Number',
              ...(c.amount !== undefined && /^\d+$/.test(c.amount) ? { value: Number(c.amount) } : {}),
            },
          ],
        },
        {
          type: 'Column',
          width: 'stretch',
          items: [
            {
              type: 'Input.ChoiceSet',
              id: FormInput.customUnit,
              label: 'Unit',
              choices: c.units.map(choice),
              value: c.unit,
            },
          ],
        },
      ],
    });
    elements.push(text(c.hint, { isSubtle: true, size: 'Small' }));
  }
  return elements;
}

function textInput(
  id: string,
  field: { label: string; placeholder: string; value: string; maxLength: number },
  multiline: boolean,
): CardElement {
  return {
    type: 'Input.Text',
    id,
    label: field.label,
    placeholder: field.placeholder,
    ...(multiline ? { isMultiline: true } : {}),
    maxLength: field.maxLength,
    ...(field.value ? { value: field.value } : {}),
  };
}

function errorOf(model: RequestFormModel, field: FormField): CardElement[] {
  const message = model.errors[field];
  return message ? [text(message, { color: 'Attention', size: 'Small', spacing: 'None' })] : [];
}

/** The form as an Adaptive Card; `wire` is the state its buttons carry back. */
export function renderFormCard(
  model: RequestFormModel,
  wire: FormWire,
  pages: StaticPages = {},
): AdaptiveCard {
  const body: CardElement[] = [text(model.title, { style: 'heading', size: 'Large', weight: 'Bolder' })];
  if (model.notice) body.push(text(model.notice));
  body.push(...resourceElements(model, wire, pages), ...errorOf(model, 'resource'));
  body.push(...approverElements(model, wire, pages), ...errorOf(model, 'approvers'));
  body.push(...durationElements(model, wire), ...errorOf(model, 'duration'));
  if (model.templates?.options.length) {
    body.push(
      {
        type: 'Input.ChoiceSet',
        id: FormInput.template,
        label: model.templates.label,
        placeholder: model.templates.placeholder,
        choices: model.templates.options.map(choice),
      },
      actionSet([execute('Use template', FormVerb.template, wire)]),
    );
  }
  if (model.justification) body.push(textInput(FormInput.justification, model.justification, true));
  body.push(...errorOf(model, 'justification'));
  if (model.ticket) body.push(textInput(FormInput.ticket, model.ticket, false));
  body.push(...errorOf(model, 'ticket'));
  if (model.summary) body.push(label('Summary'), text(model.summary));
  const card: AdaptiveCard = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ADAPTIVE_CARD_VERSION,
    fallbackText: escapeMarkdown(model.title),
    body,
  };
  const actions: CardElement[] = [];
  if (model.canSubmit) actions.push(execute(model.submitLabel, FormVerb.submit, wire, { style: 'positive' }));
  if (model.summary) actions.push(execute('Update summary', FormVerb.refresh, wire));
  if (actions.length) card.actions = actions;
  return card;
}
