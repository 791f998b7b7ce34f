/**
 * What the bot does with each activity Teams sends it (after the adapter has authenticated it).
 * For now: remember where each person can be reached (./conversations.ts). Commands and the
 * Universal Actions of the cards come with the next steps of the Teams work.
 */
import type { TeamsLogic } from './adapter.js';
import { type RememberDeps, rememberConversation } from './conversations.js';

export type TeamsBotDeps = RememberDeps;

export function createTeamsBot(deps: TeamsBotDeps): TeamsLogic {
  return async (context) => {
    await rememberConversation(context, deps);
  };
}
