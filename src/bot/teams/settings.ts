/**
 * "access settings [resource]" in the personal chat: the owners' settings form as a card
 * (./settings-card.ts). Each change re-renders it in place (preview, warning, a past date refused
 * inline); Save Changes goes to the domain, which checks again who may save and what
 * (src/domain/owner-settings.ts). The person is the verified `from`; the card's data is parsed with zod.
 */
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { z } from 'zod';
import {
  buildSettingsForm,
  NO_RESOURCE_TO_SET,
  openSettings,
  readSettings,
  type SettingsFormState,
  switchResource,
} from '../../core/forms/access-settings.js';
import { isDomainError } from '../../domain/errors.js';
import type { Person } from '../../domain/model.js';
import { describeSetting } from '../../domain/views/settings.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, type AdaptiveCard, renderCard } from './cards.js';
import { invokeMessage, sendInvokeAnswer } from './invoke.js';
import { reply, showCard, type TeamsFormDeps, UNKNOWN_PERSON, viewerOf } from './request-form.js';
import { executeSchema } from './request-form-data.js';
import {
  renderSettingsCard,
  SETTINGS_VERB_PREFIX,
  SettingsInput,
  SettingsVerb,
  type SettingsWire,
} from './settings-card.js';

export const ACCESS_SETTINGS = 'access settings';
const TITLE = 'Access settings';
const NO_RESOURCE = NO_RESOURCE_TO_SET.replace('/access-settings', 'access settings');
const UNREADABLE =
  'This form could not be read, so nothing was saved. Type “access settings” to open it again.';

const id = z.string().min(1).max(200);
const optionalText = (re: RegExp, message: string) =>
  z
    .string()
    .max(20)
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : undefined))
    .refine((v) => v === undefined || re.test(v), message);

const wireSchema = z.object({
  resourceId: id.optional(),
  version: z.number().int().min(0),
  fixed: z.boolean(),
  [SettingsInput.resource]: z.string().max(200).optional(),
  [SettingsInput.jit]: z.enum(['on', 'off']).optional(),
  [SettingsInput.window]: z.enum(['always', 'until']).optional(),
  [SettingsInput.date]: optionalText(/^\d{4}-\d{2}-\d{2}$/, 'The date must be YYYY-MM-DD.'),
  [SettingsInput.time]: optionalText(/^\d{2}:\d{2}(:\d{2})?$/, 'The time must be HH:mm.'),
});
type Wire = z.infer<typeof wireSchema>;

async function render(
  deps: TeamsFormDeps,
  person: Person,
  state: SettingsFormState,
  fixed: boolean,
  notice?: string,
): Promise<AdaptiveCard> {
  const model = await buildSettingsForm(deps.service, person, state, { fixed });
  const wire: SettingsWire = {
    ...(state.resourceId ? { resourceId: state.resourceId } : {}),
    version: state.version,
    fixed,
  };
  return renderSettingsCard(model, wire, notice);
}

async function onCommand(context: TurnContext, deps: TeamsFormDeps, words: string): Promise<void> {
  const who = await deps.identity.of(context);
  if (!who) return reply(context, UNKNOWN_PERSON);
  const person = await viewerOf(context, deps, who);
  const opened = await openSettings(deps.service, person, words);
  if ('notFound' in opened) return reply(context, NO_RESOURCE);
  const card = await render(deps, person, opened.state, opened.fixed);
  await context.sendActivity({
    type: ActivityTypes.Message,
    summary: TITLE,
    attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card }],
  });
}

/** The form's state from the card's inputs, over the resource and version it was rendered with. */
function stateOf(wire: Wire): SettingsFormState {
  const time = wire[SettingsInput.time]?.slice(0, 5);
  const date = wire[SettingsInput.date];
  return {
    ...(wire.resourceId ? { resourceId: wire.resourceId } : {}),
    jitEnabled: wire[SettingsInput.jit] !== 'off',
    window: wire[SettingsInput.window] ?? 'always',
    ...(date ? { date } : {}),
    ...(time ? { time } : {}),
    version: wire.version,
  };
}

async function press(
  deps: TeamsFormDeps,
  person: Person,
  verb: string,
  wire: Wire,
): Promise<AdaptiveCard | string> {
  if (verb === SettingsVerb.resource && !wire.fixed) {
    const picked = wire[SettingsInput.resource];
    const state: SettingsFormState = picked
      ? await switchResource(deps.service, person, picked)
      : { jitEnabled: true, window: 'always', version: 0 };
    return render(deps, person, state, false);
  }
  const state = stateOf(wire);
  if (verb !== SettingsVerb.save) return render(deps, person, state, wire.fixed);
  const read = readSettings(state, person, deps.service.now());
  if ('errors' in read) {
    return render(deps, person, state, wire.fixed, 'Nothing was saved yet: fix what is marked below.');
  }
  try {
    const saved = await deps.service.saveSettings(person, read.input);
    const resource = deps.service.findResource(saved.resourceId);
    const ref = { id: saved.resourceId, name: resource?.name ?? saved.resourceId };
    const line = `Saved. ${describeSetting(saved, ref, person.tz)} The approvers of ${ref.name} have been told.`;
    return renderCard({ text: line, title: TITLE, lines: [line] });
  } catch (error) {
    if (!isDomainError(error)) throw error;
    if (error.code === 'WINDOW_IN_PAST') return render(deps, person, state, wire.fixed, error.message);
    return `Nothing was saved. ${error.message}`;
  }
}

async function onPress(context: TurnContext, deps: TeamsFormDeps, verb: string, raw: unknown): Promise<void> {
  const who = await deps.identity.of(context);
  if (!who) return sendInvokeAnswer(context, invokeMessage(UNKNOWN_PERSON));
  const parsed = wireSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues.find((i) => i.code === 'custom');
    deps.log.info({ verb }, 'teams.settings_unreadable');
    return sendInvokeAnswer(
      context,
      invokeMessage(issue ? `Nothing was saved. ${issue.message}` : UNREADABLE),
    );
  }
  const person = await viewerOf(context, deps, who);
  const answer = await press(deps, person, verb, parsed.data);
  if (typeof answer === 'string') return sendInvokeAnswer(context, invokeMessage(answer));
  return showCard(context, deps, answer);
}

/** Handles "access settings" and the `settings.*` buttons; false for anything else. */
export async function handleSettings(
  context: TurnContext,
  deps: TeamsFormDeps,
  command: { command: string; words: string } | null,
): Promise<boolean> {
  const activity = context.activity;
  if (activity.type === ActivityTypes.Message) {
    if (activity.conversation?.conversationType !== 'personal' || command?.command !== ACCESS_SETTINGS)
      return false;
    await onCommand(context, deps, command.words);
    return true;
  }
  if (activity.type !== ActivityTypes.Invoke || activity.name !== 'adaptiveCard/action') return false;
  const execute = executeSchema.safeParse(activity.value);
  if (!execute.success || !execute.data.action.verb.startsWith(SETTINGS_VERB_PREFIX)) return false;
  await onPress(context, deps, execute.data.action.verb, execute.data.action.data);
  return true;
}
