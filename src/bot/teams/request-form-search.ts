/**
 * The form's type-ahead menus in Teams: what Teams' dynamic search (`Data.Query`, asked through the
 * `application/search` invoke) and the static first page list. The matching itself is the core's
 * (src/core/forms/pickers.ts, the same as Slack's options load): only the resources the person may
 * request, or the chosen resource's eligible approvers, best first, each titled with its group,
 * capped at what a Teams menu shows, with a closing hint when more match or none do.
 */
import { approverOptions, resourceOptions, type SearchOptions } from '../../core/forms/pickers.js';
import {
  type Choice,
  emptyState,
  type FormState,
  type NamesOf,
  type Viewer,
} from '../../core/forms/request-form.js';
import type { ConversationRepo } from '../../domain/ports.js';
import type { AccessService } from '../../domain/service.js';
import { parseReference } from './conversations.js';
import { LIMITS } from './limits.js';
import { Dataset, HintValue, searchSchema } from './request-form-data.js';

/** How many approvers a form names at most; beyond them an approver is listed by email. */
export const NAMED_APPROVERS_MAX = 200;

/**
 * Names for approvers, as Teams last showed each of them to the bot: Teams cannot look a person up
 * by email, so the name is the `user.name` of the person's stored chat reference (kept when they
 * install the app or message it, ./conversations.ts). Someone the bot has never met, a record that
 * cannot be read, and anyone after the first `NAMED_APPROVERS_MAX` are listed by email alone.
 */
export function namesFromChats(conversations: ConversationRepo): NamesOf {
  return async (emails) => {
    const names = new Map<string, string>();
    const asked = emails.slice(0, NAMED_APPROVERS_MAX);
    const records = await Promise.all(asked.map((email) => conversations.get(email).catch(() => null)));
    asked.forEach((email, i) => {
      const record = records[i];
      const name = record ? parseReference(record.reference)?.user?.name?.trim() : undefined;
      if (name) names.set(email, name);
    });
    return names;
  };
}

export const SEARCH_RESPONSE_TYPE = 'application/vnd.microsoft.search.searchResponse';

const flatten = (found: SearchOptions): Choice[] =>
  found.groups.flatMap((g) =>
    g.options.map((o) => ({
      value: o.value,
      label: g.label === 'Other' || g.label === 'Approvers' ? o.label : `${o.label} (${g.label})`,
    })),
  );

/** The matches after the first `skip`, and a closing hint when more match or none do. */
function page(found: SearchOptions, skip = 0): Choice[] {
  const choices = flatten(found).slice(skip);
  if (found.hint)
    choices.push({ value: found.total === 0 ? HintValue.none : HintValue.more, label: found.hint });
  return choices;
}

/** Matches of `query` in `dataset` for the person, from `skip` on, at most `top` with the hint. */
async function matches(
  service: AccessService,
  viewer: Viewer,
  dataset: string,
  query: string,
  skip: number,
  top: number,
  namesOf: NamesOf,
): Promise<Choice[]> {
  // One result is kept for the hint that more match (or none).
  const limit = skip + Math.min(top, LIMITS.searchResults) - 1;
  if (dataset === Dataset.resources) return page(resourceOptions(service, viewer, query, limit), skip);
  if (!dataset.startsWith(Dataset.approversPrefix)) return [];
  const state = emptyState();
  state.resourceId = dataset.slice(Dataset.approversPrefix.length);
  return page(await approverOptions(service, viewer, state, query, limit, namesOf), skip);
}

/** What a type-ahead menu lists before anything is typed (the static choices). */
export async function firstPage(
  service: AccessService,
  viewer: Viewer,
  menu: 'resources' | 'approvers',
  state: FormState,
  namesOf: NamesOf,
): Promise<Choice[]> {
  const limit = LIMITS.searchResults - 1;
  return menu === 'resources'
    ? page(resourceOptions(service, viewer, '', limit))
    : page(await approverOptions(service, viewer, state, '', limit, namesOf));
}

/** The body of the answer to an `application/search` invoke (`value` as Teams sends it, untrusted). */
export async function searchAnswer(
  service: AccessService,
  viewer: Viewer | null,
  value: unknown,
  namesOf: NamesOf,
) {
  const parsed = searchSchema.safeParse(value);
  let results: Choice[] = [];
  if (parsed.success && viewer) {
    const { queryText, dataset, queryOptions } = parsed.data;
    results = await matches(
      service,
      viewer,
      dataset,
      queryText,
      queryOptions.skip,
      queryOptions.top,
      namesOf,
    );
  }
  return {
    statusCode: 200,
    type: SEARCH_RESPONSE_TYPE,
    value: { results: results.map((c) => ({ title: c.label, value: c.value })) },
  };
}
