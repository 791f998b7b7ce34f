/**
 * The request form over a catalogue of 2,000 resources in 40 groups (test/core/large-catalog.ts),
 * end to end through the Bolt app: the resource and approver pickers become type-ahead menus
 * (external selects) whose options Slack loads from the app as the person types
 * (`block_suggestion`), and everything downstream works as with a short list.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMeta } from '../../src/bot/slack/form.js';
import { ActionId } from '../../src/domain/views/model.js';
import { type Catalog, largeCatalog } from '../core/large-catalog.js';
import { collectText, type FakeView, findElement, type JsonObject } from '../support/fake-slack.js';
import { formAction, openForm, quickDurationAction, settle, waitForDm } from '../support/flows.js';
import { type OptionInput, optionsResponseProblems, type ViewInputValue } from '../support/slack-requests.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, bob, carol, erin } = USERS;
type User = { id: string; email: string };

const catalog: Catalog = largeCatalog({ resources: 2000, groups: 40, panel: 150 });
const groupOf = new Map(catalog.resources.map((r) => [r.id, r.group]));
const nameOf = new Map(catalog.resources.map((r) => [r.id, r.name]));

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem({ policy: catalog.yaml });
  for (const person of catalog.panel) t.fake.addUser(person);
});
afterEach(async () => {
  await t.close();
});

// ------------------------------------------------------------------ helpers

interface Option {
  text: { type: string; text: string };
  value: string;
}

interface Suggestions {
  /** Every option in order, the hint included. */
  options: Option[];
  /** The option groups' labels and values, when the answer was grouped. */
  groups?: Array<{ label: string; values: string[] }>;
}

function element(view: FakeView, actionId: string): JsonObject | undefined {
  return findElement(view.blocks, actionId)?.element;
}

function blockOf(view: FakeView, actionId: string): string {
  const blockId = findElement(view.blocks, actionId)?.blockId;
  if (!blockId) throw new Error(`the form has no ${actionId}: ${collectText(view.blocks)}`);
  return blockId;
}

function summaryOf(view: FakeView): string {
  const block = view.blocks.find((b) => b.block_id === 'summary');
  return collectText(block).replace(/^\*Summary\*\n/, '');
}

/** The text of the input block holding `actionId`: its label and hint. */
function hintOf(view: FakeView, actionId: string): string {
  const block = view.blocks.find((b) => b.block_id === blockOf(view, actionId));
  return collectText((block as JsonObject | undefined)?.hint);
}

/** The person types `value` into the type-ahead `actionId`; returns what the app offered, as Slack would accept it. */
async function typeAhead(
  user: User,
  view: FakeView,
  actionId: string,
  value: string,
  values?: Record<string, OptionInput | OptionInput[]>,
): Promise<Suggestions> {
  const res = await t.slack.blockSuggestion({
    userId: user.id,
    actionId,
    value,
    view: view as unknown as JsonObject,
    ...(values ? { values } : {}),
  });
  expect(res.status, res.text).toBe(200);
  expect(optionsResponseProblems(res.body), JSON.stringify(res.body)).toEqual([]);
  const body = res.body as {
    options?: Option[];
    option_groups?: Array<{ label: Option['text']; options: Option[] }>;
  };
  if (body.option_groups) {
    return {
      options: body.option_groups.flatMap((g) => g.options),
      groups: body.option_groups.map((g) => ({ label: g.label.text, values: g.options.map((o) => o.value) })),
    };
  }
  return { options: body.options ?? [] };
}

const valuesOf = (s: Suggestions) => s.options.map((o) => o.value);
/** The options that stand for resources or approvers (not the closing hint). */
const choices = (s: Suggestions) => s.options.filter((o) => !o.value.startsWith('jit.search.'));

