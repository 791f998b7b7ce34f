/**
 * The owners' access settings form (src/core/forms/access-settings.ts) as an Adaptive Card 1.5:
 * the resource (a choice, or fixed), what is in force now, and for owners the JIT access toggle
 * (with its warning), the window ("Always allow" or a date and a time in the owner's zone), the
 * preview and Save Changes; read-only for everyone else, with the form's sentence saying why.
 * Buttons are `Action.Execute` with `settings.*` verbs (./settings.ts answers them).
 */
import type { SettingsFormModel } from '../../core/forms/access-settings.js';
import { ADAPTIVE_CARD_VERSION, type AdaptiveCard, type CardElement, escapeMarkdown } from './cards.js';
import { LIMITS, truncate } from './limits.js';

export const SettingsVerb = {
  /** Another resource was chosen. */
  resource: 'settings.resource',
  /** Something else changed: show the preview and warning again. */
  change: 'settings.change',
  save: 'settings.save',
} as const;
export const SETTINGS_VERB_PREFIX = 'settings.';

export const SettingsInput = {
  resource: 'settings.resource',
  jit: 'settings.jit',
  window: 'settings.window',
  date: 'settings.date',
  time: 'settings.time',
} as const;

/** What the buttons carry: the form's resource and the stored setting's version it was filled against. */
export interface SettingsWire {
  resourceId?: string;
  version: number;
  fixed: boolean;
}

const text = (value: string, extra: Record<string, unknown> = {}): CardElement => ({
  type: 'TextBlock',
  text: escapeMarkdown(truncate(value, LIMITS.text)),
  wrap: true,
  ...extra,
});
const attention = (value: string) => text(value, { color: 'Attention', weight: 'Bolder' });

const execute = (title: string, verb: string, data: SettingsWire, style?: string): CardElement => ({
  type: 'Action.Execute',
  title,
  verb,
  data,
  ...(style ? { style } : {}),
});

export function renderSettingsCard(
  model: SettingsFormModel,
  wire: SettingsWire,
  notice?: string,
): AdaptiveCard {
  const body: CardElement[] = [text(model.title, { style: 'heading', size: 'Large', weight: 'Bolder' })];
  if (notice) body.push(attention(notice));
  const r = model.resource;
  if (r.mode === 'choose') {
    body.push({
      type: 'Input.ChoiceSet',
      id: SettingsInput.resource,
      label: r.label,
      placeholder: r.placeholder,
      choices: r.options.map((o) => ({ title: truncate(o.label, LIMITS.choiceTitle), value: o.value })),
      ...(r.selected ? { value: r.selected } : {}),
    });
    if (r.hint) body.push(text(r.hint, { isSubtle: true }));
    body.push({ type: 'ActionSet', actions: [execute('Use this resource', SettingsVerb.resource, wire)] });
  } else {
    body.push(text(r.text));
  }
  if (model.errors.resource) body.push(attention(model.errors.resource));
  if (model.current) body.push(text(model.current));
  if (model.readOnly) body.push(attention(model.readOnly));
  if (model.jit) {
    body.push({
      type: 'Input.ChoiceSet',
      id: SettingsInput.jit,
      label: model.jit.label,
      style: 'expanded',
      choices: model.jit.options.map((o) => ({ title: o.label, value: o.value })),
      value: model.jit.value,
    });
    // A card is not re-rendered when the toggle changes: the warning is there before Save Changes
    // either way (emphasised while the form says Off).
    body.push(
      model.jit.warning ? attention(model.jit.warning) : text(model.jit.ifSwitchedOff, { isSubtle: true }),
    );
  }
  if (model.window) {
    const w = model.window;
    body.push(
      {
        type: 'Input.ChoiceSet',
        id: SettingsInput.window,
        label: w.label,
        style: 'expanded',
        choices: w.options.map((o) => ({ title: o.label, value: o.value })),
        value: w.value,
      },
      {
        type: 'Input.Date',
        id: SettingsInput.date,
        label: w.dateLabel,
        ...(w.date ? { value: w.date } : {}),
      },
      {
        type: 'Input.Time',
        id: SettingsInput.time,
        label: w.timeLabel,
        ...(w.time ? { value: w.time } : {}),
      },
    );
  }
  if (model.errors.window) body.push(attention(model.errors.window));
  if (model.errors.jit) body.push(attention(model.errors.jit));
  if (model.preview) body.push(text(model.preview, { isSubtle: true }));
  const card: AdaptiveCard = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ADAPTIVE_CARD_VERSION,
    fallbackText: escapeMarkdown(model.title),
    body,
  };
  if (model.editable && model.canSubmit) {
    card.actions = [
      execute('Update preview', SettingsVerb.change, wire),
      execute(model.submitLabel, SettingsVerb.save, wire, 'positive'),
    ];
  }
  return card;
}
