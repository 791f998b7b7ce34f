/**
 * Teams' home surface (src/core/home.ts): the latest "my access" card and the latest "dashboard"
 * card in a person's personal chat, each a home of its own (message records of purpose `home` and
 * `home.dashboard`). Where each card is (`where`: which card, the conversation reference, the
 * activity id) is recorded when the card is sent or pressed (./home.ts); a refresh then edits that
 * very activity (`updateActivity`, through ./platform.ts: throttled, failures classified), keeping
 * the card's page and filters. It never sends a new message: a card that is gone (404, 403) is a
 * permanent failure, and the core gives that home up until the person opens a new card.
 */
import { type ConversationReference, TurnContext } from 'botbuilder';
import { z } from 'zod';
import { type ChatPerson, DeliveryError } from '../../core/chat.js';
import { HOME_PURPOSE, type HomePlace, type HomeSurface, type Homes } from '../../core/home.js';
import type { Log } from '../../domain/events.js';
import { type HomeState, initialHomeState } from '../../domain/home/state.js';
import type { HomeView } from '../../domain/views/home.js';
import type { AdaptiveCard } from './cards.js';
import { TEAMS_PLATFORM, toReference } from './conversations.js';
import { type HomeCardKind, homeMessage, homePart, outOfDateCard, renderHomeCard } from './home-card.js';
import type { TeamsPlatform } from './platform.js';

/** Where a home card is, as its message record keeps it. */
export interface HomeCardWhere {
  kind: HomeCardKind;
  reference: Partial<ConversationReference>;
  activityId: string;
}

const whereSchema = z.object({
  kind: z.enum(['mine', 'dashboard']),
  reference: z.unknown(),
  activityId: z.string().min(1).max(500),
});

/** A stored `where`, checked; null when it is not one. */
export function readWhere(raw: unknown): HomeCardWhere | null {
  const parsed = whereSchema.safeParse(raw);
  const reference = parsed.success ? toReference(parsed.data.reference) : null;
  return parsed.success && reference ? { ...parsed.data, reference } : null;
}

const DASHBOARD_PURPOSE = `${HOME_PURPOSE}.dashboard`;
const kindOf = (place: HomePlace): HomeCardKind =>
  place.purpose === DASHBOARD_PURPOSE ? 'dashboard' : 'mine';

/** The place (record purpose and where) of the card of `kind` at `activityId`. */
export function homePlace(
  kind: HomeCardKind,
  reference?: Partial<ConversationReference>,
  activityId?: string,
): HomePlace {
  const purpose = kind === 'dashboard' ? DASHBOARD_PURPOSE : HOME_PURPOSE;
  return reference && activityId ? { purpose, where: { kind, reference, activityId } } : { purpose };
}

export class TeamsHomeSurface implements HomeSurface {
  readonly name = TEAMS_PLATFORM;

  constructor(private readonly platform: TeamsPlatform) {}

  reach(email: string): Promise<ChatPerson | null> {
    return this.platform.reach(email);
  }

  part(view: HomeView, place: HomePlace): HomeView {
    return homePart(view, kindOf(place));
  }

  async publish(_person: ChatPerson, view: HomeView, at: { state: HomeState; where?: unknown }) {
    const where = readWhere(at.where);
    if (!where) throw new DeliveryError('this Teams home record names no card', true);
    const card = renderHomeCard(view, { state: JSON.stringify(at.state), view: where.kind });
    await this.edit(where, card);
  }

  /** Turns an older card into a pointer to the latest one (no buttons left on it). */
  async retire(where: unknown): Promise<void> {
    const old = readWhere(where);
    if (old) await this.edit(old, outOfDateCard(old.kind));
  }

  /** Teams gives the bot no names by email; the home shows what the records hold. */
  async names(): Promise<Map<string, string>> {
    return new Map();
  }

  private edit(where: HomeCardWhere, card: AdaptiveCard): Promise<void> {
    const address = JSON.stringify({ reference: where.reference, activityId: where.activityId });
    return this.platform.replace(address, homeMessage(card, where.kind));
  }
}

/** A card the bot just showed in the chat: the home (`shown`), or something else in its place. */
export interface ShownCard {
  kind: HomeCardKind;
  activityId: string;
  shown?: { view: HomeView; state: HomeState };
  /** Without `shown`: the state the home was at, for when it comes back. */
  parkedAt?: HomeState;
  /** A card a command just sent (not a press on one): the older card of its kind is retired. */
  isNew?: boolean;
}

/**
 * Records where the card of this turn's conversation stands, for the refreshes: the home it shows
 * (`remember`), or that it shows something else for now (`park`). A new card retires the older one.
 * The card is already shown: a store that fails here costs its refreshes, not the answer, and an
 * older card that cannot be edited keeps its buttons (each press is checked again anyway).
 */
export async function recordCard(
  context: TurnContext,
  deps: { homes: Homes; surface: TeamsHomeSurface; log: Log },
  email: string,
  card: ShownCard,
): Promise<void> {
  const { homes, surface, log } = deps;
  const { activityId: _notKept, ...reference } = TurnContext.getConversationReference(context.activity);
  const place = homePlace(card.kind, reference, card.activityId);
  let older: unknown;
  try {
    if (!card.shown) return await homes.park(surface, email, place, card.parkedAt ?? initialHomeState());
    older = await homes.remember(surface, email, place, card.shown);
  } catch (error) {
    log.warn({ err: error, kind: card.kind }, 'teams.home_record_failed: this card is not refreshed');
    return;
  }
  if (older === undefined || !card.isNew) return;
  try {
    await surface.retire(older);
  } catch (error) {
    log.info({ err: error, kind: card.kind }, 'teams.home_retire_failed: the older card stays as it was');
  }
}
