/**
 * Where a person's home stands: the page of each list and the dashboard's filters. Kept by the
 * platform beside where the home was shown (src/core/home.ts), so a refresh after a change keeps
 * what the person was looking at. Read back with zod: a stored or clicked state is untrusted.
 */
import { z } from 'zod';
import { GRANT_LIST_STATUSES } from '../queries/grants.js';
import { HOME_SECTIONS, type HomeSectionId } from '../views/home.js';

const email = z.string().trim().toLowerCase().email().max(320);
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date is YYYY-MM-DD');

export const dashboardFiltersSchema = z
  .object({
    resource: z.string().min(1).max(200).optional(),
    group: z.string().min(1).max(200).optional(),
    user: email.optional(),
    status: z.enum(GRANT_LIST_STATUSES).optional(),
    /** Expiring on or before this day (in the viewer's zone). */
    expiresBy: day.optional(),
  })
  .strict();
export type DashboardFilters = z.infer<typeof dashboardFiltersSchema>;

const cursor = z.string().min(1).max(500);

export const homeStateSchema = z
  .object({
    /** Zero-based page of each list but the dashboard. */
    pages: z.partialRecord(z.enum(HOME_SECTIONS), z.number().int().min(0).max(10_000)).default({}),
    dashboard: z
      .object({
        filters: dashboardFiltersSchema.default({}),
        /** The cursors of the pages before the one shown (the first page has none). */
        cursors: z.array(cursor).max(1000).default([]),
        /** The cursor of the page after the one shown, when there is one. */
        next: cursor.optional(),
      })
      .default({ filters: {}, cursors: [] }),
  })
  .strict();
export type HomeState = z.infer<typeof homeStateSchema>;

export function initialHomeState(): HomeState {
  return { pages: {}, dashboard: { filters: {}, cursors: [] } };
}

/** A stored state read back; anything unreadable starts afresh. */
export function readHomeState(raw: unknown): HomeState {
  const parsed = homeStateSchema.safeParse(raw);
  return parsed.success ? parsed.data : initialHomeState();
}

/** The state after "Next" or "Previous" on a list. */
export function turnPage(state: HomeState, section: HomeSectionId, way: 'next' | 'previous'): HomeState {
  if (section === 'dashboard') {
    const { cursors, next, filters } = state.dashboard;
    if (way === 'next') {
      if (!next) return state;
      return { ...state, dashboard: { filters, cursors: [...cursors, next] } };
    }
    return { ...state, dashboard: { filters, cursors: cursors.slice(0, -1) } };
  }
  const page = state.pages[section] ?? 0;
  return { ...state, pages: { ...state.pages, [section]: Math.max(0, page + (way === 'next' ? 1 : -1)) } };
}

/** The state with the dashboard's filters changed (back to its first page). */
export function filterDashboard(state: HomeState, filters: DashboardFilters): HomeState {
  return { ...state, dashboard: { filters: dashboardFiltersSchema.parse(filters), cursors: [] } };
}

/**
 * The dashboard's filters from what a form-like surface sends all at once (Teams' card inputs):
 * the resource choice (`resource:<id>`, `group:<name>` or `any`), the status (`any` clears it), a
 * person's email and a day. Empty values clear their filter; null when something is not recognised.
 */
export function filtersFromChoices(input: {
  resource?: string;
  status?: string;
  user?: string;
  expiresBy?: string;
}): DashboardFilters | null {
  const given = (v: string | undefined) => (v?.trim() && v.trim() !== 'any' ? v.trim() : undefined);
  const resource = given(input.resource);
  const wanted: Record<string, string | undefined> = {
    ...(resource?.startsWith('resource:') ? { resource: resource.slice(9) } : {}),
    ...(resource?.startsWith('group:') ? { group: resource.slice(6) } : {}),
    status: given(input.status),
    user: given(input.user),
    expiresBy: given(input.expiresBy),
  };
  if (resource && !resource.startsWith('resource:') && !resource.startsWith('group:')) return null;
  const cleaned = Object.fromEntries(Object.entries(wanted).filter(([, v]) => v !== undefined));
  const parsed = dashboardFiltersSchema.safeParse(cleaned);
  return parsed.success ? parsed.data : null;
}
