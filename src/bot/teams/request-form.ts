/**
 * The request form in Teams: the personal chat's commands ("request access [resource]", "help"),
 * the form card's buttons (`Action.Execute` with verbs `form.*`) and the menus' type-ahead
 * (`application/search`). The form itself (what it offers, what a change does, what is wrong with
 * a submission) is the neutral form of src/core/forms; this module moves it in and out of a card
 * (./request-form-data.ts, ./request-form-card.ts) and answers its menus' searches (./request-form-search.ts).
 *
 * The person is always the activity's verified `from`, resolved by ./identity.ts; the card's data
 * only says what they chose. A press re-renders the same card in place: the invoke's answer carries
 * the new card (Universal Actions), and the message is also updated (`updateActivity`) so every
 * client, the Agents Playground included, shows it. Nothing is sent until the submission is valid;
 * a valid one goes to the domain exactly as Slack's does, and the card becomes "Request sent".
 */
import { randomUUID } from 'node:crypto';
import { ActivityTypes, type TurnContext } from 'botbuilder';
import {
  buildForm,
  type FormField,
  type FormState,
  NO_RESOURCES,
  openState,
  type Viewer,
  validateSubmission,
} from '../../core/forms/request-form.js';
import { requestSentView } from '../../core/forms/sent.js';
import { isDomainError } from '../../domain/errors.js';
import type { Log } from '../../domain/events.js';
import type { AccessRequest } from '../../domain/model.js';
import {
  type ConversationRepo,
  STORE_UNAVAILABLE_MESSAGE,
  StoreUnavailableError,
} from '../../domain/ports.js';
import type { AccessService } from '../../domain/service.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, type AdaptiveCard, renderCard } from './cards.js';
import { TEAMS_COMMANDS } from './commands.js';
import { zoneOf } from './conversations.js';
import type { TeamsIdentity, TeamsPerson } from './identity.js';
import { renderFormCard, type StaticPages } from './request-form-card.js';
import {
  actionDataSchema,
  executeSchema,
  FORM_VERB_PREFIX,
  FormVerb,
  type FormWire,
  readCard,
} from './request-form-data.js';
import { firstPage, namesFromChats, searchAnswer } from './request-form-search.js';

const REQUEST_ACCESS = 'request access';

export const HELP_TEXT = [
  'I hand out just-in-time access to the resources of the access policy.',
  '• request access: opens the request form (resource, approvers, duration, justification).',
  '• request access <resource words>: the same, with that resource chosen, or a search for it.',
  '• my access: your access, your requests and history, and requests waiting for your decision.',
  '• dashboard: every grant you may see (admins, approvers, owners), with filters, Revoke and Details.',
  "• access settings [resource]: the owners' switch and window for a resource.",
  '• access report [resource | group | user email] [since <date>]: a CSV to download.',
  '• help: this message.',
  'Approval cards, reminders before your access ends and the outcome of your requests arrive here too.',
].join('\n');

export const UNKNOWN_PERSON =
  'Teams did not tell me your email address, so I cannot tell who you are. Ask an administrator to check your account.';

export interface TeamsFormDeps {
  service: AccessService;
  identity: TeamsIdentity;
  conversations: ConversationRepo;
  log: Log;
}

/**
 * The command a message gives (one of TEAMS_COMMANDS, the manifest's command list), and the words
 * after it; null when it gives none. Case and spacing do not matter; a mention of the bot is ignored.
 */
export function parseCommand(text: string): { command: string; words: string } | null {
  const said = text
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\//, '');
  const lower = said.toLowerCase();
  for (const { title } of TEAMS_COMMANDS) {
    if (lower === title || lower.startsWith(`${title} `)) {
      return { command: title, words: said.slice(title.length).trim() };
    }
  }
  return null;
}

/** The person as the form sees them, in the zone their Teams client reports (else the one last stored). */
export async function viewerOf(
  context: TurnContext,
  deps: TeamsFormDeps,
  person: TeamsPerson,
): Promise<Viewer> {
  let tz = zoneOf(context.activity);
  if (!tz) tz = (await deps.conversations.get(person.email).catch(() => null))?.tz;
  return { email: person.email, name: person.name, ...(tz ? { tz } : {}) };
}

/** What a form card needs: the service, and the stored chats to name approvers (else listed by email). */
type FormCardDeps = Pick<TeamsFormDeps, 'service'> & Partial<Pick<TeamsFormDeps, 'conversations'>>;

const byEmailOnly = async () => new Map<string, string>();

