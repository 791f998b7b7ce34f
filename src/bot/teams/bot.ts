/**
 * What the bot does with each activity Teams sends it (after the adapter has authenticated it):
 * remember where each person can be reached (./conversations.ts), then hand the activity to the
 * first handler that owns it: the request form (./request-form.ts: commands, `form.*` buttons,
 * type-ahead searches), then the other clicks on its cards (`adaptiveCard/action` invokes,
 * ./actions.ts), whose Request again and Request extension answer with the request form card.
 */
import { NO_RESOURCES } from '../../core/forms/request-form.js';
import type { AccessService } from '../../domain/service.js';
import {
  answerCardAction,
  CARD_ACTION_INVOKE,
  type RequestFormCard,
  type TeamsCardActionDeps,
} from './actions.js';
import type { TeamsLogic } from './adapter.js';
import { renderCard } from './cards.js';
import { type RememberDeps, rememberConversation } from './conversations.js';
import { invokeMessage, sendInvokeAnswer } from './invoke.js';
import { handleRequestForm, openFormCard } from './request-form.js';

/** Without `service` (a bot that only remembers people), a click is answered that it is not handled. */
export type TeamsBotDeps = RememberDeps & Partial<TeamsCardActionDeps>;

/** The request form card for Request again / Request extension (nothing to request: says so). */
function formCardOpener(deps: TeamsBotDeps & { service: AccessService }): RequestFormCard {
  return async (person, opts) =>
    (await openFormCard(deps, { email: person.email, name: person.name, tz: person.tz }, opts)) ??
    renderCard({ text: NO_RESOURCES, title: 'Request access', lines: [NO_RESOURCES] });
}

export function createTeamsBot(deps: TeamsBotDeps): TeamsLogic {
  return async (context) => {
    const person = await rememberConversation(context, deps);
    if (person) await deps.seen?.(person.email);
    const { service } = deps;
    if (service && (await handleRequestForm(context, { ...deps, service }))) return;
    const { type, name } = context.activity;
    if (type === 'invoke' && name === CARD_ACTION_INVOKE) {
      const answer = service
        ? await answerCardAction(context, {
            ...deps,
            service,
            requestFormCard: deps.requestFormCard ?? formCardOpener({ ...deps, service }),
          })
        : invokeMessage('This bot does not handle card buttons here.');
      await sendInvokeAnswer(context, answer);
    }
  };
}
