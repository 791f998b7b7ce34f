/**
 * What the bot does with each activity Teams sends it (after the adapter has authenticated it):
 * remember where each person can be reached (./conversations.ts), then hand the activity to the
 * first handler that owns it: the owners' settings form (./settings.ts: "access settings",
 * `settings.*` buttons), the access report link (./report.ts), the home cards (./home.ts: "my
 * access", "dashboard", `home.*` buttons), the request form (./request-form.ts: its command, help,
 * `form.*` buttons, type-ahead searches), then the buttons of the bot's other cards (./actions.ts:
 * `adaptiveCard/action` invokes), whose Request again and Request extension answer with the
 * request form's card.
 */
import { ActivityTypes } from 'botbuilder';
import { handleCardAction, type TeamsCardActionDeps } from './actions.js';
import type { TeamsLogic } from './adapter.js';
import { type RememberDeps, rememberConversation } from './conversations.js';
import { handleHome, type TeamsHomeDeps } from './home.js';
import { handleReport, type ReportLink } from './report.js';
import { handleRequestForm, parseCommand, requestFormCard } from './request-form.js';
import { handleSettings } from './settings.js';

/**
 * Without `service` (the chat contract's delivery-only harness) the bot only remembers people;
 * without `messages` (where each card was sent) it answers no card buttons but the forms'; without
 * `reportLink` it does not answer "access report"; without `home` its home cards are not refreshed.
 */
export type TeamsBotDeps = RememberDeps &
  Partial<TeamsCardActionDeps> & { reportLink?: ReportLink; home?: TeamsHomeDeps['home'] };

export function createTeamsBot(deps: TeamsBotDeps): TeamsLogic {
  return async (context) => {
    const person = await rememberConversation(context, deps);
    if (person) await deps.seen?.(person.email);
    const { service, messages, reportLink } = deps;
    if (!service) return;
    const formDeps = { ...deps, service };
    const formCard = deps.requestFormCard ?? requestFormCard(formDeps);
    const { type, text } = context.activity;
    const command =
      type === ActivityTypes.Message ? parseCommand(typeof text === 'string' ? text : '') : null;
    if (await handleSettings(context, formDeps, command)) return;
    if (reportLink && (await handleReport(context, { ...formDeps, reportLink }, command))) return;
    if (await handleHome(context, { ...formDeps, requestFormCard: formCard }, command)) return;
    if (await handleRequestForm(context, formDeps)) return;
    if (!messages) return;
    if (await handleCardAction(context, { ...formDeps, messages, requestFormCard: formCard })) return;
  };
}
