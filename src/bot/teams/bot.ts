/**
 * What the bot does with each activity Teams sends it (after the adapter has authenticated it):
 * remember where each person can be reached (./conversations.ts), then hand the activity to the
 * first handler that owns it: the request form (./request-form.ts: commands, `form.*` buttons,
 * type-ahead searches), then the buttons of the bot's other cards (./actions.ts:
 * `adaptiveCard/action` invokes), whose Request again and Request extension answer with the
 * request form's card.
 */
import { handleCardAction, type TeamsCardActionDeps } from './actions.js';
import type { TeamsLogic } from './adapter.js';
import { type RememberDeps, rememberConversation } from './conversations.js';
import { handleRequestForm, requestFormCard } from './request-form.js';

/**
 * Without `service` (the chat contract's delivery-only harness) the bot only remembers people;
 * without `messages` (where each card was sent) it answers no card buttons but the form's.
 */
export type TeamsBotDeps = RememberDeps & Partial<TeamsCardActionDeps>;

export function createTeamsBot(deps: TeamsBotDeps): TeamsLogic {
  return async (context) => {
    const person = await rememberConversation(context, deps);
    if (person) await deps.seen?.(person.email);
    const { service, messages } = deps;
    if (!service) return;
    if (await handleRequestForm(context, { ...deps, service })) return;
    if (!messages) return;
    const formCard = deps.requestFormCard ?? requestFormCard({ ...deps, service });
    if (await handleCardAction(context, { ...deps, service, messages, requestFormCard: formCard })) return;
  };
}
