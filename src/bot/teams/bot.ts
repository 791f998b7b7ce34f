/**
 * What the bot does with each activity Teams sends it (after the adapter has authenticated it):
 * remember where each person can be reached (./conversations.ts), then hand the activity to the
 * first handler that owns it: the request form (./request-form.ts: commands, `form.*` buttons,
 * type-ahead searches).
 */
import type { AccessService } from '../../domain/service.js';
import type { TeamsLogic } from './adapter.js';
import { type RememberDeps, rememberConversation } from './conversations.js';
import { handleRequestForm } from './request-form.js';

export type TeamsBotDeps = RememberDeps & {
  /** The domain; without it (the chat contract's delivery-only harness) the bot only remembers people. */
  service?: AccessService;
};

export function createTeamsBot(deps: TeamsBotDeps): TeamsLogic {
  return async (context) => {
    await rememberConversation(context, deps);
    const { service } = deps;
    if (!service) return;
    if (await handleRequestForm(context, { ...deps, service })) return;
  };
}
