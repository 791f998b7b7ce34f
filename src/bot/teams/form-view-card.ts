/**
 * A neutral `FormView` (src/domain/views/model.ts: some lines, text inputs, a send and a back
 * button) as an Adaptive Card 1.5, for answering a click with a form in place of the card (Teams'
 * Universal Actions; the Agents Playground has no dialogs). Inputs come back in the
 * `Action.Execute`'s data under their neutral ids; the card's own `data` rides along on both buttons.
 */
import type { FormView } from '../../domain/views/model.js';
import { ADAPTIVE_CARD_VERSION, type AdaptiveCard, type CardElement, escapeMarkdown } from './cards.js';
import { LIMITS, truncate } from './limits.js';

export interface FormCardActions {
  /** Verb of the send button. */
  submit: string;
  /** Verb of the back button. */
  close: string;
  /** What both buttons carry back (ids only). */
  data: Record<string, string>;
  /** The send button's style: `destructive` for a deny. */
  style?: 'positive' | 'destructive';
}

export function renderFormCard(form: FormView, actions: FormCardActions): AdaptiveCard {
  const body: CardElement[] = [
    {
      type: 'TextBlock',
      text: escapeMarkdown(truncate(form.title, LIMITS.title)),
      style: 'heading',
      size: 'Large',
      weight: 'Bolder',
      wrap: true,
    },
    ...(form.lines ?? []).map((line) => ({
      type: 'TextBlock',
      text: escapeMarkdown(truncate(line, LIMITS.text)),
      wrap: true,
    })),
    ...form.inputs.map((input) => ({
      type: 'Input.Text',
      id: input.id,
      label: input.label,
      isMultiline: input.multiline ?? false,
      maxLength: input.maxLength,
      isRequired: !input.optional,
      ...(input.optional ? {} : { errorMessage: `${input.label} is required.` }),
    })),
  ];
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ADAPTIVE_CARD_VERSION,
    fallbackText: escapeMarkdown(truncate(form.title, LIMITS.summary)),
    body,
    actions: [
      {
        type: 'Action.Execute',
        title: truncate(form.submitLabel, LIMITS.buttonTitle),
        verb: actions.submit,
        data: actions.data,
        ...(actions.style ? { style: actions.style } : {}),
      },
      {
        type: 'Action.Execute',
        title: truncate(form.closeLabel, LIMITS.buttonTitle),
        verb: actions.close,
        data: actions.data,
        // Back sends nothing typed in the form.
        associatedInputs: 'none',
      },
    ],
  };
}