/** The person picks `option` in the external select `actionId`; returns the view after the app updated it. */
async function pick(
  user: User,
  view: FakeView,
  actionId: string,
  option: Option | Option[],
  values: Record<string, OptionInput | OptionInput[] | string> = {},
): Promise<FakeView> {
  const mark = t.fake.checkpoint();
  const res = await t.slack.blockAction({
    userId: user.id,
    actionId,
    view: view as unknown as JsonObject,
    ...(Array.isArray(option) ? { selectedOptions: option } : { selectedOption: option }),
    values: { ...values, [actionId]: option },
  });
  expect(res.status).toBe(200);
  const call = await t.fake.waitFor('views.update', (c) => c.seq >= mark);
  expect(call.response.ok, JSON.stringify(call.response)).toBe(true);
  const updated = t.fake.view(view.id);
  if (!updated) throw new Error('view vanished');
  return updated;
}

/** The person presses Send with `values` entered (options of an external select as `{ text, value }`). */
function submit(user: User, view: FakeView, values: Record<string, ViewInputValue>) {
  return t.slack.viewSubmission({ userId: user.id, view: view as unknown as JsonObject, values });
}

/** Inline errors, as Slack shows them under each block, or fails when the submission was accepted. */
function inlineErrors(res: { status: number; body: unknown }): Record<string, string> {
  expect(res.status).toBe(200);
  const body = res.body as { response_action?: string; errors?: Record<string, string> };
  expect(body.response_action, `the submission was accepted: ${JSON.stringify(res.body)}`).toBe('errors');
  return body.errors ?? {};
}

/** The blocks without their ids (which carry versions, or are generated by Slack). */
function withoutBlockIds(view: FakeView): unknown[] {
  return view.blocks.map(({ block_id: _id, ...rest }) => rest);
}

// ------------------------------------------------------------------ the resource picker

