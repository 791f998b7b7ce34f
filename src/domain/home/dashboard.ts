/**
 * The grants dashboard of the home, for admins and for a resource's approvers and owners: the
 * grants they may see (through the read model, src/domain/queries), newest first, filtered by
 * resource or group, person, status and expiry date, a page at a time. Each row: who, what, since,
 * until, where it stands, Revoke (when the viewer may) and Details (the timeline).
 */
import { DateTime } from 'luxon';
import type { ServiceContext } from '../context.js';
import { isDomainError } from '../errors.js';
import type { Person } from '../model.js';
import { type GrantFilter, type GrantRow, listGrants } from '../queries/grants.js';
import { canSeeResource, viewerOf } from '../queries/visibility.js';
import { canRevokeGrantsOf } from '../roles.js';
import { historyAction } from '../views/history.js';
import {
  FILTER_CHOICES_MAX,
  type HomeChoice,
  type HomeFilter,
  type HomeItem,
  type HomeSectionView,
  showing,
} from '../views/home.js';
import type { Viewer } from '../views/messages.js';
import { HomeActionId, type ViewAction } from '../views/model.js';
import { formatTime } from '../views/time.js';
import { pagerActions } from './personal.js';
import type { DashboardFilters, HomeState } from './state.js';

/** Rows per page of the dashboard. */
export const DASHBOARD_PAGE_SIZE = 10;

const STATUS_LABELS = {
  provisioning: 'Provisioning',
  active: 'Active',
  revoking: 'Revoking',
  ended: 'Ended',
};

/** The read model's filter for the dashboard's; the expiry day ends at midnight in the viewer's zone. */
function grantFilter(filters: DashboardFilters, tz: string | undefined): GrantFilter {
  const out: GrantFilter = {};
  if (filters.resource) out.resource = filters.resource;
  if (filters.group) out.group = filters.group;
  if (filters.user) out.user = filters.user;
  if (filters.status) out.status = filters.status;
  if (filters.expiresBy) {
    const day = DateTime.fromISO(filters.expiresBy, { zone: tz || 'utc' });
    if (day.isValid) out.expiresTo = day.endOf('day').toJSDate();
  }
  return out;
}

function rowItem(ctx: ServiceContext, row: GrantRow, person: Person, viewer: Viewer): HomeItem {
  const at = (d: Date | undefined) => (d ? formatTime(d, viewer.tz) : '—');
  const ended = row.status === 'ended';
  const lines = [
    `${STATUS_LABELS[row.status]} · since ${row.since ? at(row.since) : 'not yet set up'} · ${ended ? 'ended' : 'until'} ${at(row.until)}`,
  ];
  const actions: ViewAction[] = [];
  const resource = ctx.config.resources.find((r) => r.id === row.resourceId);
  const mayRevoke =
    row.holder.email === person.email ||
    (resource ? canRevokeGrantsOf(ctx.config, resource, person.email) : false);
  if (mayRevoke && (row.status === 'active' || row.status === 'provisioning')) {
    actions.push({ id: HomeActionId.revoke, label: 'Revoke', style: 'danger', value: row.id });
  }
  actions.push({ id: HomeActionId.details, label: 'Details', value: row.id });
  return { title: `${row.holder.name} (${row.holder.email}) · ${row.resourceName}`, lines, actions };
}

/** The resources the viewer sees, by group, and the groups themselves, for the resource filter. */
function resourceChoices(
  ctx: ServiceContext,
  email: string,
): { filter: HomeFilter & { kind: 'choice' }; left: number } {
  const viewer = viewerOf(ctx.config, email);
  const seen = ctx.config.resources.filter((r) => viewer.admin || viewer.resources.has(r.id));
  const groups = new Map<string, HomeChoice[]>();
  for (const r of seen) {
    const key = r.group ?? '';
    groups.set(key, [...(groups.get(key) ?? []), { label: r.name, value: `resource:${r.id}` }]);
  }
  const named = [...groups.keys()].filter((g) => g !== '');
  // At most FILTER_CHOICES_MAX choices: the groups first, then resources; the note says what is left.
  let room = FILTER_CHOICES_MAX - 1 - named.length;
  let left = 0;
  const listed = [...groups.entries()].map(([g, options]) => {
    const shown = options.slice(0, Math.max(0, room));
    room -= shown.length;
    left += options.length - shown.length;
    return { title: g || 'Resources', options: shown };
  });
  const filter: HomeFilter & { kind: 'choice' } = {
    kind: 'choice',
    id: HomeActionId.filterResource,
    label: 'Resource',
    placeholder: 'Any resource',
    groups: [
      {
        title: 'Any',
        options: [
          { label: 'Any resource', value: 'any' },
          ...named
            .slice(0, FILTER_CHOICES_MAX - 1)
            .map((g) => ({ label: `All of ${g}`, value: `group:${g}` })),
        ],
      },
      ...listed.filter((g) => g.options.length > 0),
    ],
  };
  return { filter, left };
}

