/**
 * A generated policy with a large catalogue of resources, for the tests of the type-ahead pickers
 * (test/core/large-catalog.test.ts, test/e2e/large-catalog.test.ts), the policy-size test and the
 * bench. Resources belong to 40 client groups, some named with accents ("Zürich Versicherung");
 * one group ("Vault Sécurité") only the `insiders` may request; one resource (`zurich-proddb-1`)
 * has a panel of many approvers, the others alice and dave.
 *
 * Names are "<client> <kind> <n>" ("Zürich production database 3"), ids "<client>-<kind>-<n>"
 * ("zurich-proddb-3"): unique, and each easy to find by id or by name.
 */
import type { FakeSlackUser } from '../support/fake-slack.js';

export interface CatalogResource {
  id: string;
  name: string;
  group: string;
  /** Only the insiders may request it. */
  restricted: boolean;
}

export interface Catalog {
  /** The policy file. */
  yaml: string;
  resources: CatalogResource[];
  /** Group labels, in order. */
  groups: string[];
  /** The group only the insiders may request. */
  restrictedGroup: string;
  /** Emails of the people who may request the restricted group. */
  insiders: string[];
  /** The resource with the panel of approvers. */
  panelResource: CatalogResource;
  /** The panel, as Slack users (add them to the fake Slack so their names resolve). */
  panel: FakeSlackUser[];
}

/** Client groups: label, the short form resource names start with, and the id prefix. */
const CLIENTS: ReadonlyArray<readonly [label: string, short: string, slug: string]> = [
  ['Zürich Versicherung', 'Zürich', 'zurich'],
  ['Café Lumière', 'Lumière', 'lumiere'],
  ['Müller & Söhne', 'Müller', 'muller'],
  ['São Paulo Logística', 'São Paulo', 'sao-paulo'],
  ['Ålesund Fiskeri', 'Ålesund', 'alesund'],
  ['Crédit Nord', 'Crédit Nord', 'credit-nord'],
  ['Île-de-France Santé', 'Île-de-France', 'ile-de-france'],
  ['Göteborg Hamn', 'Göteborg', 'goteborg'],
  ['Málaga Turismo', 'Málaga', 'malaga'],
  ['Kraków Energia', 'Kraków', 'krakow'],
  ['Acme Corp', 'Acme', 'acme'],
  ['Globex', 'Globex', 'globex'],
  ['Initech', 'Initech', 'initech'],
  ['Umbrella Health', 'Umbrella', 'umbrella'],
  ['Stark Industries', 'Stark', 'stark'],
  ['Wayne Enterprises', 'Wayne', 'wayne'],
  ['Wonka Foods', 'Wonka', 'wonka'],
  ['Tyrell Systems', 'Tyrell', 'tyrell'],
  ['Cyberdyne', 'Cyberdyne', 'cyberdyne'],
  ['Soylent', 'Soylent', 'soylent'],
  ['Hooli', 'Hooli', 'hooli'],
  ['Pied Piper', 'Pied Piper', 'pied-piper'],
  ['Vandelay Imports', 'Vandelay', 'vandelay'],
  ['Dunder Mifflin', 'Dunder', 'dunder'],
  ['Oscorp', 'Oscorp', 'oscorp'],
  ['Massive Dynamic', 'Massive', 'massive'],
  ['Aperture Science', 'Aperture', 'aperture'],
  ['Black Mesa', 'Black Mesa', 'black-mesa'],
  ['Gringotts Bank', 'Gringotts', 'gringotts'],
  ['Monarch Labs', 'Monarch', 'monarch'],
  ['Nakatomi Trading', 'Nakatomi', 'nakatomi'],
  ['Octan Energy', 'Octan', 'octan'],
  ['Prestige Worldwide', 'Prestige', 'prestige'],
  ['Rekall', 'Rekall', 'rekall'],
  ['Sirius Cybernetics', 'Sirius', 'sirius'],
  ['Virtucon', 'Virtucon', 'virtucon'],
  ['Weyland Yutani', 'Weyland', 'weyland'],
  ['Yoyodyne', 'Yoyodyne', 'yoyodyne'],
  ['Zorg Industries', 'Zorg', 'zorg'],
  ['Vault Sécurité', 'Vault', 'vault'],
];