describe('the resource picker of a catalogue of 2,000 resources', () => {
  it('is a type-ahead menu that asks the app for options, not a list of 100, and says how many there are', async () => {
    const view = await openForm(t, erin);
    const picker = element(view, 'jit.form.resource');
    expect(picker).toMatchObject({ type: 'external_select', min_query_length: 0 });
    expect(picker?.options).toBeUndefined();
    expect(picker?.option_groups).toBeUndefined();
    expect(picker?.initial_option).toBeUndefined();
    // Erin may request every group but one.
    expect(hintOf(view, 'jit.form.resource')).toBe('1950 resources: type part of a name, id or group.');
    expect(hintOf(await openForm(t, bob), 'jit.form.resource')).toContain('2000 resources');
  });

  it('finds a resource by its name, its id or a few words in any order, ignoring case and accents, best match first', async () => {
    const view = await openForm(t, carol);
    for (const query of [
      'Zürich production database 3',
      'zurich production database 3',
      'ZÜRICH PRODUCTION DATABASE 3',
      'zurich-proddb-3',
      '3 datab prod zür',
    ]) {
      const found = await typeAhead(carol, view, 'jit.form.resource', query);
      expect(found.options[0], query).toEqual({
        text: { type: 'plain_text', text: 'Zürich production database 3' },
        value: 'zurich-proddb-3',
      });
    }
    // Partial words narrow it down to one…
    expect(valuesOf(await typeAhead(carol, view, 'jit.form.resource', 'datab 3 zür prod'))).toEqual([
      'zurich-proddb-3',
    ]);
    // …or to a few, best first, then by name.
    expect(valuesOf(await typeAhead(carol, view, 'jit.form.resource', 'sao paulo billing'))).toEqual([
      'sao-paulo-billing-api-1',
      'sao-paulo-billing-api-2',
      'sao-paulo-billing-api-3',
      'sao-paulo-billing-api-4',
      'sao-paulo-billing-api-5',
    ]);
  });

  it('finds every resource of a group by the group’s name, under the group’s heading', async () => {
    const view = await openForm(t, carol);
    for (const query of ['Müller & Söhne', 'muller sohne', 'SÖHNE']) {
      const found = await typeAhead(carol, view, 'jit.form.resource', query);
      expect(
        found.groups?.map((g) => g.label),
        query,
      ).toEqual(['Müller & Söhne']);
      expect(valuesOf(found).sort(), query).toEqual(
        catalog.resources
          .filter((r) => r.group === 'Müller & Söhne')
          .map((r) => r.id)
          .sort(),
      );
    }
  });

  it('answers in option groups by group, never with more than 100 options, ending with a hint when more match', async () => {
    const view = await openForm(t, carol);
    // 2 kinds of database × 5 × 39 groups Carol may request
    const found = await typeAhead(carol, view, 'jit.form.resource', 'database');
    expect(found.options.length).toBeLessThanOrEqual(100);
    expect(choices(found)).toHaveLength(99);
    expect(found.groups?.at(-1)).toEqual({ label: 'More', values: ['jit.search.more'] });
    expect(found.options.at(-1)?.text.text).toBe('291 more match: type more to narrow the search.');
    for (const group of found.groups?.slice(0, -1) ?? []) {
      for (const value of group.values) expect(groupOf.get(value), value).toBe(group.label);
      expect(group.values.every((v) => nameOf.get(v)?.includes('database'))).toBe(true);
    }
    // Each group appears once.
    const labels = found.groups?.map((g) => g.label) ?? [];
    expect(new Set(labels).size).toBe(labels.length);

    // Opening the menu without typing (min_query_length 0) offers the first ones and the same kind of hint.
    const opened = await typeAhead(carol, view, 'jit.form.resource', '');
    expect(choices(opened)).toHaveLength(99);
    expect(opened.options.at(-1)).toEqual({
      text: { type: 'plain_text', text: '1851 more match: type more to narrow the search.' },
      value: 'jit.search.more',
    });
  });

  it('says so when nothing matches', async () => {
    const view = await openForm(t, carol);
    const found = await typeAhead(carol, view, 'jit.form.resource', 'mainframe');
    expect(found).toEqual({
      options: [
        {
          text: { type: 'plain_text', text: 'No resource you can request matches “mainframe”.' },
          value: 'jit.search.none',
        },
      ],
    });
  });

  it('never shows a person a resource they may not request, in any result, and refuses it on submit', async () => {
    const view = await openForm(t, erin);
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
      const offered = valuesOf(await typeAhead(erin, view, 'jit.form.resource', query));
      expect(
        offered.filter((v) => v.startsWith('vault-')),
        query,
      ).toEqual([]);
    }
    expect(valuesOf(await typeAhead(erin, view, 'jit.form.resource', 'vault'))).toEqual(['jit.search.none']);
    // Bob, an insider, finds them.
    const bobs = await typeAhead(bob, await openForm(t, bob), 'jit.form.resource', 'vault');
    expect(choices(bobs)).toHaveLength(50);

    // A forged choice of a restricted resource is refused inline, and nothing is sent.
    const res = await submit(erin, view, {
      'jit.form.resource': { text: 'Vault production database 1', value: 'vault-proddb-1' },
    });
    expect(inlineErrors(res)).toEqual({
      resource: 'You are not allowed to request access to Vault production database 1.',
    });
    await settle(100);
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
  });

  it('leaves no resource unreachable: a sample of 50 across every group is found first by its id or its name', async () => {
    const view = await openForm(t, bob);
    const sample = catalog.resources.filter((_, i) => i % 40 === 7);
    expect(sample).toHaveLength(50);
    expect(new Set(sample.map((r) => r.group)).size).toBe(40);
    const missed: string[] = [];
    for (const [i, r] of sample.entries()) {
      const query = i % 2 ? r.id : r.name;
      const found = await typeAhead(bob, view, 'jit.form.resource', query);
      if (found.options[0]?.value !== r.id) missed.push(`${query} → ${found.options[0]?.value}`);
    }
    expect(missed).toEqual([]);
  });

  it('flows from a resource chosen in the type-ahead into approvers, durations and the summary, as when it is named, and the request reaches its approver', async () => {
    let view = await openForm(t, carol);
    const [chosen] = (await typeAhead(carol, view, 'jit.form.resource', 'wonka billing 3')).options;
    expect(chosen?.value).toBe('wonka-billing-api-3');
    if (!chosen) return;
    view = await pick(carol, view, 'jit.form.resource', chosen);

    expect(element(view, 'jit.form.resource')).toMatchObject({
      type: 'external_select',
      initial_option: { value: 'wonka-billing-api-3', text: { text: 'Wonka billing API 3' } },
    });
    expect(element(view, 'jit.form.approvers')).toMatchObject({ type: 'multi_static_select' });
    expect(((element(view, 'jit.form.approvers')?.options ?? []) as Option[]).map((o) => o.value)).toEqual([
      'alice@example.com',
      'dave@example.com',
    ]);
    expect(summaryOf(view)).toBe('Wonka billing API 3: choose a duration; approvers: none chosen yet');
    // The very same form as `/request-access wonka-billing-api-3` opens.
    const named = await openForm(t, carol, 'wonka-billing-api-3');
    expect(withoutBlockIds(view)).toEqual(withoutBlockIds(named));

    view = await formAction(t, carol, view, quickDurationAction(view, '4 hours'));
    expect(summaryOf(view)).toContain('Wonka billing API 3 for 4 hours, until');
    const res = await submit(carol, view, {
      'jit.form.approvers': [alice.email],
      'jit.form.justification': 'Refund run for ticket 42',
    });
    expect(res.body, JSON.stringify(res.body)).toBe('');
    const card = await waitForDm(t, alice, 'Wonka billing API 3');
    expect(collectText(card.blocks)).toContain('Refund run for ticket 42');
    expect(findElement(card.blocks, ActionId.approve)).toBeDefined();
  });
});

