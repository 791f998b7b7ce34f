/**
 * Strict parsing of Adaptive Cards with Microsoft's `adaptivecards` library (the renderer the
 * Agents Playground and web clients use). Parsing and validation need no DOM: only rendering does.
 *
 * The library's package `main` is untranspiled ESM that Node cannot load (extensionless imports),
 * so the UMD bundle in its `dist/` is loaded instead; the types come from the package as usual.
 *
 * A card passes when
 * 1. parsing it for the card's own version reports no event (an unknown element or action type, a
 *    value outside a property's allowed values, a property of a newer version…),
 * 2. the library's own validation reports nothing (duplicate ids, missing required properties…),
 * 3. serializing the parsed card gives back the input: the library silently drops every property it
 *    does not know, so a property lost on the way round is unknown to it, unless it was dropped only
 *    for holding the property's default (`style: 'compact'`, `value: ''`), which is found out by
 *    parsing the card again with another value there: a known property then keeps it or refuses it.
 *
 * One Teams extension is allowed: `choices.data` (a `Data.Query`, Teams' dynamic type-ahead) on an
 * `Input.ChoiceSet`. Teams documents it on cards of any version (its own examples are 1.2 and 1.5)
 * while the Adaptive Cards schema only has it from 1.6; its shape is checked here instead.
 */
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import type * as AdaptiveCards from 'adaptivecards';

const AC = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js') as typeof AdaptiveCards;

type Json = unknown;
type Path = Array<string | number>;

const show = (path: Path) =>
  path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : `${s}.${k}`), 'card');

function versionOf(card: { version?: unknown }): AdaptiveCards.Version {
  const version = AC.Version.parse(String(card.version ?? ''), new AC.SerializationContext());
  if (!version?.isValid)
    throw new Error(`card version ${String(card.version)} is not one adaptivecards knows`);
  return version;
}

/** Parses `json` for `version`: the parse events, the validation failures and what it serializes to. */
function roundTrip(json: Json, version: AdaptiveCards.Version) {
  const card = new AC.AdaptiveCard();
  const parsing = new AC.SerializationContext(version);
  card.parse(json, parsing);
  const events: string[] = [];
  for (let i = 0; i < parsing.eventCount; i++) events.push(parsing.getEventAt(i).message);
  const invalid = card.validateProperties().validationEvents.map((e) => e.message);
  return { events, invalid, back: card.toJSON(new AC.SerializationContext(version)) as Json };
}

/** Where `actual` lacks or changes what `expected` holds, as paths; `dropped` collects lost keys. */
function differences(expected: Json, actual: Json, path: Path, out: string[], dropped: Path[]): void {
  if (isDeepStrictEqual(expected, actual)) return;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) {
      out.push(`${show(path)}: ${expected.length} items became ${actual.length}`);
    }
    for (const [i, item] of expected.entries()) differences(item, actual[i], [...path, i], out, dropped);
    return;
  }
  if (expected && actual && typeof expected === 'object' && typeof actual === 'object') {
    const a = actual as Record<string, Json>;
    for (const [key, value] of Object.entries(expected)) {
      if (key in a) differences(value, a[key], [...path, key], out, dropped);
      else dropped.push([...path, key]);
    }
    for (const key of Object.keys(a)) {
      if (!(key in (expected as object))) out.push(`${show([...path, key])}: added by the parser`);
    }
    return;
  }
  out.push(`${show(path)}: ${JSON.stringify(expected)} became ${JSON.stringify(actual)}`);
}

function at(json: Json, path: Path): Json {
  return path.reduce<Json>((node, key) => (node as Record<string | number, Json>)?.[key], json);
}

function withValue(json: Json, path: Path, value: Json): Json {
  const copy = structuredClone(json);
  const parent = at(copy, path.slice(0, -1)) as Record<string | number, Json>;
  parent[path[path.length - 1] as string | number] = value;
  return copy;
}

/** Whether the library knows the property at `path`: with another value there it keeps or refuses it. */
function knownProperty(json: Json, path: Path, version: AdaptiveCards.Version): boolean {
  const current = at(json, path);
  const probe =
    typeof current === 'string'
      ? '__probe__'
      : typeof current === 'number'
        ? current + 7777
        : typeof current === 'boolean'
          ? !current
          : undefined;
  if (probe === undefined) return false;
  const probed = roundTrip(withValue(json, path, probe), version);
  return isDeepStrictEqual(at(probed.back, path), probe) || probed.events.length > 0;
}

/** Removes Teams' `choices.data` (see the module comment) and reports what is wrong with each. */
function takeTeamsExtensions(json: Json, path: Path, problems: string[]): Json {
  if (Array.isArray(json)) return json.map((item, i) => takeTeamsExtensions(item, [...path, i], problems));
  if (!json || typeof json !== 'object') return json;
  const { 'choices.data': query, ...rest } = json as Record<string, Json>;
  if (query !== undefined) {
    const q = query as Record<string, Json>;
    const known = ['type', 'dataset', 'count', 'skip', 'value', 'associatedInputs'];
    if ((json as { type?: unknown }).type !== 'Input.ChoiceSet') {
      problems.push(`${show([...path, 'choices.data'])}: only an Input.ChoiceSet may have it`);
    } else if (
      q?.type !== 'Data.Query' ||
      typeof q.dataset !== 'string' ||
      q.dataset === '' ||
      Object.keys(q).some((k) => !known.includes(k)) ||
      (q.associatedInputs !== undefined && !['auto', 'none'].includes(String(q.associatedInputs)))
    ) {
      problems.push(`${show([...path, 'choices.data'])}: not a Data.Query: ${JSON.stringify(query)}`);
    }
  }
  return Object.fromEntries(
    Object.entries(rest).map(([key, value]) => [key, takeTeamsExtensions(value, [...path, key], problems)]),
  );
}

/** Everything `adaptivecards` finds wrong with `card` (an Adaptive Card); empty when it is clean. */
export function adaptiveCardProblems(card: object): string[] {
  const json = card as { type?: unknown; version?: unknown };
  const problems: string[] = [];
  if (json.type !== 'AdaptiveCard') problems.push(`type is ${String(json.type)}, not AdaptiveCard`);
  const version = versionOf(json);
  const plain = takeTeamsExtensions(json, [], problems);
  const { events, invalid, back } = roundTrip(plain, version);
  problems.push(...events.map((e) => `parse: ${e}`), ...invalid.map((e) => `validate: ${e}`));
  const dropped: Path[] = [];
  differences(plain, back, [], problems, dropped);
  for (const path of dropped) {
    if (!knownProperty(plain, path, version)) {
      problems.push(`${show(path)}: not a known property (dropped by the parser)`);
    }
  }
  return problems;
}