/** Kinds of resource: how the name says it, and the id part. */
const KINDS: ReadonlyArray<readonly [name: string, slug: string]> = [
  ['production database', 'proddb'],
  ['staging database', 'stagedb'],
  ['billing API', 'billing-api'],
  ['admin console', 'admin'],
  ['analytics warehouse', 'warehouse'],
  ['support mailbox', 'mailbox'],
  ['VPN gateway', 'vpn'],
  ['file share', 'files'],
  ['CI pipeline', 'ci'],
  ['log archive', 'logs'],
];

const FIRST_NAMES = [
  'Jürgen',
  'Zoë',
  'Renée',
  'José',
  'Björn',
  'Chloé',
  'Élodie',
  'Günter',
  'Hélène',
  'Iñaki',
  'Amélie',
  'Anaïs',
  'Noémie',
  'François',
  'Mateo',
];
const LAST_NAMES = [
  'Moreau',
  'Núñez',
  'Schäfer',
  'Lindqvist',
  'Dubois',
  'Kovač',
  'Olsen',
  'Brandão',
  'Weber',
  'Åberg',
];

/** Lower-case ASCII, as an email's local part. */
const ascii = (text: string) =>
  text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase();

/** The approvers' panel: `size` people with accented names (at most 150). */
export function approverPanel(size: number): FakeSlackUser[] {
  const people: FakeSlackUser[] = [];
  for (const last of LAST_NAMES) {
    for (const first of FIRST_NAMES) {
      if (people.length === size) return people;
      const n = String(people.length + 1).padStart(3, '0');
      people.push({
        id: `UPANEL${n}`,
        name: `${ascii(first)}.${ascii(last)}`,
        realName: `${first} ${last}`,
        email: `${ascii(first)}.${ascii(last)}@example.com`,
        tz: 'UTC',
      });
    }
  }
  if (people.length < size) throw new Error(`the panel has at most ${people.length} people`);
  return people;
}

/**
 * `resources` resources spread evenly over `groups` client groups (at most 40; the last is the
 * restricted one), and a panel of `panel` approvers for the first resource.
 */
export function largeCatalog(opts: { resources: number; groups?: number; panel?: number }): Catalog {
  const clientCount = opts.groups ?? CLIENTS.length;
  if (clientCount < 2 || clientCount > CLIENTS.length)
    throw new Error(`between 2 and ${CLIENTS.length} groups`);
  // The restricted group is always last, so every catalogue has one.
  const clients = [...CLIENTS.slice(0, clientCount - 1), CLIENTS[CLIENTS.length - 1]] as Array<
    (typeof CLIENTS)[number]
  >;
  const restricted = clients[clients.length - 1] as (typeof CLIENTS)[number];
  const perClient = Math.ceil(opts.resources / clients.length);
  const resources: CatalogResource[] = [];
  for (const [label, short, slug] of clients) {
    for (let i = 0; i < perClient && resources.length < opts.resources; i++) {
      const [kind, kindSlug] = KINDS[i % KINDS.length] as (typeof KINDS)[number];
      const n = Math.floor(i / KINDS.length) + 1;
      resources.push({
        id: `${slug}-${kindSlug}-${n}`,
        name: `${short} ${kind} ${n}`,
        group: label,
        restricted: label === restricted[0],
      });
    }
  }
  const panel = approverPanel(opts.panel ?? 150);
  const insiders = ['bob@example.com'];
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    'defaults:',
    '  approvalWindow: PT1H',
    'groups:',
    `  insiders: [${insiders.join(', ')}]`,
    `  panel: [${panel.map((p) => p.email).join(', ')}]`,
    'resources:',
  ];
  resources.forEach((r, i) => {
    lines.push(
      `  - id: ${r.id}`,
      `    name: ${q(r.name)}`,
      `    group: ${q(r.group)}`,
      `    approvers: [${i === 0 ? 'panel' : 'alice@example.com, dave@example.com'}]`,
    );
    if (r.restricted) lines.push('    requesters: [insiders]');
  });
  const panelResource = resources[0];
  if (!panelResource) throw new Error('a catalogue needs at least one resource');
  return {
    yaml: `${lines.join('\n')}\n`,
    resources,
    groups: clients.map((c) => c[0]),
    restrictedGroup: restricted[0],
    insiders,
    panelResource,
    panel,
  };
}
