/**
 * What the bot does with each activity Teams sends it (after the adapter has authenticated it):
 * remember where each person can be reached (./conversations.ts), then hand the activity to the
 * first handler that owns it: the buttons of the bot's cards (./actions.ts: `adaptiveCard/action`
 * invokes other than the request form's `form.*` verbs).
 */
import { handleCardAction, type TeamsCardActionDeps } from './actions.js';
import type { TeamsLogic } from './adapter.js';
import { type RememberDeps, rememberConversation } from './conversations.js';

/** Without `service` and `messages` (the chat contract's delivery-only harness) the bot only remembers people. */
export type TeamsBotDeps = RememberDeps & Partial<TeamsCardActionDeps>;

export function createTeamsBot(deps: TeamsBotDeps): TeamsLogic {
  return async (context) => {
    const person = await rememberConversation(context, deps);
    if (person) await deps.seen?.(person.email);
    const { service, messages } = deps;
    if (!service || !messages) return;
    if (await handleCardAction(context, { ...deps, service, messages })) return;
  };
}
