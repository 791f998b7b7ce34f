/**
 * The neutral home (src/domain/views/home.ts) as an Adaptive Card 1.5: Teams' "my access" and
 * "dashboard" cards. Every button is an `Action.Execute` with a `home.*` verb whose data carries
 * the neutral action, its value and where the card stands (the home state and which card), so a
 * press re-renders the card in place (./home.ts). The dashboard's filters are inputs (choice sets,
 * a person's email, a date) sent with "Apply filters". Typed text is escaped as in ./cards.ts.
 */
import { z } from 'zod';
import {
  DENY_REASON_INPUT,
  MAX_DENY_REASON,
  MAX_REVOKE_REASON,
  REVOKE_REASON_INPUT,
} from '../../domain/views/forms.js';
import type { HomeFilter, HomeItem, HomeSectionView, HomeView } from '../../domain/views/home.js';
import type { ViewAction } from '../../domain/views/model.js';
import {
  ADAPTIVE_CARD_CONTENT_TYPE,
  ADAPTIVE_CARD_VERSION,
  type AdaptiveCard,
  type CardElement,
  escapeMarkdown,
} from './cards.js';
import { LIMITS, truncate } from './limits.js';

export const HomeVerb = {
  /** A neutral action of the home (its id in the data's `act`). */
  act: 'home.act',
  /** Apply the dashboard's filters (the inputs below). */
  filter: 'home.filter',
  /** Revoke, with the optional reason typed on the confirmation card. */
  revoke: 'home.revoke',
  /** Deny, with the optional reason typed on the deny form. */
  deny: 'home.deny',
  /** Back from a confirmation or a timeline to the home. */
  back: 'home.back',
} as const;
export const HOME_VERB_PREFIX = 'home.';

/** Which card: the person's own access ("my access") or the grants dashboard. */
export type HomeCardKind = 'mine' | 'dashboard';

export const NO_DASHBOARD =
  'The grants dashboard is for admins, and for the approvers and owners of a resource. Type “my access” to see your own.';
export const OUT_OF_DATE = 'This card is out of date — see the latest below.';

const TITLE: Record<HomeCardKind, string> = { mine: 'My access', dashboard: 'Grants dashboard' };
const MINE: readonly string[] = ['grants', 'pending', 'decisions', 'history'];

/**
 * What a card of `kind` shows of the person's whole home: "my access" their own lists and the
 * requests waiting for them, "dashboard" the grants dashboard alone (or a line saying they have
 * none, when they are no longer an admin, approver or owner).
 */
export function homePart(view: HomeView, kind: HomeCardKind): HomeView {
  if (kind === 'mine') return { ...view, sections: view.sections.filter((s) => MINE.includes(s.id)) };
  const sections = view.sections.filter((s) => s.id === 'dashboard');
  return { title: TITLE.dashboard, lines: sections.length ? [] : [NO_DASHBOARD], actions: [], sections };
}

/** The message of a home card: its card and the notification text. */
export function homeMessage(card: AdaptiveCard, kind: HomeCardKind) {
  return { summary: TITLE[kind], attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card }] };
}

/** What an older card of `kind` becomes once a newer one is sent: no buttons, a pointer to the latest. */
export function outOfDateCard(kind: HomeCardKind): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ADAPTIVE_CARD_VERSION,
    fallbackText: OUT_OF_DATE,
    body: [
      text(TITLE[kind], { style: 'heading', size: 'Large', weight: 'Bolder' }),
      text(OUT_OF_DATE, { isSubtle: true }),
    ],
  };
}

/** What every button of these cards carries back (untrusted: ./home.ts parses it). */
export interface HomeWire {
  act?: string;
  value?: string;
  /** The home state, as JSON. */
  state: string;
  view: HomeCardKind;
}

/** The ids of the filter inputs, by dashboard filter. */
export const FilterInput = {
  resource: 'home.filter.resource',
  status: 'home.filter.status',
  user: 'home.filter.user',
  expiresBy: 'home.filter.expires',
} as const;

/** What a press sends back: a button's data with the card's inputs merged in, checked with zod. */
export const pressedSchema = z.object({
  act: z.string().max(100).optional(),
  value: z.string().max(2000).optional(),
  state: z.string().max(50_000),
  view: z.enum(['mine', 'dashboard']),
  [FilterInput.resource]: z.string().max(300).optional(),
  [FilterInput.status]: z.string().max(50).optional(),
  [FilterInput.user]: z.string().max(320).optional(),
  [FilterInput.expiresBy]: z.string().max(20).optional(),
  [DENY_REASON_INPUT]: z
    .string()
    .max(MAX_DENY_REASON, `The reason is too long: at most ${MAX_DENY_REASON} characters.`)
    .optional(),
  [REVOKE_REASON_INPUT]: z
    .string()
    .max(MAX_REVOKE_REASON, `The reason is too long: at most ${MAX_REVOKE_REASON} characters.`)
    .optional(),
});
export type Pressed = z.infer<typeof pressedSchema>;

