/**
 * The buttons of the bot's cards in Teams: Universal Actions (`Action.Execute`) arrive as `invoke`
 * activities named `adaptiveCard/action`, and the answer is the invoke response, which Teams shows
 * to the clicker alone: a card that replaces the clicked one, or a message.
 *
 * - Who clicked is the verified activity's `from`, resolved to an email through Teams (./identity.ts);
 *   never anything in the card's data. The data (`action.data`) is untrusted: parsed with zod (an id
 *   as this app makes them, a deny reason of bounded length), an unknown verb or anything else is
 *   refused and nothing changes. On an approval card or a requester's status card, the id must be
 *   the one the clicked message (the invoke's `replyToId`) was sent about, as the outbox recorded
 *   it; and whatever the id, the domain decides, against the store, whether this person may act on
 *   that request or grant.
 * - Whether a click may go ahead is the domain's to say (`decide`, `cancel`, `endAccess`, and the dry
 *   runs `checkDecision`, `checkExtension`); its refusal text is the answer, and it is audited there.
 * - The first decision wins (a conditional write in the domain); the clicked card is replaced by the
 *   invoke response, and every other copy (other approvers, on Teams or Slack) is edited in place by
 *   the outbox, as for any decision.
 * - Deny asks for an optional reason first, by re-rendering the card as the neutral deny form (no
 *   dialogs in the Agents Playground); its Back shows the card again.
 * - Request again and Request extension answer with the request form card when one is wired in
 *   (`TeamsCardActionDeps.requestFormCard`, the Teams request form); until then they say how to ask.
 */
import { randomUUID } from 'node:crypto';
import type { TurnContext } from 'botbuilder';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { Purpose } from '../../core/deliveries.js';
import { NO_RESOURCES } from '../../core/forms/request-form.js';
import { DomainError, isDomainError } from '../../domain/errors.js';
import type { Log } from '../../domain/events.js';
import { idValue } from '../../domain/ids.js';
import type { AccessRequest, Person } from '../../domain/model.js';
import { resourceIdValue } from '../../domain/policy-schema.js';
import {
  type ConversationRepo,
  type MessageRecordRepo,
  STORE_UNAVAILABLE_MESSAGE,
  StoreUnavailableError,
} from '../../domain/ports.js';
import type { AccessService } from '../../domain/service.js';
import { DENY_REASON_INPUT, denyForm, MAX_DENY_REASON } from '../../domain/views/forms.js';
import { approvalCard, grantStatus, requesterStatus, type Viewer } from '../../domain/views/messages.js';
import { ActionId, type MessageView } from '../../domain/views/model.js';
import { type AdaptiveCard, renderCard } from './cards.js';
import { TEAMS_PLATFORM } from './conversations.js';
import { renderFormCard } from './form-view-card.js';
import type { TeamsIdentity, TeamsPerson } from './identity.js';
import { type InvokeAnswer, invokeCard, invokeMessage, sendInvokeAnswer } from './invoke.js';
import { activityIdOf } from './platform.js';

/** The invoke name of a Universal Action. */
export const CARD_ACTION_INVOKE = 'adaptiveCard/action';

/** Verbs of the deny form's buttons (Teams only: Slack asks for the reason in a modal). */
export const DenyFormVerb = {
  submit: 'jit.request.deny.submit',
  back: 'jit.request.deny.back',
} as const;

export const NOT_RECOGNISED = 'That button was not recognised, so nothing was changed.';
export const UNKNOWN_PERSON =
  'The bot cannot tell who you are: Teams gave it no email address for your account. Ask an administrator.';
/** What Request again and Request extension answer while no request form card is wired in. */
export const FORM_NOT_AVAILABLE =
  'The request form cannot be opened in Teams yet: use /request-access in Slack, or ask an administrator.';

/**
 * Opens the request form as a card: again after an expiry, or to extend a grant (the Teams form's
 * `openFormCard`); null when there is nothing the person may request.
 */
export type RequestFormCard = (
  person: TeamsPerson & { tz?: string },
  opts: { query?: string; again?: AccessRequest; extendGrantId?: string },
) => Promise<AdaptiveCard | null>;

/** Verbs of the request form's own buttons, answered by the Teams request form, not here. */
export const FORM_VERB_PREFIX = 'form.';

export interface TeamsCardActionDeps {
  service: AccessService;
  identity: TeamsIdentity;
  conversations: ConversationRepo;
  /** Where each card was sent (the outbox's records), to check a click's id against its card. */
  messages: MessageRecordRepo;
  log: Log;
  /** A display name for an email (the approvers listed on a requester's card). */
  nameOf?: (email: string) => Promise<string>;
  /** The person was seen in Teams just now (for reaching them where they last were). */
  seen?: (email: string) => Promise<void>;
  /** The Teams request form, when built; see FORM_NOT_AVAILABLE. */
  requestFormCard?: RequestFormCard;
}