// ------------------------------------------------------------------ the approver picker

describe('the approver picker of a resource with 150 eligible approvers', () => {
  const resource = catalog.panelResource;
  const [jurgen, zoe] = catalog.panel;

  it('is a multi type-ahead menu that finds approvers by name or email, ignoring case and accents', async () => {
    const view = await openForm(t, erin, resource.id);
    const picker = element(view, 'jit.form.approvers');
    expect(picker).toMatchObject({ type: 'multi_external_select', min_query_length: 0 });
    expect(picker?.options).toBeUndefined();
    expect(hintOf(view, 'jit.form.approvers')).toContain('150 approvers: type part of a name or email.');

    for (const query of ['jurgen', 'JÜRG', 'Jürgen']) {
      const found = await typeAhead(erin, view, 'jit.form.approvers', query);
      expect(found.groups, query).toBeUndefined();
      expect(
        found.options.map((o) => o.text.text.split(' ')[0]),
        query,
      ).toEqual(Array(10).fill('Jürgen'));
    }
    expect(valuesOf(await typeAhead(erin, view, 'jit.form.approvers', 'zoe.moreau@'))).toEqual([
      'zoe.moreau@example.com',
    ]);
    expect((await typeAhead(erin, view, 'jit.form.approvers', 'zoë moreau')).options).toEqual([
      {
        text: { type: 'plain_text', text: 'Zoë Moreau (zoe.moreau@example.com)' },
        value: 'zoe.moreau@example.com',
      },
    ]);
    expect(choices(await typeAhead(erin, view, 'jit.form.approvers', 'schäfer'))).toHaveLength(15);

    const opened = await typeAhead(erin, view, 'jit.form.approvers', '');
    expect(choices(opened)).toHaveLength(99);
    expect(opened.options.at(-1)?.text.text).toBe('51 more match: type more to narrow the search.');
    expect(valuesOf(await typeAhead(erin, view, 'jit.form.approvers', 'nobody'))).toEqual([
      'jit.search.none',
    ]);
    // Only the panel approves this resource: Alice is found nowhere.
    expect(valuesOf(await typeAhead(erin, view, 'jit.form.approvers', 'alice'))).toEqual(['jit.search.none']);
  });

  it('sends the request to the approvers chosen in the type-ahead', async () => {
    let view = await openForm(t, erin, resource.id);
    const first = (await typeAhead(erin, view, 'jit.form.approvers', 'jurgen moreau')).options[0];
    const second = (await typeAhead(erin, view, 'jit.form.approvers', 'zoe.moreau')).options[0];
    expect([first?.value, second?.value]).toEqual([jurgen?.email, zoe?.email]);
    if (!first || !second || !jurgen || !zoe) return;

    view = await pick(erin, view, 'jit.form.approvers', [first, second]);
    expect(element(view, 'jit.form.approvers')?.initial_options).toEqual([first, second]);
    expect(summaryOf(view)).toContain('approvers: Jürgen Moreau, Zoë Moreau');

    view = await formAction(t, erin, view, quickDurationAction(view, '4 hours'));
    const res = await submit(erin, view, { 'jit.form.justification': 'Failover drill' });
    expect(res.body, JSON.stringify(res.body)).toBe('');
    for (const approver of [jurgen, zoe]) {
      const card = await waitForDm(t, approver, 'Zürich production database 1');
      expect(collectText(card.blocks)).toContain('Failover drill');
    }
  });

  it('refuses on submit an approver who is not eligible, and sends nothing', async () => {
    let view = await openForm(t, erin, resource.id);
    view = await formAction(t, erin, view, quickDurationAction(view, '4 hours'));
    const mark = t.fake.checkpoint();
    for (const [forged, error] of [
      [
        { text: 'Alice Approver (alice@example.com)', value: alice.email },
        'Only the approvers of Zürich production database 1 can be chosen.',
      ],
      // The hint option is no approver at all: choosing only it chooses nobody.
      [
        { text: '51 more match: type more to narrow the search.', value: 'jit.search.more' },
        'Choose at least one approver.',
      ],
    ] as const) {
      const res = await submit(erin, view, {
        'jit.form.approvers': [forged],
        'jit.form.justification': 'Let me in',
      });
      expect(inlineErrors(res), forged.value).toEqual({ [blockOf(view, 'jit.form.approvers')]: error });
    }
    await settle(200);
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.calls.filter((c) => c.seq >= mark && c.method === 'chat.postMessage')).toHaveLength(0);
  });
});

