/**
 * The Teams request form over a catalogue of 2,000 resources in 40 groups (test/core/large-catalog.ts),
 * end to end through the CloudAdapter and the fake Bot Connector: the resource and approver menus
 * become dynamic type-ahead menus (`Input.ChoiceSet` with `choices.data` of type `Data.Query`)
 * answered through `application/search` invokes with the same search as Slack's, with a static
 * first page for clients without dynamic search; everything downstream works as with a short list.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FormInput } from '../../../src/bot/teams/request-form-data.js';
import { ActionId } from '../../../src/domain/views/model.js';
import { type Catalog, largeCatalog } from '../../core/large-catalog.js';
import {
  type FakeBotConnector,
  type FakeTeamsUser,
  startFakeBotConnector,
} from '../../support/fake-bot-connector.js';
import { collectText, findElement } from '../../support/fake-slack.js';
import { settle, waitForDm } from '../../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../../support/system.js';
import { buttonsOf, type Card, choicesOf, input, TeamsChat, textsOf } from '../../support/teams-client.js';

const catalog: Catalog = largeCatalog({ resources: 2000, groups: 40, panel: 150 });
const byId = new Map(catalog.resources.map((r) => [r.id, r]));

/** The same people as in the fake Slack, on Teams too: they use the form in Teams. */
const onTeams = (u: { id: string; realName: string; email: string; tz: string }): FakeTeamsUser => ({
  id: `29:1${u.id}`,
  aadObjectId: `aad-${u.id}`,
  name: u.realName,
  email: u.email,
  userPrincipalName: u.email,
  tz: u.tz,
});
const CAROL = onTeams(USERS.carol);
const ERIN = onTeams(USERS.erin);
const BOB = onTeams(USERS.bob);

let t: TestSystem;
let connector: FakeBotConnector;
let carol: TeamsChat;
let erin: TeamsChat;
let bob: TeamsChat;
beforeEach(async () => {
  connector = await startFakeBotConnector({
    users: [CAROL, ERIN, BOB],
    auth: { appId: 'teams-catalog-app' },
  });
  t = await startTestSystem({ policy: catalog.yaml, teams: connector });
  // The approvers are on Slack: the request made in Teams reaches them there.
  for (const person of catalog.panel) t.fake.addUser(person);
  const url = `http://127.0.0.1:${t.system.port}/api/messages`;
  [carol, erin, bob] = [CAROL, ERIN, BOB].map((u) => new TeamsChat(connector, url, u)) as [
    TeamsChat,
    TeamsChat,
    TeamsChat,
  ];
  for (const chat of [carol, erin, bob]) await chat.install();
});
afterEach(async () => {
  await t.close();
  await connector.close();
});

const values = (results: Array<{ value: string }>) => results.map((r) => r.value);
const isHint = (value: string) => value.startsWith('jit.search.');
const choices = <T extends { value: string }>(results: T[]) => results.filter((r) => !isHint(r.value));

const summaryOf = (card: Card) => {
  const texts = textsOf(card);
  return texts[texts.indexOf('Summary') + 1];
};

