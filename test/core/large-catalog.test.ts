/**
 * The request form's resource picker over a catalogue of 2,000 resources in 40 groups
 * (./large-catalog.ts): every resource a person may request can be found by typing its id or its
 * name, and none they may not.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PICKER_LIST_MAX, resourceOptions, type SearchOptions } from '../../src/core/forms/pickers.js';
import { buildForm, emptyState, type NamesOf, type Viewer } from '../../src/core/forms/request-form.js';
import { ManualClock } from '../../src/domain/clock.js';
import { parseAccessConfig } from '../../src/domain/policy.js';
import { PolicySource } from '../../src/domain/policy-source.js';
import { AccessService } from '../../src/domain/service.js';
import { InProcessRunner } from '../../src/jobs/in-process.js';
import { createLogger } from '../../src/log.js';
import { createMemoryStore } from '../../src/store/index.js';
import { type Catalog, largeCatalog } from './large-catalog.js';

const bob: Viewer = { email: 'bob@example.com', name: 'Bob' }; // an insider: may request everything
const erin: Viewer = { email: 'erin@example.com', name: 'Erin' }; // may request all but the restricted group
const namesOf: NamesOf = async () => new Map();

let catalog: Catalog;
let service: AccessService;

beforeAll(() => {
  catalog = largeCatalog({ resources: 2000, groups: 40 });
  const clock = new ManualClock('2026-11-23T09:00:00Z');
  const repos = createMemoryStore().repos;
  service = new AccessService({
    policy: new PolicySource(parseAccessConfig(parseYaml(catalog.yaml)), repos.settings),
    repos,
    scheduler: new InProcessRunner({ clock, retry: { retries: 0 } }),
    connectors: { forResource: () => ({ type: 'test', deliver: async () => {} }) },
    notifier: { notify: async () => {} },
    clock,
    log: createLogger('silent'),
    newId: randomUUID,
    backoffMs: () => 1000,
    reportAfterAttempts: 3,
  });
});

const optionValues = (found: SearchOptions) => found.groups.flatMap((g) => g.options.map((o) => o.value));

describe('a catalogue of 2,000 resources', () => {
  it('has 2,000 resources in 40 groups, 50 of them restricted to insiders', () => {
    expect(catalog.resources).toHaveLength(2000);
    expect(new Set(catalog.resources.map((r) => r.group)).size).toBe(40);
    expect(catalog.resources.filter((r) => r.restricted)).toHaveLength(50);
    expect(service.requestableResources(bob.email)).toHaveLength(2000);
    expect(service.requestableResources(erin.email)).toHaveLength(1950);
  });

  it('is searched, not listed, in the request form', async () => {
    const model = await buildForm(service, erin, emptyState(), namesOf);
    expect(model.resource).toMatchObject({ mode: 'search', count: 1950 });
  });

  it('leaves no resource unreachable: each one comes first when its id or its name is typed', () => {
    const missed: string[] = [];
    for (const r of catalog.resources) {
      for (const query of [r.id, r.name]) {
        const found = resourceOptions(service, bob, query, PICKER_LIST_MAX);
        if (optionValues(found)[0] !== r.id) missed.push(`${query} → ${optionValues(found)[0] ?? 'nothing'}`);
      }
    }
    expect(missed).toEqual([]);
  });

  it('finds each resource by its name typed without accents, in capitals', () => {
    const missed: string[] = [];
    for (const r of catalog.resources) {
      const query = r.name
        .normalize('NFD')
        .replace(/\p{Diacritic}/gu, '')
        .toUpperCase();
      const found = resourceOptions(service, bob, query, PICKER_LIST_MAX);
      if (optionValues(found)[0] !== r.id) missed.push(query);
    }
    expect(missed).toEqual([]);
  });

  it('never offers a resource to someone outside its requesters, whatever they type, and offers every other one', () => {
    const leaked: string[] = [];
    const missed: string[] = [];
    for (const r of catalog.resources) {
      for (const query of [r.id, r.name]) {
        const offered = optionValues(resourceOptions(service, erin, query, PICKER_LIST_MAX));
        if (r.restricted && offered.includes(r.id)) leaked.push(query);
        if (!r.restricted && offered[0] !== r.id) missed.push(query);
      }
    }
    for (const query of [...catalog.groups, '', 'a', 'vault', 'sécurité', 'database']) {
      const found = resourceOptions(service, erin, query, PICKER_LIST_MAX);
      const restricted = optionValues(found).filter((id) => id.startsWith('vault-'));
      if (restricted.length) leaked.push(`${query}: ${restricted.join(', ')}`);
    }
    expect(leaked).toEqual([]);
    expect(missed).toEqual([]);
    expect(resourceOptions(service, erin, 'vault', PICKER_LIST_MAX)).toEqual({
      groups: [],
      total: 0,
      hint: 'No resource you can request matches “vault”.',
    });
  });

  it('groups the matches by their group, best first, and says how many more match', () => {
    const found = resourceOptions(service, bob, 'database', PICKER_LIST_MAX);
    // 2 kinds of database × 5 × 40 groups
    expect(found.total).toBe(400);
    expect(optionValues(found)).toHaveLength(PICKER_LIST_MAX);
    expect(found.hint).toBe('300 more match: type more to narrow the search.');
    const groupOf = new Map(catalog.resources.map((r) => [r.id, r.group]));
    for (const group of found.groups) {
      for (const option of group.options) expect(groupOf.get(option.value), option.value).toBe(group.label);
    }
    expect(new Set(found.groups.map((g) => g.label)).size).toBe(found.groups.length);
  });

  it('finds every resource of a group by the group’s name', () => {
    const found = resourceOptions(service, bob, 'zurich versicherung', PICKER_LIST_MAX);
    expect(found.total).toBe(50);
    expect(found.hint).toBeUndefined();
    expect(found.groups.map((g) => g.label)).toEqual(['Zürich Versicherung']);
    expect(optionValues(found).sort()).toEqual(
      catalog.resources
        .filter((r) => r.group === 'Zürich Versicherung')
        .map((r) => r.id)
        .sort(),
    );
  });
});