// ------------------------------------------------------------------ /request-access <words>

describe('/request-access with words, in a catalogue of 2,000 resources', () => {
  it('preselects the only resource that matches', async () => {
    const view = await openForm(t, carol, 'zürich billing 2');
    expect(element(view, 'jit.form.resource')).toMatchObject({
      type: 'external_select',
      initial_option: { value: 'zurich-billing-api-2' },
    });
    expect(collectText(view.blocks)).not.toContain('match');
    expect(summaryOf(view)).toContain('Zürich billing API 2');
  });

  it('lists the matches when several match, each with its group, and the chosen one fills the form', async () => {
    let view = await openForm(t, carol, 'zurich database');
    expect(collectText(view.blocks)).toContain('10 resources match “zurich database”: choose one below.');
    const picker = element(view, 'jit.form.resource');
    expect(picker?.type).toBe('static_select');
    const options = (picker?.options ?? []) as Option[];
    expect(options.map((o) => o.value).sort()).toEqual(
      [1, 2, 3, 4, 5].flatMap((n) => [`zurich-proddb-${n}`, `zurich-stagedb-${n}`]).sort(),
    );
    expect(options.map((o) => o.text.text)).toContain('Zürich staging database 2 (Zürich Versicherung)');

    view = await formAction(t, carol, view, 'jit.form.resource', {
      selectedOption: 'zurich-stagedb-2',
      values: { 'jit.form.resource': 'zurich-stagedb-2' },
    });
    expect(element(view, 'jit.form.resource')?.initial_option).toMatchObject({ value: 'zurich-stagedb-2' });
    expect(summaryOf(view)).toBe('Zürich staging database 2: choose a duration; approvers: none chosen yet');
  });

  it('says how many match when more match than a list holds, and keeps the type-ahead', async () => {
    const view = await openForm(t, carol, 'database');
    expect(collectText(view.blocks)).toContain(
      '390 resources match “database”: type part of the name in the menu below to narrow them down.',
    );
    expect(element(view, 'jit.form.resource')?.type).toBe('external_select');
    expect(parseMeta(String(view.private_metadata))?.query).toBeUndefined();
  });

  it('says there is no such resource to someone who may not request the one named', async () => {
    const view = await openForm(t, erin, 'vault-proddb-1');
    expect(collectText(view.blocks)).toContain(
      'There is no resource called “vault-proddb-1” that you can request. Choose one below.',
    );
    expect(element(view, 'jit.form.resource')?.initial_option).toBeUndefined();
    expect(element(view, 'jit.form.approvers')).toBeUndefined();
  });
});
