/**
 * The App Home tab in Slack: shown when the person opens it, and again after each click in it
 * (a page, a filter, a decision, a revocation). What it holds is the neutral home
 * (src/domain/home); which page and filters it stands at is kept by src/core/home.ts. Every value
 * a click carries is untrusted: parsed here, and the domain re-checks what the person may see or do.
 */
import { z } from 'zod';
import { DomainError } from '../../../domain/errors.js';
import {
  type DashboardFilters,
  dashboardFiltersSchema,
  filterDashboard,
  type HomeState,
  turnPage,
} from '../../../domain/home/state.js';
import { MAX_REVOKE_REASON, REVOKE_REASON_INPUT, revokeForm } from '../../../domain/views/forms.js';
import { historyView, parseHistoryValue } from '../../../domain/views/history.js';
import { HOME_SECTIONS } from '../../../domain/views/home.js';
import { HomeActionId } from '../../../domain/views/model.js';
import { timelineView, unnamedIn } from '../../../domain/views/timeline.js';
import type { SlackDeps } from '../deps.js';
import type { SlackPerson } from '../directory.js';
import { FormIds } from '../ids.js';
import { buildFormModal, buildInfoModal } from '../modal.js';
import { formInput, idValue, parseMeta } from './actions.js';

/** Shows `person` their home, after `change` to where it stood. */
export async function showHome(
  deps: SlackDeps,
  person: SlackPerson,
  change?: (state: HomeState) => HomeState,
): Promise<void> {
  if (!deps.home) return;
  await deps.home.homes.show(deps.home.surface, person, change);
}

const pageValue = z.enum(HOME_SECTIONS);

export async function turnHomePage(
  deps: SlackDeps,
  person: SlackPerson,
  way: 'next' | 'previous',
  value: unknown,
): Promise<void> {
  const parsed = pageValue.safeParse(value);
  if (!parsed.success)
    throw new DomainError('INVALID_INPUT', 'That button was not recognised, so nothing was changed.');
  const section = parsed.data;
  await showHome(deps, person, (s) => turnPage(s, section, way));
}

/** A filter change from the dashboard: `any` (or nothing) clears that filter. */
export interface FilterInput {
  actionId: string;
  /** The chosen option's value (resource, status). */
  option?: string;
  /** The chosen Slack user (person filter). */
  userId?: string;
  /** The chosen day, YYYY-MM-DD. */
  date?: string;
}

export async function filterHome(deps: SlackDeps, person: SlackPerson, input: FilterInput): Promise<void> {
  const patch = await filterPatch(deps, input);
  await showHome(deps, person, (s) => {
    const wanted = input.actionId === HomeActionId.clearFilters ? {} : { ...s.dashboard.filters, ...patch };
    const cleaned = Object.fromEntries(Object.entries(wanted).filter(([, v]) => v !== undefined));
    const parsed = dashboardFiltersSchema.safeParse(cleaned);
    if (!parsed.success)
      throw new DomainError('INVALID_INPUT', 'That filter was not recognised, so nothing was changed.');
    return filterDashboard(s, parsed.data);
  });
}

async function filterPatch(
  deps: SlackDeps,
  input: FilterInput,
): Promise<Partial<Record<keyof DashboardFilters, string | undefined>>> {
  const option = input.option && input.option !== 'any' ? input.option : undefined;
  switch (input.actionId) {
    case HomeActionId.filterResource: {
      if (option?.startsWith('group:')) return { group: option.slice(6), resource: undefined };
      if (option?.startsWith('resource:')) return { resource: option.slice(9), group: undefined };
      return { resource: undefined, group: undefined };
    }
    case HomeActionId.filterStatus:
      return { status: option };
    case HomeActionId.filterUser: {
      if (!input.userId) return { user: undefined };
      const chosen = await deps.directory.person(input.userId);
      return { user: chosen.email };
    }
    case HomeActionId.filterExpires:
      return { expiresBy: input.date || undefined };
    default:
      return {};
  }
}

const revokeMetaSchema = z.object({ grantId: idValue });

/** Revoke on the dashboard: asks for confirmation and an optional reason, if the clicker may revoke. */
export async function startRevoke(
  deps: SlackDeps,
  person: SlackPerson,
  grantId: string,
  triggerId: string,
): Promise<void> {
  const refusal = await deps.service.checkEndAccess(grantId, person);
  if (refusal) throw refusal;
  const grant = await deps.service.getGrant(grantId);
  if (!grant) return;
  const resource = deps.service.findResource(grant.resourceId);
  await deps.client.views.open({
    trigger_id: triggerId,
    view: buildFormModal(
      revokeForm(grant.holder.name, resource?.name ?? grant.resourceId),
      FormIds.revokeCallback,
      JSON.stringify({ grantId }),
    ),
  });
}

export function parseRevokeMeta(raw: string | undefined): z.infer<typeof revokeMetaSchema> | null {
  return parseMeta(raw, revokeMetaSchema);
}

export function revokeReason(state: unknown): string | undefined {
  return formInput(state, REVOKE_REASON_INPUT, MAX_REVOKE_REASON);
}

/** Details: the grant's timeline, in a modal, times in the viewer's zone; refused (audited) unless they may see it. */
export async function showDetails(
  deps: SlackDeps,
  person: SlackPerson,
  grantId: string,
  triggerId: string,
): Promise<void> {
  const timeline = await deps.service.grantTimeline(person, grantId);
  const names = await deps.directory.names(unnamedIn(timeline));
  const viewer = { now: deps.service.now(), ...(person.tz ? { tz: person.tz } : {}) };
  const view = timelineView(timeline, viewer, (email) => names.get(email) ?? email);
  await deps.client.views.open({ trigger_id: triggerId, view: buildInfoModal(view) });
}

/** Where an "Access history" press was made: the App Home, a modal (a grant's details), or the history itself. */
export interface HistoryPress {
  triggerId: string;
  value: string | undefined;
  /** The modal the button was in, if any. */
  view?: { id: string; callbackId?: string };
}

/**
 * A resource's access history in a modal, newest first, times in the viewer's zone; refused
 * (audited) unless they are its owner, approver or an admin. From the home it opens a modal; from a
 * grant's details it is pushed over them; "Older entries" turns the history's own page in place.
 */
export async function showHistory(deps: SlackDeps, person: SlackPerson, press: HistoryPress): Promise<void> {
  const wanted = parseHistoryValue(press.value);
  if (!wanted)
    throw new DomainError('INVALID_INPUT', 'That button was not recognised, so nothing was changed.');
  const resource = deps.service.findResource(wanted.r);
  if (!resource) throw new DomainError('RESOURCE_UNKNOWN', 'There is no such resource.');
  const page = await deps.service.accessHistory(person, resource.id, wanted.c ? { cursor: wanted.c } : {});
  const names = await deps.directory.names([
    ...new Set(page.entries.flatMap((e) => (e.by?.includes('@') ? [e.by] : []))),
  ]);
  const viewer = { now: deps.service.now(), ...(person.tz ? { tz: person.tz } : {}) };
  const view = buildInfoModal(
    historyView(page, resource, viewer, {
      nameOf: (email) => names.get(email) ?? email,
      newer: Boolean(wanted.c),
    }),
    FormIds.historyCallback,
  );
  if (press.view?.callbackId === FormIds.historyCallback) {
    await deps.client.views.update({ view_id: press.view.id, view });
  } else if (press.view) {
    await deps.client.views.push({ trigger_id: press.triggerId, view });
  } else {
    await deps.client.views.open({ trigger_id: press.triggerId, view });
  }
}
