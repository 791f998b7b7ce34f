/** What a person does in Teams, as signed activities from the fake Bot Connector into the running app. */
import type {
  FakeBotConnector,
  InboundResult,
  JsonObject,
  Signing,
  StoredActivity,
} from './fake-bot-connector.js';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An `Action.Execute` on a card, with the title of the button that shows it. */
export interface CardButton {
  /** The button a person sees on the card (an `Action.ShowCard` for a confirmed action). */
  title: string;
  verb: string;
  data: JsonObject;
}

/** The adaptive card of a message or of an invoke answer. */
export function cardOf(activityOrCard: JsonObject): JsonObject | null {
  if (activityOrCard.type === 'AdaptiveCard') return activityOrCard;
  const attachments = Array.isArray(activityOrCard.attachments) ? activityOrCard.attachments : [];
  const found = attachments
    .filter(isObject)
    .find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
  return found && isObject(found.content) ? found.content : null;
}

/** Every Universal Action a card offers, confirmed ones (inside an `Action.ShowCard`) included. */
export function cardButtons(activityOrCard: JsonObject): CardButton[] {
  const card = cardOf(activityOrCard);
  const actions = card && Array.isArray(card.actions) ? card.actions.filter(isObject) : [];
  return actions.flatMap((a): CardButton[] => {
    if (a.type === 'Action.Execute') {
      return [{ title: String(a.title), verb: String(a.verb), data: isObject(a.data) ? a.data : {} }];
    }
    if (a.type === 'Action.ShowCard' && isObject(a.card)) {
      return cardButtons(a.card).map((inner) => ({ ...inner, title: String(a.title) }));
    }
    return [];
  });
}

/** The answer Teams shows the clicker: a message, or a card in place of the clicked one. */
export type InvokeAnswer =
  | { kind: 'message'; text: string }
  | { kind: 'card'; card: JsonObject }
  | { kind: 'none'; status: number; body: unknown };

export function answerOf(result: InboundResult): InvokeAnswer {
  const body = result.body;
  if (result.status === 200 && isObject(body) && body.statusCode === 200) {
    if (body.type === 'application/vnd.microsoft.activity.message' && typeof body.value === 'string') {
      return { kind: 'message', text: body.value };
    }
    if (body.type === 'application/vnd.microsoft.card.adaptive' && isObject(body.value)) {
      return { kind: 'card', card: body.value };
    }
  }
  return { kind: 'none', status: result.status, body };
}

/**
 * `userId` presses the button whose verb is `verb` on `on` (a stored bot message, or a card an
 * earlier click answered with), with `inputs` typed into the card's fields. `data` replaces what
 * the button carries (a tampered client).
 */
export async function pressButton(
  fake: FakeBotConnector,
  botUrl: string,
  userId: string,
  on: StoredActivity | { card: JsonObject; replyToId: string; conversationId: string },
  verb: string,
  opts: { inputs?: Record<string, string>; data?: unknown; signing?: Signing } = {},
): Promise<{ result: InboundResult; answer: InvokeAnswer }> {
  const card = 'card' in on ? on.card : on.activity;
  const button = cardButtons(card).find((b) => b.verb === verb);
  if (!button && opts.data === undefined) {
    throw new Error(`no button ${verb} on the card; it has ${JSON.stringify(cardButtons(card))}`);
  }
  const data = opts.data ?? { ...button?.data, ...opts.inputs };
  const replyToId = 'card' in on ? on.replyToId : on.id;
  const activity = fake.cardAction(userId, { verb, data, replyToId });
  const result = await fake.send(botUrl, activity, opts.signing ?? 'valid');
  return { result, answer: answerOf(result) };
}
