/**
 * "my access" and "dashboard" in the personal chat: the neutral home (src/domain/home, built by
 * `service.home` as the asking person may see it) as Adaptive Cards (./home-card.ts). Every press
 * (`home.*` verbs) re-renders the card in place: a page, the filters, a decision, a cancellation,
 * ending or revoking access (with an optional reason, on a confirmation card), a grant's timeline.
 * The clicker is the verified `from` (./identity.ts); what a button carries is parsed with zod and
 * the domain re-checks, against the store, that this person may see or do it (refusals audited there).
 *
 * With `home` (the core's Homes and ./home-surface.ts), where each card stands is recorded: the
 * card a command sends, and the card a press answers with, become the person's latest card of that
 * kind, which `home.refresh` then edits in place after every change; the card they replace is
 * edited to say it is out of date. A press that shows something else in the card's place (a deny
 * reason, a timeline, the request form) parks it: it is not refreshed until it shows the home again.
 */
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { z } from 'zod';
import type { Homes } from '../../core/home.js';
import { isDomainError } from '../../domain/errors.js';
import {
  filterDashboard,
  filtersFromChoices,
  type HomeState,
  initialHomeState,
  readHomeState,
  turnPage,
} from '../../domain/home/state.js';
import type { Person } from '../../domain/model.js';
import { DENY_REASON_INPUT, denyForm, REVOKE_REASON_INPUT, revokeForm } from '../../domain/views/forms.js';
import { historyView, parseHistoryValue } from '../../domain/views/history.js';
import { HOME_SECTIONS, type HomeView } from '../../domain/views/home.js';
import type { MessageView } from '../../domain/views/model.js';
import { ActionId, HomeActionId } from '../../domain/views/model.js';
import { timelineView } from '../../domain/views/timeline.js';
import type { RequestFormCard } from './actions.js';
import { type AdaptiveCard, renderCard } from './cards.js';
import { renderFormCard } from './form-view-card.js';
import {
  action,
  executeAction,
  FilterInput,
  HOME_VERB_PREFIX,
  type HomeCardKind,
  HomeVerb,
  homeMessage,
  homePart,
  NO_DASHBOARD,
  type Pressed,
  pressedSchema,
  renderHomeCard,
} from './home-card.js';
import { homePlace, recordCard, type ShownCard, type TeamsHomeSurface } from './home-surface.js';
import type { TeamsPerson } from './identity.js';
import { invokeMessage, sendInvokeAnswer } from './invoke.js';
import { reply, showCard, type TeamsFormDeps, UNKNOWN_PERSON, viewerOf } from './request-form.js';
import { executeSchema } from './request-form-data.js';

export const MY_ACCESS = 'my access';
export const DASHBOARD = 'dashboard';
export { NO_DASHBOARD } from './home-card.js';

const UNREADABLE = 'This card could not be read, so nothing was changed. Type “my access” to start again.';

export interface TeamsHomeDeps extends TeamsFormDeps {
  requestFormCard: RequestFormCard;
  /** Where cards stand, for `home.refresh` (without it, cards change only when pressed). */
  home?: { homes: Homes; surface: TeamsHomeSurface };
}

/** What a home card shows, and the state it was built at. */
type Shown = { view: HomeView; state: HomeState };

/** The part of the person's home a card of `kind` shows at `state`. */
async function build(deps: TeamsHomeDeps, person: Person, state: HomeState, kind: HomeCardKind) {
  if (deps.home) return deps.home.homes.build(deps.home.surface, person, state, homePlace(kind));
  const built = await deps.service.home(person, state);
  return { view: homePart(built.view, kind), state: built.state };
}

const cardOf = (shown: Shown, kind: HomeCardKind, notice?: string) =>
  renderHomeCard(shown.view, { state: JSON.stringify(shown.state), view: kind }, notice);
const noDashboard = (shown: Shown, kind: HomeCardKind) =>
  kind === 'dashboard' && shown.view.sections.length === 0;

/** Records where the card stands (without `home`, cards are not refreshed: nothing to record). */
async function keep(context: TurnContext, deps: TeamsHomeDeps, email: string, card: ShownCard) {
  if (deps.home) await recordCard(context, { ...deps.home, log: deps.log }, email, card);
}