const FILTER_INPUT: Record<string, string> = {
  'jit.home.filter.resource': FilterInput.resource,
  'jit.home.filter.status': FilterInput.status,
  'jit.home.filter.user': FilterInput.user,
  'jit.home.filter.expires': FilterInput.expiresBy,
};

const text = (value: string, extra: Record<string, unknown> = {}): CardElement => ({
  type: 'TextBlock',
  text: escapeMarkdown(truncate(value, LIMITS.text)),
  wrap: true,
  ...extra,
});

export function executeAction(title: string, verb: string, data: HomeWire, style?: string): CardElement {
  return {
    type: 'Action.Execute',
    title: truncate(title, LIMITS.buttonTitle),
    verb,
    data,
    ...(style ? { style } : {}),
  };
}

/** A neutral view's button as a home button: its id and value travel in the data, with where the home stood. */
export function action(a: ViewAction, wire: HomeWire): CardElement {
  const data: HomeWire = { ...wire, act: a.id, value: truncate(a.value, LIMITS.buttonValue) };
  const style = a.style === 'primary' ? 'positive' : a.style === 'danger' ? 'destructive' : undefined;
  if (!a.confirm) return executeAction(a.label, HomeVerb.act, data, style);
  return {
    type: 'Action.ShowCard',
    title: truncate(a.label, LIMITS.buttonTitle),
    card: {
      type: 'AdaptiveCard',
      body: [text(a.confirm.title, { weight: 'Bolder' }), text(a.confirm.text)],
      actions: [executeAction(a.confirm.confirm, HomeVerb.act, data, style)],
    },
  };
}

const actionSet = (actions: CardElement[]): CardElement[] =>
  actions.length ? [{ type: 'ActionSet', actions }] : [];

function filterInput(f: HomeFilter): CardElement {
  const id = FILTER_INPUT[f.id] ?? f.id;
  if (f.kind === 'choice') {
    return {
      type: 'Input.ChoiceSet',
      id,
      label: f.label,
      placeholder: f.placeholder,
      choices: f.groups
        .flatMap((g) => g.options.map((o) => ({ ...o, label: g.title ? `${g.title}: ${o.label}` : o.label })))
        .slice(0, LIMITS.choices)
        .map((o) => ({ title: truncate(o.label, LIMITS.choiceTitle), value: o.value })),
      ...(f.selected ? { value: f.selected.value } : {}),
    };
  }
  if (f.kind === 'date') {
    return { type: 'Input.Date', id, label: f.label, ...(f.selected ? { value: f.selected } : {}) };
  }
  return {
    type: 'Input.Text',
    id,
    label: `${f.label} (email)`,
    placeholder: f.placeholder,
    style: 'Email',
    maxLength: 320,
    ...(f.selected ? { value: f.selected } : {}),
  };
}

function item(i: HomeItem, wire: HomeWire): CardElement {
  const items: CardElement[] = [text(i.title, { weight: 'Bolder' }), ...(i.lines ?? []).map((l) => text(l))];
  if (i.fields?.length) {
    items.push({
      type: 'FactSet',
      facts: i.fields.map((f) => ({
        title: escapeMarkdown(truncate(f.label, LIMITS.title)),
        value: escapeMarkdown(truncate(f.value, LIMITS.text)),
      })),
    });
  }
  items.push(...actionSet((i.actions ?? []).map((a) => action(a, wire))));
  return { type: 'Container', separator: true, items };
}

function section(s: HomeSectionView, wire: HomeWire): CardElement {
  const items: CardElement[] = [text(s.title, { weight: 'Bolder', size: 'Medium' })];
  if (s.filters?.length) {
    items.push(...s.filters.map(filterInput));
    items.push(
      ...actionSet([
        executeAction('Apply filters', HomeVerb.filter, wire),
        ...(s.filterActions ?? []).map((a) => action(a, wire)),
      ]),
    );
  }
  if (s.note) items.push(text(s.note, { isSubtle: true }));
  if (s.items.length === 0) items.push(text(s.empty, { isSubtle: true }));
  items.push(...s.items.map((i) => item(i, wire)));
  items.push(...actionSet((s.pager ?? []).map((a) => action(a, wire))));
  return { type: 'Container', spacing: 'Large', separator: true, items };
}

/** The card of `view`; `notice` (what the last press did) is shown under the title. */
export function renderHomeCard(
  view: HomeView,
  wire: Omit<HomeWire, 'act' | 'value'>,
  notice?: string,
): AdaptiveCard {
  const body: CardElement[] = [
    text(view.title, { style: 'heading', size: 'Large', weight: 'Bolder' }),
    ...(notice ? [text(notice, { color: 'Accent', weight: 'Bolder' })] : []),
    ...view.lines.map((l) => text(l)),
    ...actionSet(view.actions.map((a) => action(a, wire))),
    ...view.sections.map((s) => section(s, wire)),
  ];
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ADAPTIVE_CARD_VERSION,
    fallbackText: escapeMarkdown(view.title),
    body,
  };
}