/** The form's card for `state`, with the first page of any type-ahead menu for clients without search. */
async function formCard(
  deps: FormCardDeps,
  viewer: Viewer,
  state: FormState,
  wire: Pick<FormWire, 'formId'>,
  extra: { notice?: string; errors?: Partial<Record<FormField, string>> } = {},
): Promise<AdaptiveCard> {
  const namesOf = deps.conversations ? namesFromChats(deps.conversations) : byEmailOnly;
  const model = await buildForm(deps.service, viewer, state, namesOf, extra);
  const pages: StaticPages = {};
  if (model.resource.mode === 'search')
    pages.resources = await firstPage(deps.service, viewer, 'resources', state, namesOf);
  if (model.approvers?.mode === 'search')
    pages.approvers = await firstPage(deps.service, viewer, 'approvers', state, namesOf);
  const r = model.resource;
  const resourceId =
    r.mode === 'fixed'
      ? r.resourceId
      : r.mode === 'choose'
        ? r.selected
        : r.mode === 'search'
          ? r.selected?.value
          : undefined;
  const quick = model.duration?.quick.find((q) => q.selected)?.value;
  const next: FormWire = {
    kind: state.kind,
    formId: wire.formId,
    ...(state.grantId ? { grantId: state.grantId } : {}),
    ...(resourceId ? { resourceId } : {}),
    ...(quick ? { quick } : {}),
    ...(state.query && !resourceId ? { query: state.query } : {}),
  };
  return renderFormCard(model, next, pages);
}

const cardAttachment = (card: AdaptiveCard) => ({ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card });

/**
 * The card of a new form for `person`: `query` preselects or searches, `again` prefills from an
 * earlier request, `extendGrantId` makes it an extension. Null when there is nothing they may request.
 */
export async function openFormCard(
  deps: FormCardDeps,
  viewer: Viewer,
  opts: { query?: string; again?: AccessRequest; extendGrantId?: string } = {},
  /** A line on top of the form, unless the form has one of its own to show. */
  intro?: string,
): Promise<AdaptiveCard | null> {
  const opened = await openState(deps.service, viewer, opts);
  if (opened.nothingToRequest) return null;
  const notice = opened.notice ?? intro;
  return formCard(deps, viewer, opened.state, { formId: randomUUID() }, notice ? { notice } : {});
}

/**
 * The message a request link sends in Teams (src/core/request-links.ts): the form card itself, as
 * "request access <resource>" gives it, with the resource chosen and the message's text on top.
 * Null when there is nothing the person may request.
 */
export function linkedFormCard(deps: FormCardDeps) {
  return (person: Viewer, resourceId: string, intro: string): Promise<AdaptiveCard | null> =>
    openFormCard(deps, person, { query: resourceId }, intro);
}

/**
 * The form as the card actions open it ("Request again" after an expiry, "Request extension" from a
 * reminder: src/bot/teams/actions.ts on the teams-actions branch, its `requestFormCard` hook). The
 * person is the verified clicker; with nothing to request, a card that says so.
 */
export function requestFormCard(deps: TeamsFormDeps) {
  return async (
    person: TeamsPerson & { tz?: string },
    opts: { query?: string; again?: AccessRequest; extendGrantId?: string },
  ): Promise<AdaptiveCard> => {
    const viewer: Viewer = {
      email: person.email,
      name: person.name,
      ...(person.tz ? { tz: person.tz } : {}),
    };
    const card = await openFormCard(deps, viewer, opts);
    return card ?? renderCard({ text: NO_RESOURCES, title: 'Request access', lines: [NO_RESOURCES] });
  };
}

export async function reply(context: TurnContext, text: string): Promise<void> {
  await context.sendActivity({ type: ActivityTypes.Message, text, textFormat: 'plain' });
}

async function onMessage(context: TurnContext, deps: TeamsFormDeps): Promise<boolean> {
  const activity = context.activity;
  if (activity.conversation?.conversationType !== 'personal') return false;
  const command = parseCommand(typeof activity.text === 'string' ? activity.text : '');
  if (command?.command !== REQUEST_ACCESS) {
    await reply(context, command ? HELP_TEXT : `I did not understand that.\n${HELP_TEXT}`);
    return true;
  }
  const person = await deps.identity.of(context);
  if (!person) {
    await reply(context, UNKNOWN_PERSON);
    return true;
  }
  const viewer = await viewerOf(context, deps, person);
  const card = await openFormCard(deps, viewer, command.words ? { query: command.words } : {});
  if (!card) {
    await reply(context, NO_RESOURCES);
    return true;
  }
  await context.sendActivity({
    type: ActivityTypes.Message,
    summary: 'Request access',
    attachments: [cardAttachment(card)],
  });
  return true;
}