async function onCommand(context: TurnContext, deps: TeamsHomeDeps, kind: HomeCardKind): Promise<void> {
  const who = await deps.identity.of(context);
  if (!who) return reply(context, UNKNOWN_PERSON);
  const person = await viewerOf(context, deps, who);
  const shown = await build(deps, person, initialHomeState(), kind);
  if (noDashboard(shown, kind)) return reply(context, NO_DASHBOARD);
  const sent = await context.sendActivity({
    type: ActivityTypes.Message,
    ...homeMessage(cardOf(shown, kind), kind),
  });
  if (sent?.id) await keep(context, deps, person.email, { kind, activityId: sent.id, shown, isNew: true });
}

/** A card in the home card's place (`shown` when it is the home again), or a message beside it. */
type Press = { card: AdaptiveCard; shown?: Shown } | { message: string };
const sectionSchema = z.enum(HOME_SECTIONS);

/** What a press does, and the card (or message) it answers with. */
async function press(
  deps: TeamsHomeDeps,
  person: Person & TeamsPerson,
  verb: string,
  wire: Pressed,
): Promise<Press> {
  let state = readHomeState(parseJson(wire.state));
  const again = async (notice?: string): Promise<Press> => {
    const shown = await build(deps, person, state, wire.view);
    if (noDashboard(shown, wire.view)) return { message: NO_DASHBOARD };
    return { card: cardOf(shown, wire.view, notice), shown };
  };
  const value = wire.value ?? '';
  if (verb === HomeVerb.back) return again();
  if (verb === HomeVerb.filter) {
    const filters = filtersFromChoices({
      resource: wire[FilterInput.resource],
      status: wire[FilterInput.status],
      user: wire[FilterInput.user],
      expiresBy: wire[FilterInput.expiresBy],
    });
    if (!filters) return { message: 'That filter was not recognised, so nothing was changed.' };
    state = filterDashboard(state, filters);
    return again();
  }
  if (verb === HomeVerb.revoke) {
    const reason = wire[REVOKE_REASON_INPUT]?.trim();
    const grant = await deps.service.endAccess(value, person, reason || undefined);
    return again(`Revoked ${grant.holder.name}'s access. They have been told.`);
  }
  if (verb === HomeVerb.deny) {
    const reason = wire[DENY_REASON_INPUT]?.trim();
    await deps.service.decide(value, person, 'deny', reason || undefined);
    return again('Denied.');
  }
  if (verb !== HomeVerb.act) return { message: UNREADABLE };
  switch (wire.act) {
    case HomeActionId.pageNext:
    case HomeActionId.pagePrevious: {
      const section = sectionSchema.safeParse(value);
      if (!section.success) return { message: UNREADABLE };
      state = turnPage(state, section.data, wire.act === HomeActionId.pageNext ? 'next' : 'previous');
      return again();
    }
    case HomeActionId.clearFilters:
      state = filterDashboard(state, {});
      return again();
    case HomeActionId.requestAccess:
      return cardOrText(await deps.requestFormCard(person, {}));
    case ActionId.extend: {
      const refusal = await deps.service.checkExtension(value, person);
      if (refusal) throw refusal;
      return cardOrText(await deps.requestFormCard(person, { extendGrantId: value }));
    }
    case ActionId.approve:
      await deps.service.decide(value, person, 'approve');
      return again('Approved.');
    case ActionId.deny: {
      // The deny form first (an optional reason, told to the requester), if they may deny it.
      const refusal = await deps.service.checkDecision(value, person, 'deny');
      if (refusal) throw refusal;
      const request = await deps.service.getRequest(value);
      if (!request) return { message: 'This request no longer exists.' };
      const resource = {
        id: request.resourceId,
        name: deps.service.findResource(request.resourceId)?.name ?? request.resourceId,
      };
      const data = { state: wire.state, view: wire.view, value };
      return {
        card: renderFormCard(denyForm(request, resource), {
          submit: HomeVerb.deny,
          close: HomeVerb.back,
          data,
          style: 'destructive',
        }),
      };
    }
    case ActionId.cancel:
      await deps.service.cancel(value, person);
      return again('Request cancelled.');
    case ActionId.endAccess:
      await deps.service.endAccess(value, person);
      return again('Your access has ended.');
    case HomeActionId.revoke: {
      const refusal = await deps.service.checkEndAccess(value, person);
      if (refusal) throw refusal;
      const grant = await deps.service.getGrant(value);
      if (!grant) return { message: 'This grant no longer exists.' };
      const resource = deps.service.findResource(grant.resourceId);
      const form = revokeForm(grant.holder.name, resource?.name ?? grant.resourceId);
      const data = { state: wire.state, view: wire.view, value };
      return {
        card: renderFormCard(form, {
          submit: HomeVerb.revoke,
          close: HomeVerb.back,
          data,
          style: 'destructive',
        }),
      };
    }
    case HomeActionId.details: {
      const timeline = await deps.service.grantTimeline(person, value);
      return { card: readOnlyCard(timelineView(timeline, viewerFor(deps, person)), wire) };
    }
    case HomeActionId.history: {
      const wanted = parseHistoryValue(value);
      const resource = wanted ? deps.service.findResource(wanted.r) : undefined;
      if (!wanted || !resource) return { message: UNREADABLE };
      const page = await deps.service.accessHistory(
        person,
        resource.id,
        wanted.c ? { cursor: wanted.c } : {},
      );
      const view = historyView(page, resource, viewerFor(deps, person), { newer: Boolean(wanted.c) });
      return { card: readOnlyCard(view, wire) };
    }
    default:
      return { message: UNREADABLE };
  }
}