function filtersOf(ctx: ServiceContext, email: string, filters: DashboardFilters) {
  const { filter: resource, left } = resourceChoices(ctx, email);
  const all = resource.groups.flatMap((g) => g.options);
  const wanted = filters.group
    ? `group:${filters.group}`
    : filters.resource
      ? `resource:${filters.resource}`
      : '';
  const selected = all.find((o) => o.value === wanted);
  if (selected) resource.selected = selected;
  const status: HomeFilter = {
    kind: 'choice',
    id: HomeActionId.filterStatus,
    label: 'Status',
    placeholder: 'Any status',
    groups: [
      {
        options: [
          { label: 'Any status', value: 'any' },
          ...Object.entries(STATUS_LABELS).map(([value, label]) => ({ label, value })),
        ],
      },
    ],
  };
  if (filters.status) status.selected = { label: STATUS_LABELS[filters.status], value: filters.status };
  const list: HomeFilter[] = [
    resource,
    {
      kind: 'person',
      id: HomeActionId.filterUser,
      label: 'Person',
      placeholder: 'Anyone',
      ...(filters.user ? { selected: filters.user } : {}),
    },
    status,
    {
      kind: 'date',
      id: HomeActionId.filterExpires,
      label: 'Expires by',
      placeholder: 'Expires by',
      ...(filters.expiresBy ? { selected: filters.expiresBy } : {}),
    },
  ];
  const note = left
    ? `The resource filter lists groups and the first resources; ${left} more are reached through their group.`
    : '';
  return { list, note };
}

/** What the filters say, in words, so the list's note tells what it is a list of. */
function describe(filters: DashboardFilters, ctx: ServiceContext): string {
  const parts: string[] = [];
  if (filters.resource) parts.push(ctx.resource(filters.resource).name);
  if (filters.group) parts.push(`group ${filters.group}`);
  if (filters.user) parts.push(filters.user);
  if (filters.status) parts.push(STATUS_LABELS[filters.status].toLowerCase());
  if (filters.expiresBy) parts.push(`expiring by ${filters.expiresBy}`);
  return parts.length ? `Filtered: ${parts.join(', ')}.` : '';
}

export async function dashboardSection(
  ctx: ServiceContext,
  person: Person,
  state: HomeState,
  viewer: Viewer,
): Promise<{ section: HomeSectionView; state: HomeState['dashboard'] } | null> {
  const who = viewerOf(ctx.config, person.email);
  if (!who.admin && who.resources.size === 0) return null;
  const { filters, cursors } = state.dashboard;
  const shownFilters = filtersOf(ctx, person.email, filters);
  const section: HomeSectionView = {
    id: 'dashboard',
    title: who.admin
      ? 'Grants dashboard (all resources)'
      : 'Grants dashboard (the resources you approve or own)',
    filters: shownFilters.list,
    items: [],
    empty: 'No access matches.',
  };
  if (Object.keys(filters).length) {
    section.filterActions = [{ id: HomeActionId.clearFilters, label: 'Clear filters', value: 'clear' }];
  }
  // Filtered to one resource the viewer answers for: its access history is one press away.
  const shown = filters.resource ? ctx.config.resources.find((r) => r.id === filters.resource) : undefined;
  if (shown && canSeeResource(who, shown.id)) {
    section.filterActions = [...(section.filterActions ?? []), historyAction(shown.id)];
  }
  const cursor = cursors.at(-1);
  try {
    const page = await listGrants(ctx, person.email, grantFilter(filters, viewer.tz), {
      size: DASHBOARD_PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
    });
    section.items = page.rows.map((row) => rowItem(ctx, row, person, viewer));
    const from = cursors.length * DASHBOARD_PAGE_SIZE;
    section.note = [
      describe(filters, ctx),
      showing(from, page.rows.length, page.total) ?? '',
      shownFilters.note,
    ]
      .join(' ')
      .trim();
    if (!section.note) delete section.note;
    const pager = pagerActions('dashboard', cursors.length > 0, page.next !== null);
    if (pager.length) section.pager = pager;
    return { section, state: { filters, cursors, ...(page.next ? { next: page.next } : {}) } };
  } catch (error) {
    // A filter or page the read model refuses (e.g. a resource no longer in the policy): say why.
    if (!isDomainError(error)) throw error;
    section.note = `${error.message} Clear the filters to start again.`;
    section.filterActions = [{ id: HomeActionId.clearFilters, label: 'Clear filters', value: 'clear' }];
    return { section, state: { filters, cursors: [] } };
  }
}
