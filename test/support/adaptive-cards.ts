/**
 * Strict parsing of Adaptive Cards with Microsoft's `adaptivecards` library (the renderer the
 * Agents Playground and web clients use). Parsing and validation need no DOM: only rendering does.
 *
 * The library's package `main` is untranspiled ESM that Node cannot load (extensionless imports),
 * so the UMD bundle in its `dist/` is loaded instead; the types come from the package as usual.
 *
 * A card passes when (1) parsing it for the card's own version reports no event (an unknown
 * element or action type, a bad enum value, a property of a newer version…), (2) the library's
 * validation reports nothing (duplicate ids, missing required properties…), and (3) serializing
 * the parsed card gives back exactly the input: the library drops every property it does not know,
 * so anything lost on the way round is a property Teams would not know either.
 */
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import type * as AdaptiveCards from 'adaptivecards';

const AC = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js') as typeof AdaptiveCards;

function versionOf(card: { version?: unknown }): AdaptiveCards.Version {
  const version = AC.Version.parse(String(card.version ?? ''), new AC.SerializationContext());
  if (!version?.isValid)
    throw new Error(`card version ${String(card.version)} is not one adaptivecards knows`);
  return version;
}

/** Paths (`body[2].facts[0].title`) where `actual` lacks or changes what `expected` holds. */
function differences(expected: unknown, actual: unknown, path: string, out: string[]): void {
  if (isDeepStrictEqual(expected, actual)) return;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length)
      out.push(`${path}: ${expected.length} items became ${actual.length}`);
    for (const [i, item] of expected.entries()) differences(item, actual[i], `${path}[${i}]`, out);
    return;
  }
  if (expected && actual && typeof expected === 'object' && typeof actual === 'object') {
    const a = actual as Record<string, unknown>;
    for (const [key, value] of Object.entries(expected)) {
      if (!(key in a)) out.push(`${path}.${key}: not a known property (dropped by the parser)`);
      else differences(value, a[key], `${path}.${key}`, out);
    }
    for (const key of Object.keys(a)) {
      if (!(key in (expected as object))) out.push(`${path}.${key}: added by the parser`);
    }
    return;
  }
  out.push(`${path}: ${JSON.stringify(expected)} became ${JSON.stringify(actual)}`);
}

/** Everything `adaptivecards` finds wrong with `json` (an Adaptive Card); empty when it is clean. */
export function adaptiveCardProblems(json: { type?: unknown; version?: unknown }): string[] {
  const problems: string[] = [];
  if (json.type !== 'AdaptiveCard') problems.push(`type is ${String(json.type)}, not AdaptiveCard`);
  const version = versionOf(json);
  const card = new AC.AdaptiveCard();
  const parsing = new AC.SerializationContext(version);
  card.parse(json, parsing);
  for (let i = 0; i < parsing.eventCount; i++) {
    problems.push(`parse: ${parsing.getEventAt(i).message}`);
  }
  for (const event of card.validateProperties().validationEvents) {
    problems.push(`validate: ${event.message}`);
  }
  const back = card.toJSON(new AC.SerializationContext(version));
  differences(json, back, 'card', problems);
  return problems;
}
