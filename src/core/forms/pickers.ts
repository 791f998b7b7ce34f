/**
 * The pickers of the request form when there are too many choices to list (thousands of
 * resources, hundreds of approvers): type-ahead answers, the same for every platform. Slack asks
 * through its options load URL; Teams asks through `application/search`
 * (src/bot/teams/request-form-search.ts).
 */
import type { ResourceConfig } from '../../domain/policy.js';
import type { AccessService } from '../../domain/service.js';
import type { Choice, FormState, NamesOf, Viewer } from './request-form.js';
import { type Searchable, SearchIndex } from './search.js';

/**
 * A picker lists at most this many choices; beyond it the person searches (Slack's menus hold
 * 100 options, and a longer list is no help to anyone).
 */
export const PICKER_LIST_MAX = 100;

/** The resource the form is about, when the person may choose it (or, extending, holds it). */
export function resourceOf(
  service: AccessService,
  viewer: Viewer,
  state: FormState,
): ResourceConfig | undefined {
  if (!state.resourceId) return undefined;
  if (state.kind === 'extension') return service.findResource(state.resourceId);
  return service.requestableResources(viewer.email).find((r) => r.id === state.resourceId);
}

/** The matches of a `/request-access` search, when they fit one list. */
export function queried(service: AccessService, viewer: Viewer, query: string): Choice[] | undefined {
  const found = resourceOptions(service, viewer, query, PICKER_LIST_MAX);
  if (found.total === 0 || found.total > PICKER_LIST_MAX) return undefined;
  return found.groups.flatMap((g) =>
    g.options.map((o) => ({ ...o, label: g.label === 'Other' ? o.label : `${o.label} (${g.label})` })),
  );
}

/** How an approver is listed: "Name (email)", or the email alone when no name is known. */
export function approverLabel(email: string, names: Map<string, string>): string {
  const name = names.get(email);
  return name && name !== email ? `${name} (${email})` : email;
}

export interface OptionGroup {
  label: string;
  options: Choice[];
}

export interface SearchOptions {
  /** The matches, under their group's heading (ungrouped ones under "Other"). */
  groups: OptionGroup[];
  total: number;
  /** Said when the list was cut or nothing matched. */
  hint?: string;
}

const resourceIndexes = new WeakMap<object, SearchIndex<Searchable & { resource: ResourceConfig }>>();

function resourceIndex(service: AccessService) {
  const key = service.config;
  let index = resourceIndexes.get(key);
  if (!index) {
    index = new SearchIndex(
      service.config.resources.map((r) => ({
        value: r.id,
        label: r.name,
        ...(r.group ? { group: r.group } : {}),
        resource: r,
      })),
    );
    resourceIndexes.set(key, index);
  }
  return index;
}

function grouped(matches: Searchable[]): OptionGroup[] {
  const groups = new Map<string, Choice[]>();
  for (const m of matches) {
    const label = m.group ?? 'Other';
    const list = groups.get(label) ?? [];
    list.push({ value: m.value, label: m.label });
    groups.set(label, list);
  }
  return [...groups].map(([label, options]) => ({ label, options }));
}

function hintFor(query: string, shown: number, total: number, what: string): string | undefined {
  if (total === 0) return `No ${what} matches “${query.slice(0, 50)}”.`;
  if (total > shown) return `${total - shown} more match: type more to narrow the search.`;
  return undefined;
}

/** The resources the person may request that match `query`, best first, at most `limit`. */
export function resourceOptions(
  service: AccessService,
  viewer: Viewer,
  query: string,
  limit: number,
): SearchOptions {
  const allowed = new Set(service.requestableResources(viewer.email).map((r) => r.id));
  const result = resourceIndex(service).search(query, limit, (item) => allowed.has(item.value));
  const hint = hintFor(query, result.matches.length, result.total, 'resource you can request');
  return { groups: grouped(result.matches), total: result.total, ...(hint ? { hint } : {}) };
}

/** The eligible approvers of the resource in `state` that match `query`, best first. */
export async function approverOptions(
  service: AccessService,
  viewer: Viewer,
  state: FormState,
  query: string,
  limit: number,
  namesOf: NamesOf,
): Promise<SearchOptions> {
  const resource = resourceOf(service, viewer, state);
  const eligible = resource ? service.approversFor(resource, viewer.email) : [];
  const names = await namesOf(eligible);
  const index = new SearchIndex(
    eligible.map((email) => ({
      value: email,
      label: approverLabel(email, names),
      keywords: [email],
    })),
  );
  const result = index.search(query, limit);
  const hint = hintFor(query, result.matches.length, result.total, 'approver');
  return {
    groups: [
      { label: 'Approvers', options: result.matches.map((m) => ({ value: m.value, label: m.label })) },
    ],
    total: result.total,
    ...(hint ? { hint } : {}),
  };
}
