/**
 * A person in their Teams personal chat with the bot, as the Teams client behaves: they type a
 * message, they fill a card's inputs and press one of its buttons (an `adaptiveCard/action` invoke
 * whose `action.data` is the button's data with every input of the card merged in, as strings,
 * multi-select values joined by commas), and they type into a dynamic menu (an `application/search`
 * invoke). Everything goes to the bot's `/api/messages` through the fake Bot Connector, signed.
 */
import type { FakeBotConnector, FakeTeamsUser, InboundResult, JsonObject } from './fake-bot-connector.js';

export type Card = JsonObject & { body?: JsonObject[]; actions?: JsonObject[] };

/** Every element of a card (body, columns, containers, action sets), depth first. */
export function elementsOf(card: Card): JsonObject[] {
  const out: JsonObject[] = [];
  const walk = (items: unknown) => {
    if (!Array.isArray(items)) return;
    for (const item of items as JsonObject[]) {
      out.push(item);
      walk(item.items);
      walk(item.columns);
      walk(item.actions);
      if (item.card) walk((item.card as Card).body);
    }
  };
  walk(card.body);
  walk(card.actions);
  return out;
}

export const inputsOf = (card: Card) => elementsOf(card).filter((e) => String(e.type).startsWith('Input.'));

export function input(card: Card, id: string): JsonObject | undefined {
  return inputsOf(card).find((e) => e.id === id);
}

/** The text blocks of a card as a person reads them (escapes resolved). */
export function textsOf(card: Card): string[] {
  return elementsOf(card)
    .filter((e) => e.type === 'TextBlock')
    .map((e) => String(e.text).replace(/\\([!-/:-@[-`{-~])/g, '$1'));
}

export const buttonsOf = (card: Card) =>
  elementsOf(card)
    .filter((e) => e.type === 'Action.Execute')
    .map((e) => String(e.title));

/** The choices a menu lists: `title → value`. */
export function choicesOf(card: Card, id: string): Array<{ title: string; value: string }> {
  return (input(card, id)?.choices ?? []) as Array<{ title: string; value: string }>;
}

export interface Pressed {
  status: number;
  body: unknown;
  /** The card the invoke's answer carries, when it carries one. */
  card?: Card;
}

export class TeamsChat {
  constructor(
    readonly fake: FakeBotConnector,
    readonly botUrl: string,
    readonly user: FakeTeamsUser,
  ) {}

  get conversationId(): string {
    return this.fake.personalConversationId(this.user.id);
  }

  async install(): Promise<void> {
    const res = await this.fake.send(this.botUrl, this.fake.installationUpdate(this.user.id));
    if (res.status !== 200) throw new Error(`installing for ${this.user.name}: ${res.status}`);
  }

  say(text: string): Promise<InboundResult> {
    return this.fake.send(this.botUrl, this.fake.message(this.user.id, text));
  }

  /** The bot's messages in the chat, oldest first. */
  messages(): JsonObject[] {
    return this.fake.activitiesIn(this.conversationId).map((a) => a.activity);
  }

  /** The latest message holding an Adaptive Card, as Teams holds it now. */
  lastCard(): { id: string; card: Card } {
    const found = this.fake
      .activitiesIn(this.conversationId)
      .filter((a) => Array.isArray(a.activity.attachments))
      .at(-1);
    const card = (found?.activity.attachments as JsonObject[] | undefined)?.[0]?.content as Card | undefined;
    if (!found || !card) throw new Error(`no card in ${this.user.name}'s chat`);
    return { id: found.id, card };
  }

  /** Types `text` and returns the card the bot answers with. */
  async open(text: string): Promise<{ id: string; card: Card }> {
    const before = this.fake.activitiesIn(this.conversationId).length;
    const res = await this.say(text);
    if (res.status !== 200) throw new Error(`"${text}": ${res.status} ${JSON.stringify(res.body)}`);
    if (this.fake.activitiesIn(this.conversationId).length === before)
      throw new Error(`no answer to "${text}"`);
    return this.lastCard();
  }

  private invoke(name: string, value: unknown, replyToId?: string): JsonObject {
    const {
      text: _text,
      textFormat: _format,
      entities: _entities,
      ...base
    } = this.fake.message(this.user.id, '');
    return { ...base, type: 'invoke', name, value, ...(replyToId ? { replyToId } : {}) };
  }

  /**
   * Fills `inputs` (by input id; every other input keeps the value the card shows) and presses the
   * button titled `title` on message `messageId`.
   */
  async press(
    messageId: string,
    title: string | RegExp,
    inputs: Record<string, string> = {},
    card: Card = this.cardOf(messageId),
  ): Promise<Pressed> {
    const button = elementsOf(card).find(
      (e) =>
        e.type === 'Action.Execute' &&
        (typeof title === 'string' ? e.title === title : title.test(String(e.title))),
    );
    if (!button) throw new Error(`no button "${title}" among ${buttonsOf(card).join(', ')}`);
    const values: Record<string, string> = {};
    for (const field of inputsOf(card)) {
      const id = String(field.id);
      values[id] =
        id in inputs ? (inputs[id] as string) : field.value === undefined ? '' : String(field.value);
    }
    const data = { ...((button.data as JsonObject | undefined) ?? {}), ...values };
    return this.execute(messageId, String(button.verb), data);
  }

  /** Sends a raw `adaptiveCard/action` invoke (a tampered card, a forged verb). */
  async execute(messageId: string, verb: string, data: unknown): Promise<Pressed> {
    const res = await this.fake.send(
      this.botUrl,
      this.invoke(
        'adaptiveCard/action',
        { action: { type: 'Action.Execute', verb, data }, trigger: 'manual' },
        messageId,
      ),
    );
    const body = res.body as { type?: string; value?: unknown } | null;
    return {
      status: res.status,
      body: res.body,
      ...(body?.type === 'application/vnd.microsoft.card.adaptive' ? { card: body.value as Card } : {}),
    };
  }

  /** Types `queryText` into the dynamic menu of `dataset`; returns the results Teams would list. */
  async search(
    dataset: string,
    queryText: string,
    queryOptions: { skip?: number; top?: number } = {},
  ): Promise<Array<{ title: string; value: string }>> {
    const res = await this.fake.send(
      this.botUrl,
      this.invoke('application/search', {
        queryText,
        queryOptions: { skip: queryOptions.skip ?? 0, top: queryOptions.top ?? 15 },
        dataset,
      }),
    );
    if (res.status !== 200) throw new Error(`search: ${res.status}`);
    const body = res.body as { statusCode?: number; type?: string; value?: { results?: unknown } };
    if (body.statusCode !== 200 || body.type !== 'application/vnd.microsoft.search.searchResponse') {
      throw new Error(`not a search response: ${JSON.stringify(body)}`);
    }
    return (body.value?.results ?? []) as Array<{ title: string; value: string }>;
  }

  cardOf(messageId: string): Card {
    const found = this.fake.activity(this.conversationId, messageId);
    const card = (found?.activity.attachments as JsonObject[] | undefined)?.[0]?.content as Card | undefined;
    if (!card) throw new Error(`no card in message ${messageId}`);
    return card;
  }
}