const invokeSchema = z.object({
  action: z.object({
    type: z.literal('Action.Execute'),
    verb: z.string().max(100),
    data: z.unknown().optional(),
  }),
});

/** What every button carries (the id it acts on); a deny form adds the typed reason. */
const dataSchema = z.object({
  value: idValue,
  [DENY_REASON_INPUT]: z
    .string()
    .max(MAX_DENY_REASON, `The reason is too long: at most ${MAX_DENY_REASON} characters.`)
    .optional(),
});
type ActionData = z.infer<typeof dataSchema>;
/** The request link's "Request access" carries a resource id, not one of our ids. */
const resourceDataSchema = z.object({ value: resourceIdValue });
const dataSchemaFor = (verb: string) => (verb === ActionId.requestResource ? resourceDataSchema : dataSchema);

interface Clicker {
  person: Person & TeamsPerson;
  viewer: Viewer;
}

type Handler = (deps: TeamsCardActionDeps, clicker: Clicker, data: ActionData) => Promise<InvokeAnswer>;

function resourceOf(deps: TeamsCardActionDeps, resourceId: string) {
  return { id: resourceId, name: deps.service.findResource(resourceId)?.name ?? resourceId };
}

async function requestOrRefuse(deps: TeamsCardActionDeps, id: string): Promise<AccessRequest> {
  const request = await deps.service.getRequest(id);
  if (!request) throw new DomainError('NOT_FOUND', 'This request no longer exists.');
  return request;
}

const card = (view: MessageView) => invokeCard(renderCard(view));

const approvalCardOf = (deps: TeamsCardActionDeps, r: AccessRequest, viewer: Viewer) =>
  card(approvalCard(r, resourceOf(deps, r.resourceId), viewer));

async function names(deps: TeamsCardActionDeps, emails: string[]): Promise<(email: string) => string> {
  const known = new Map<string, string>();
  for (const email of emails) {
    const name = await deps.nameOf?.(email).catch(() => email);
    if (name) known.set(email, name);
  }
  return (email) => known.get(email) ?? email;
}

async function requestForm(
  deps: TeamsCardActionDeps,
  clicker: Clicker,
  opts: { query?: string; again?: AccessRequest; extendGrantId?: string },
): Promise<InvokeAnswer> {
  if (!deps.requestFormCard) return invokeMessage(FORM_NOT_AVAILABLE);
  const form = await deps.requestFormCard(clicker.person, opts);
  return form ? invokeCard(form) : invokeMessage(NO_RESOURCES);
}

const HANDLERS: Record<string, Handler> = {
  [ActionId.approve]: async (deps, { person, viewer }, { value }) =>
    approvalCardOf(deps, await deps.service.decide(value, person, 'approve'), viewer),

  [ActionId.deny]: async (deps, { person }, { value }) => {
    const refusal = await deps.service.checkDecision(value, person, 'deny');
    if (refusal) throw refusal;
    const request = await requestOrRefuse(deps, value);
    return invokeCard(
      renderFormCard(denyForm(request, resourceOf(deps, request.resourceId)), {
        submit: DenyFormVerb.submit,
        close: DenyFormVerb.back,
        data: { value },
        style: 'destructive',
      }),
    );
  },

  [DenyFormVerb.submit]: async (deps, { person, viewer }, data) => {
    const reason = data[DENY_REASON_INPUT]?.trim();
    const decided = await deps.service.decide(data.value, person, 'deny', reason || undefined);
    return approvalCardOf(deps, decided, viewer);
  },

  [DenyFormVerb.back]: async (deps, { person, viewer }, { value }) => {
    const request = await requestOrRefuse(deps, value);
    // Only someone the card was for sees it again.
    if (!request.approvers.includes(person.email)) throw new DomainError('NOT_AN_APPROVER', NOT_RECOGNISED);
    return approvalCardOf(deps, request, viewer);
  },

  [ActionId.cancel]: async (deps, { person, viewer }, { value }) => {
    const cancelled = await deps.service.cancel(value, person);
    const nameOf = await names(deps, cancelled.approvers);
    return card(requesterStatus(cancelled, resourceOf(deps, cancelled.resourceId), viewer, nameOf));
  },

  [ActionId.endAccess]: async (deps, { person, viewer }, { value }) => {
    const grant = await deps.service.endAccess(value, person);
    const nameOf = await names(deps, grant.endedBy ? [grant.endedBy] : []);
    return card(grantStatus(grant, resourceOf(deps, grant.resourceId), viewer, nameOf));
  },

  [ActionId.extend]: async (deps, clicker, { value }) => {
    const refusal = await deps.service.checkExtension(value, clicker.person);
    if (refusal) throw refusal;
    return requestForm(deps, clicker, { extendGrantId: value });
  },

  // The message a request link sent, where the form itself could not be shown.
  [ActionId.requestResource]: async (deps, clicker, { value }) =>
    requestForm(deps, clicker, { query: value }),

  [ActionId.requestAgain]: async (deps, clicker, { value }) => {
    // Nothing of someone else's request is reused (the neutral form checks whose it is).
    const request = await deps.service.getRequest(value);
    return requestForm(deps, clicker, request ? { again: request } : {});
  },
};