async function invokeResponse(context: TurnContext, body: unknown): Promise<void> {
  await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: { status: 200, body } });
}

/** Answers an `Action.Execute` with `card`, and updates the message holding it (see the module comment). */
export async function showCard(context: TurnContext, deps: TeamsFormDeps, card: AdaptiveCard): Promise<void> {
  await invokeResponse(context, { statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value: card });
  const messageId = context.activity.replyToId;
  if (!messageId) return;
  try {
    await context.updateActivity({
      type: ActivityTypes.Message,
      id: messageId,
      attachments: [cardAttachment(card)],
    });
  } catch (error) {
    // The clicker already sees the new card through the invoke's answer.
    deps.log.warn({ err: error, activityId: messageId }, 'teams.form_update_failed');
  }
}

async function showText(context: TurnContext, text: string): Promise<void> {
  await invokeResponse(context, {
    statusCode: 200,
    type: 'application/vnd.microsoft.activity.message',
    value: text,
  });
}

async function onFormAction(
  context: TurnContext,
  deps: TeamsFormDeps,
  verb: string,
  raw: unknown,
): Promise<void> {
  const person = await deps.identity.of(context);
  if (!person) return showText(context, UNKNOWN_PERSON);
  const parsed = actionDataSchema.safeParse(raw);
  if (!parsed.success) {
    deps.log.info(
      { verb, issues: parsed.error.issues.slice(0, 3).map((i) => i.path.join('.')) },
      'teams.form_unreadable',
    );
    return showText(
      context,
      'This form could not be read, so nothing was sent. Type “request access” to start again.',
    );
  }
  const viewer = await viewerOf(context, deps, person);
  const { formId } = parsed.data.form;
  const state = readCard(deps.service, viewer, verb, parsed.data);
  if (verb !== FormVerb.submit)
    return showCard(context, deps, await formCard(deps, viewer, state, { formId }));

  const checked = await validateSubmission(
    deps.service,
    viewer,
    state,
    `teams:${person.aadObjectId ?? person.userId}:${formId}`,
  );
  if ('errors' in checked) {
    const notice = 'Nothing was sent yet: fix what is marked below, then send again.';
    return showCard(
      context,
      deps,
      await formCard(deps, viewer, state, { formId }, { notice, errors: checked.errors }),
    );
  }
  let request: AccessRequest;
  try {
    request = await deps.service.submit(checked.input);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    return showCard(
      context,
      deps,
      await formCard(deps, viewer, state, { formId }, { notice: error.message }),
    );
  }
  const resource = deps.service.findResource(request.resourceId);
  const view = requestSentView(
    request,
    { id: request.resourceId, name: resource?.name ?? request.resourceId },
    (e) => e,
  );
  return showCard(context, deps, renderCard(view));
}

async function onSearch(context: TurnContext, deps: TeamsFormDeps): Promise<void> {
  const person = await deps.identity.of(context);
  const viewer = person ? await viewerOf(context, deps, person) : null;
  await invokeResponse(
    context,
    await searchAnswer(deps.service, viewer, context.activity.value, namesFromChats(deps.conversations)),
  );
}

/**
 * Handles what belongs to the request form: messages in the personal chat (commands), form buttons
 * (`adaptiveCard/action` with a `form.` verb) and type-ahead searches. False for anything else.
 */
export async function handleRequestForm(context: TurnContext, deps: TeamsFormDeps): Promise<boolean> {
  const activity = context.activity;
  if (activity.type === ActivityTypes.Message) return onMessage(context, deps);
  if (activity.type !== ActivityTypes.Invoke) return false;
  if (activity.name === 'application/search') {
    await onSearch(context, deps);
    return true;
  }
  if (activity.name !== 'adaptiveCard/action') return false;
  const execute = executeSchema.safeParse(activity.value);
  if (!execute.success || !execute.data.action.verb.startsWith(FORM_VERB_PREFIX)) return false;
  const verb = execute.data.action.verb;
  try {
    await onFormAction(context, deps, verb, execute.data.action.data);
  } catch (error) {
    // Said on the card's message line; the card stays as it was, so pressing again retries.
    if (error instanceof StoreUnavailableError) {
      deps.log.warn({ err: error, verb }, 'teams.store_unavailable');
      await showText(context, `Nothing was sent. ${STORE_UNAVAILABLE_MESSAGE}`);
      return true;
    }
    const ref = randomUUID().slice(0, 8);
    deps.log.error({ err: error, ref, verb }, 'teams.form_action_failed');
    await showText(
      context,
      `Something went wrong (reference ${ref}). Try again; if it keeps happening, tell an administrator.`,
    );
  }
  return true;
}