/** The card without its form id (each form has its own). */
const withoutFormId = (card: Card) =>
  JSON.parse(JSON.stringify(card).replace(/"formId":"[^"]+"/g, '"formId":"…"'));

describe('the resource menu of a catalogue of 2,000 resources, in Teams', () => {
  it('is a dynamic type-ahead (Data.Query) with the first page and a hint as static choices, and says how many there are', async () => {
    const { card } = await erin.open('request access');
    expect(input(card, FormInput.resource)).toMatchObject({
      type: 'Input.ChoiceSet',
      style: 'filtered',
      'choices.data': { type: 'Data.Query', dataset: 'jit.resources' },
    });
    const listed = choicesOf(card, FormInput.resource);
    expect(choices(listed)).toHaveLength(14);
    expect(listed.at(-1)).toEqual({
      title: '1936 more match: type more to narrow the search.',
      value: 'jit.search.more',
    });
    // Erin may request every group but one.
    expect(textsOf(card)).toContain('1950 resources: type part of a name, id or group.');
    expect(values(listed).filter((v) => v.startsWith('vault-'))).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThan(30 * 1024);
  });

  it('finds a resource by its name, its id or a few words in any order, ignoring case and accents, titled with its group', async () => {
    for (const query of [
      'Zürich production database 3',
      'zurich production database 3',
      'ZÜRICH PRODUCTION DATABASE 3',
      'zurich-proddb-3',
      '3 datab prod zür',
    ]) {
      const [first] = await carol.search('jit.resources', query);
      expect(first, query).toEqual({
        title: 'Zürich production database 3 (Zürich Versicherung)',
        value: 'zurich-proddb-3',
      });
    }
    expect(values(await carol.search('jit.resources', 'datab 3 zür prod'))).toEqual(['zurich-proddb-3']);
    expect(values(await carol.search('jit.resources', 'sao paulo billing'))).toEqual([
      'sao-paulo-billing-api-1',
      'sao-paulo-billing-api-2',
      'sao-paulo-billing-api-3',
      'sao-paulo-billing-api-4',
      'sao-paulo-billing-api-5',
    ]);
  });

  it('finds a group’s resources by the group’s name, a page at a time, ending with a hint while more match', async () => {
    const group = catalog.resources.filter((r) => r.group === 'Müller & Söhne').map((r) => r.id);
    expect(group).toHaveLength(50);
    for (const query of ['Müller & Söhne', 'muller sohne', 'SÖHNE']) {
      const found = await carol.search('jit.resources', query);
      expect(found, query).toHaveLength(15);
      expect(choices(found).every((r) => r.title.endsWith('(Müller & Söhne)'))).toBe(true);
      expect(found.at(-1)).toEqual({
        title: '36 more match: type more to narrow the search.',
        value: 'jit.search.more',
      });
    }
    // Teams asks for the next page with `skip`.
    const first = choices(await carol.search('jit.resources', 'muller sohne'));
    const next = await carol.search('jit.resources', 'muller sohne', { skip: 14 });
    expect(choices(next)).toHaveLength(14);
    expect(next.at(-1)?.title).toBe('22 more match: type more to narrow the search.');
    const seen = [...values(first), ...values(choices(next))];
    expect(new Set(seen).size).toBe(28);
    expect(seen.every((v) => group.includes(v))).toBe(true);
    // Never more than a menu holds, whatever is asked for.
    expect(await carol.search('jit.resources', 'database', { top: 100 })).toHaveLength(15);
  });

  it('says so when nothing matches', async () => {
    expect(await carol.search('jit.resources', 'mainframe')).toEqual([
      { title: 'No resource you can request matches “mainframe”.', value: 'jit.search.none' },
    ]);
  });

  it('never shows a person a resource they may not request, in any result, and refuses it when forged', async () => {
    for (const query of [
      '',
      'vault',
      'Vault Sécurité',
      'securite',
      'vault-proddb-1',
      'Vault production database 1',
      'database',
      'a',
      '1',
    ]) {
      const offered = values(await erin.search('jit.resources', query));
      expect(
        offered.filter((v) => v.startsWith('vault-')),
        query,
      ).toEqual([]);
    }
    expect(values(await erin.search('jit.resources', 'vault'))).toEqual(['jit.search.none']);
    // Nor the approvers of one.
    expect(values(await erin.search('jit.approvers:vault-proddb-2', 'alice'))).toEqual(['jit.search.none']);
    // Bob, an insider, finds them.
    expect(choices(await bob.search('jit.resources', 'vault', { top: 15 }))).toHaveLength(14);
    expect(values(await bob.search('jit.approvers:vault-proddb-2', 'alice'))).toEqual(['alice@example.com']);

    // A restricted resource typed into the menu by hand is not taken, and is refused on submit.
    const { id } = await erin.open('request access');
    let res = await erin.press(id, 'Use this resource', { [FormInput.resource]: 'vault-proddb-1' });
    expect(input(res.card as Card, FormInput.resource)?.value).toBeUndefined();
    expect(input(res.card as Card, FormInput.approvers)).toBeUndefined();
    res = await erin.press(id, 'Send request', {
      [FormInput.resource]: 'vault-proddb-1',
      [FormInput.justification]: 'Let me in',
    });
    expect(textsOf(res.card as Card)).toContain(
      'You are not allowed to request access to Vault production database 1.',
    );
    await settle(100);
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
  });

  // Every one of the 2,000 is found first by the core search (test/core/large-catalog.test.ts); over
  // HTTP, through the CloudAdapter and the application/search invoke, a sample of 100 across every group.
  it('leaves no resource unreachable: a sample of 100 across every group is found first by its id or its name', async () => {
    const sample = catalog.resources.filter((_, i) => i % 20 === 3);
    expect(sample).toHaveLength(100);
    expect(new Set(sample.map((r) => r.group)).size).toBe(40);
    const missed: string[] = [];
    for (const [i, r] of sample.entries()) {
      const query = i % 2 ? r.id : r.name;
      const [first] = await bob.search('jit.resources', query);
      if (first?.value !== r.id) missed.push(`${query} → ${first?.value}`);
    }
    expect(missed).toEqual([]);
  });

  it('flows from a resource found by search into approvers, durations and the summary, as when it is named, and reaches its approver', async () => {
    const [found] = await carol.search('jit.resources', 'wonka billing 3');
    expect(found?.value).toBe('wonka-billing-api-3');
    const { id } = await carol.open('request access');
    let card = (await carol.press(id, 'Use this resource', { [FormInput.resource]: found?.value ?? '' }))
      .card as Card;

    expect(input(card, FormInput.resource)).toMatchObject({
      style: 'filtered',
      value: 'wonka-billing-api-3',
    });
    expect(choicesOf(card, FormInput.resource)[0]).toEqual({
      title: 'Wonka billing API 3',
      value: 'wonka-billing-api-3',
    });
    // A plain drop-down (the default style), no type-ahead: two approvers fit a list.
    expect(input(card, FormInput.approvers)).toMatchObject({ isMultiSelect: true });
    expect(input(card, FormInput.approvers)?.style).toBeUndefined();
    expect(input(card, FormInput.approvers)?.['choices.data']).toBeUndefined();
    expect(values(choicesOf(card, FormInput.approvers))).toEqual(['alice@example.com', 'dave@example.com']);
    expect(buttonsOf(card)).toEqual(expect.arrayContaining(['4 hours', '8 hours', '1 day']));
    expect(summaryOf(card)).toBe('Wonka billing API 3: choose a duration; approvers: none chosen yet');
    // The very same form as "request access wonka-billing-api-3" opens.
    const named = (await carol.open('request access wonka-billing-api-3')).card;
    expect(withoutFormId(card)).toEqual(withoutFormId(named));

    card = (await carol.press(id, '4 hours')).card as Card;
    expect(summaryOf(card)).toContain('Wonka billing API 3 for 4 hours, until');
    card = (
      await carol.press(id, 'Send request', {
        [FormInput.approvers]: USERS.alice.email,
        [FormInput.justification]: 'Refund run for ticket 42',
      })
    ).card as Card;
    expect(textsOf(card)[0]).toBe('Request sent');
    const dm = await waitForDm(t, USERS.alice, 'Wonka billing API 3');
    expect(collectText(dm.blocks)).toContain('Refund run for ticket 42');
    expect(findElement(dm.blocks, ActionId.approve)).toBeDefined();
  });
});

describe('the approver menu of a resource with 150 eligible approvers, in Teams', () => {
  const resource = catalog.panelResource;
  const [jurgen, zoe] = catalog.panel;

  it('is a multi-select dynamic type-ahead that finds approvers by name or email, ignoring case and accents', async () => {
    const { card } = await erin.open(`request access ${resource.id}`);
    expect(input(card, FormInput.approvers)).toMatchObject({
      style: 'filtered',
      isMultiSelect: true,
      'choices.data': { type: 'Data.Query', dataset: `jit.approvers:${resource.id}` },
    });
    expect(choicesOf(card, FormInput.approvers).at(-1)?.title).toBe(
      '136 more match: type more to narrow the search.',
    );
    expect(textsOf(card).join('\n')).toContain('150 approvers: type part of a name or email.');

    const dataset = `jit.approvers:${resource.id}`;
    for (const query of ['jurgen', 'JÜRG', 'Jürgen']) {
      const found = await erin.search(dataset, query);
      expect(
        found.map((r) => r.value.split('.')[0]),
        query,
      ).toEqual(Array(10).fill('jurgen'));
    }
    expect(await erin.search(dataset, 'zoe.moreau@')).toEqual([
      { title: 'zoe.moreau@example.com', value: 'zoe.moreau@example.com' },
    ]);
    expect(values(await erin.search(dataset, 'zoë moreau'))).toEqual(['zoe.moreau@example.com']);
    expect(values(await erin.search(dataset, 'nobody'))).toEqual(['jit.search.none']);
    // Only the panel approves this resource: Alice is found nowhere.
    expect(values(await erin.search(dataset, 'alice'))).toEqual(['jit.search.none']);
  });

  it('sends the request to the approvers chosen in the type-ahead', async () => {
    if (!jurgen || !zoe) throw new Error('the panel is too small');
    const { id } = await erin.open(`request access ${resource.id}`);
    const chosen = [
      (await erin.search(`jit.approvers:${resource.id}`, 'jurgen moreau'))[0]?.value,
      (await erin.search(`jit.approvers:${resource.id}`, 'zoe.moreau'))[0]?.value,
    ];
    expect(chosen).toEqual([jurgen.email, zoe.email]);
    let card = (await erin.press(id, '4 hours', { [FormInput.approvers]: chosen.join(',') })).card as Card;
    expect(input(card, FormInput.approvers)?.value).toBe(chosen.join(','));
    // The chosen ones are listed first, so the menu can show them as selected.
    expect(values(choicesOf(card, FormInput.approvers)).slice(0, 2)).toEqual(chosen);
    expect(summaryOf(card)).toContain(`approvers: ${chosen.join(', ')}`);

    card = (await erin.press(id, 'Send request', { [FormInput.justification]: 'Failover drill' }))
      .card as Card;
    expect(textsOf(card)[0]).toBe('Request sent');
    for (const approver of [jurgen, zoe]) {
      const dm = await waitForDm(t, approver, 'Zürich production database 1');
      expect(collectText(dm.blocks)).toContain('Failover drill');
    }
  });
});

describe('"request access <words>" in a catalogue of 2,000 resources, in Teams', () => {
  it('preselects the only resource that matches', async () => {
    const { card } = await carol.open('request access zürich billing 2');
    expect(input(card, FormInput.resource)?.value).toBe('zurich-billing-api-2');
    expect(summaryOf(card)).toContain('Zürich billing API 2');
    expect(textsOf(card).join('\n')).not.toContain('match');
  });

  it('lists the matches, each with its group, when several match, and the chosen one fills the form', async () => {
    const { id, card } = await carol.open('request access zurich database');
    expect(textsOf(card)).toContain('10 resources match “zurich database”: choose one below.');
    expect(input(card, FormInput.resource)?.style).toBeUndefined();
    expect(input(card, FormInput.resource)?.['choices.data']).toBeUndefined();
    const listed = choicesOf(card, FormInput.resource);
    expect(values(listed).sort()).toEqual(
      [1, 2, 3, 4, 5].flatMap((n) => [`zurich-proddb-${n}`, `zurich-stagedb-${n}`]).sort(),
    );
    expect(listed.map((c) => c.title)).toContain('Zürich staging database 2 (Zürich Versicherung)');

    const next = (await carol.press(id, 'Use this resource', { [FormInput.resource]: 'zurich-stagedb-2' }))
      .card as Card;
    expect(input(next, FormInput.resource)?.value).toBe('zurich-stagedb-2');
    expect(summaryOf(next)).toBe('Zürich staging database 2: choose a duration; approvers: none chosen yet');
  });

  it('says how many match when more match than a list holds, and keeps the type-ahead', async () => {
    const { card } = await carol.open('request access database');
    expect(textsOf(card)).toContain(
      '390 resources match “database”: type part of the name in the menu below to narrow them down.',
    );
    expect(input(card, FormInput.resource)?.style).toBe('filtered');
    expect(byId.size).toBe(2000);
  });
});
