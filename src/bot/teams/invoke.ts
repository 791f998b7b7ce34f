/**
 * Answers to Universal Actions (`adaptiveCard/action` invokes): Teams shows the invoke response to
 * the person who clicked, and to nobody else. Either a card, which replaces the clicked one, or a
 * message, shown beside the card while the card stays as it was.
 */
import type { TurnContext } from 'botbuilder';
import { ADAPTIVE_CARD_CONTENT_TYPE, type AdaptiveCard } from './cards.js';

export const INVOKE_MESSAGE_TYPE = 'application/vnd.microsoft.activity.message';

export type InvokeAnswer =
  | { statusCode: 200; type: typeof ADAPTIVE_CARD_CONTENT_TYPE; value: AdaptiveCard }
  | { statusCode: 200; type: typeof INVOKE_MESSAGE_TYPE; value: string };

export function invokeCard(card: AdaptiveCard): InvokeAnswer {
  return { statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value: card };
}

/** A message to the clicker; plain text in Teams (no Markdown, no mentions). */
export function invokeMessage(text: string): InvokeAnswer {
  return { statusCode: 200, type: INVOKE_MESSAGE_TYPE, value: text };
}

/** Makes `answer` the HTTP response to the invoke being handled (botbuilder's invokeResponse). */
export async function sendInvokeAnswer(context: TurnContext, answer: InvokeAnswer): Promise<void> {
  await context.sendActivity({ type: 'invokeResponse', value: { status: 200, body: answer } });
}
