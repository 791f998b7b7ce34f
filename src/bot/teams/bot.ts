/**
 * What the bot does with each activity Teams sends it (after the adapter has authenticated it):
 * clicks on its cards (`adaptiveCard/action` invokes, ./actions.ts) are answered; every other
 * activity shows where a person can be reached (./conversations.ts).
 */
import { answerCardAction, CARD_ACTION_INVOKE, type TeamsCardActionDeps } from './actions.js';
import type { TeamsLogic } from './adapter.js';
import { type RememberDeps, rememberConversation } from './conversations.js';
import { invokeMessage, sendInvokeAnswer } from './invoke.js';

/** Without `service` (a bot that only remembers people), a click is answered that it is not handled. */
export type TeamsBotDeps = RememberDeps & Partial<TeamsCardActionDeps>;

export function createTeamsBot(deps: TeamsBotDeps): TeamsLogic {
  return async (context) => {
    const { type, name } = context.activity;
    if (type === 'invoke' && name === CARD_ACTION_INVOKE) {
      const { service } = deps;
      const answer = service
        ? await answerCardAction(context, { ...deps, service })
        : invokeMessage('This bot does not handle card buttons here.');
      await sendInvokeAnswer(context, answer);
      return;
    }
    const person = await rememberConversation(context, deps);
    if (person) await deps.seen?.(person.email);
  };
}
