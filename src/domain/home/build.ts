/**
 * Builds a person's home (src/domain/views/home.ts) from the store, as that person may see it:
 * "Request access", their own access, requests and history, the requests waiting for their
 * decision (approvers; admins see every pending request), and the grants dashboard (admins, and
 * the approvers and owners of a resource, through the read model's visibility rules).
 */
import type { ServiceContext } from '../context.js';
import type { Person } from '../model.js';
import type { HomeView } from '../views/home.js';
import type { Viewer } from '../views/messages.js';
import { HomeActionId } from '../views/model.js';
import { dashboardSection } from './dashboard.js';
import { decisionSection, type Names, personalSections } from './personal.js';
import type { HomeState } from './state.js';

export interface BuiltHome {
  view: HomeView;
  /** The state as shown (pages clamped, the dashboard's next cursor), to keep for the next change. */
  state: HomeState;
}

export async function buildHome(
  ctx: ServiceContext,
  person: Person,
  state: HomeState,
  names: Names = async () => new Map(),
): Promise<BuiltHome> {
  const viewer: Viewer = { now: ctx.clock.now(), ...(person.tz ? { tz: person.tz } : {}) };
  const [personal, decisions, dashboard] = await Promise.all([
    personalSections(ctx, person, state, viewer, names),
    decisionSection(ctx, person, state, viewer),
    dashboardSection(ctx, person, state, viewer),
  ]);
  const [grants, pending, history] = personal;
  const sections = [grants, pending, decisions, dashboard?.section, history].filter(
    (s) => s !== undefined && s !== null,
  );
  return {
    view: {
      title: 'JIT Access',
      lines: ['Ask for temporary access, see what you hold, and act on what waits for you.'],
      actions: [{ id: HomeActionId.requestAccess, label: 'Request access', style: 'primary', value: 'new' }],
      sections,
    },
    state: dashboard ? { ...state, dashboard: dashboard.state } : state,
  };
}