/** The recorded message a verb's button is on (buttons on unrecorded notices are not checked). */
const CARD_PURPOSE: Record<string, string> = {
  [ActionId.approve]: Purpose.approvalCard,
  [ActionId.deny]: Purpose.approvalCard,
  [DenyFormVerb.submit]: Purpose.approvalCard,
  [DenyFormVerb.back]: Purpose.approvalCard,
  [ActionId.cancel]: Purpose.requesterStatus,
};

/** False when the click came from a recorded card that is not about `id` (tampered data). */
async function onClickedCard(deps: TeamsCardActionDeps, context: TurnContext, verb: string, id: string) {
  const purpose = CARD_PURPOSE[verb];
  const clicked = context.activity.replyToId;
  if (!purpose || !clicked) return true;
  const records = await deps.messages.find({ subjectId: id, purpose });
  return records.some((r) => r.platform === TEAMS_PLATFORM && activityIdOf(r.address) === clicked);
}

/** The verbs this module answers (the neutral action ids and the deny form's). */
export const CARD_VERBS: readonly string[] = Object.keys(HANDLERS);

/** The clicker's zone: what their Teams client says now, else what the bot stored for them. */
async function zoneOf(deps: TeamsCardActionDeps, context: TurnContext, email: string) {
  const tz = context.activity.localTimezone;
  if (typeof tz === 'string' && IANAZone.isValidZone(tz)) return tz;
  const record = await deps.conversations.get(email).catch(() => null);
  return record?.tz;
}

/**
 * Answers an `adaptiveCard/action` invoke with one of this module's verbs (or an unknown one);
 * false, and nothing sent, for any other activity and for the request form's `form.*` verbs.
 */
export async function handleCardAction(context: TurnContext, deps: TeamsCardActionDeps): Promise<boolean> {
  const { type, name, value } = context.activity;
  if (type !== 'invoke' || name !== CARD_ACTION_INVOKE) return false;
  const verb = invokeSchema.safeParse(value).data?.action.verb;
  if (verb?.startsWith(FORM_VERB_PREFIX)) return false;
  await sendInvokeAnswer(context, await answerCardAction(context, deps));
  return true;
}

/** The answer to one `adaptiveCard/action` invoke (never throws: every failure is an answer). */
export async function answerCardAction(
  context: TurnContext,
  deps: TeamsCardActionDeps,
): Promise<InvokeAnswer> {
  const log = deps.log.child({ component: 'teams', activity: CARD_ACTION_INVOKE });
  const invoke = invokeSchema.safeParse(context.activity.value);
  const handler = invoke.success ? HANDLERS[invoke.data.action.verb] : undefined;
  if (!invoke.success || !handler) {
    log.warn({ verb: invoke.data?.action.verb?.slice(0, 100) }, 'teams.bad_card_action');
    return invokeMessage(NOT_RECOGNISED);
  }
  const data = dataSchemaFor(invoke.data.action.verb).safeParse(invoke.data.action.data);
  if (!data.success) {
    const tooLong = data.error.issues.find((i) => i.path[0] === DENY_REASON_INPUT && i.code === 'too_big');
    log.warn({ verb: invoke.data.action.verb }, 'teams.bad_card_data');
    return invokeMessage(tooLong ? tooLong.message : NOT_RECOGNISED);
  }
  try {
    if (!(await onClickedCard(deps, context, invoke.data.action.verb, data.data.value))) {
      log.warn({ verb: invoke.data.action.verb }, 'teams.card_data_mismatch');
      return invokeMessage(NOT_RECOGNISED);
    }
    const who = await deps.identity.of(context);
    if (!who) return invokeMessage(UNKNOWN_PERSON);
    await deps.seen?.(who.email).catch((error: unknown) => log.warn({ err: error }, 'teams.seen_failed'));
    const tz = await zoneOf(deps, context, who.email);
    const clicker: Clicker = {
      person: { ...who, ...(tz ? { tz } : {}) },
      viewer: { now: deps.service.now(), ...(tz ? { tz } : {}) },
    };
    return await handler(deps, clicker, data.data);
  } catch (error) {
    if (isDomainError(error)) return invokeMessage(error.message);
    if (error instanceof StoreUnavailableError) {
      log.warn({ err: error, verb: invoke.data.action.verb }, 'teams.store_unavailable');
      return invokeMessage(STORE_UNAVAILABLE_MESSAGE);
    }
    const ref = randomUUID().slice(0, 8);
    log.error({ err: error, ref, verb: invoke.data.action.verb }, 'teams.card_action_failed');
    return invokeMessage(
      `Something went wrong (reference ${ref}). Try again; if it keeps happening, tell an administrator.`,
    );
  }
}