const viewerFor = (deps: TeamsHomeDeps, person: Person & TeamsPerson) => ({
  now: deps.service.now(),
  ...(person.tz ? { tz: person.tz } : {}),
});

/** A view to read (a timeline, a history) with its buttons wired to the home, and Back to where it stood. */
function readOnlyCard(view: MessageView, wire: Pressed): AdaptiveCard {
  const stood = { state: wire.state, view: wire.view };
  const card = renderCard({ ...view, actions: [] });
  card.actions = [
    ...(view.actions ?? []).map((a) => action(a, stood)),
    executeAction('Back', HomeVerb.back, stood),
  ];
  return card;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const cardOrText = (card: AdaptiveCard | null): Press =>
  card ? { card } : { message: 'There is nothing you can request.' };

async function onPress(context: TurnContext, deps: TeamsHomeDeps, verb: string, raw: unknown) {
  const who = await deps.identity.of(context);
  if (!who) return sendInvokeAnswer(context, invokeMessage(UNKNOWN_PERSON));
  const parsed = pressedSchema.safeParse(raw);
  if (!parsed.success) {
    const tooLong = parsed.error.issues.find((i) => i.code === 'too_big');
    deps.log.info({ verb }, 'teams.home_unreadable');
    return sendInvokeAnswer(context, invokeMessage(tooLong?.message ?? UNREADABLE));
  }
  const person = { ...who, ...(await viewerOf(context, deps, who)) };
  let answer: Press;
  try {
    answer = await press(deps, person, verb, parsed.data);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    answer = { message: error.message };
  }
  if ('message' in answer) return sendInvokeAnswer(context, invokeMessage(answer.message));
  const activityId = context.activity.replyToId;
  if (activityId) {
    const kind = parsed.data.view;
    const parkedAt = readHomeState(parseJson(parsed.data.state));
    await keep(context, deps, person.email, {
      kind,
      activityId,
      parkedAt,
      ...(answer.shown ? { shown: answer.shown } : {}),
    });
  }
  return showCard(context, deps, answer.card);
}

/** Handles "my access", "dashboard" and the `home.*` buttons; false for anything else. */
export async function handleHome(
  context: TurnContext,
  deps: TeamsHomeDeps,
  command: { command: string } | null,
): Promise<boolean> {
  const activity = context.activity;
  if (activity.type === ActivityTypes.Message) {
    if (activity.conversation?.conversationType !== 'personal') return false;
    if (command?.command !== MY_ACCESS && command?.command !== DASHBOARD) return false;
    await onCommand(context, deps, command.command === DASHBOARD ? 'dashboard' : 'mine');
    return true;
  }
  if (activity.type !== ActivityTypes.Invoke || activity.name !== 'adaptiveCard/action') return false;
  const execute = executeSchema.safeParse(activity.value);
  if (!execute.success || !execute.data.action.verb.startsWith(HOME_VERB_PREFIX)) return false;
  await onPress(context, deps, execute.data.action.verb, execute.data.action.data);
  return true;
}
