/** The grants dashboard of the home (admins, and a resource's approvers and owners). */
import type { ServiceContext } from '../context.js';
import type { Person } from '../model.js';
import type { HomeSectionView } from '../views/home.js';
import type { Viewer } from '../views/messages.js';
import type { HomeState } from './state.js';

export async function dashboardSection(
  _ctx: ServiceContext,
  _person: Person,
  _state: HomeState,
  _viewer: Viewer,
): Promise<{ section: HomeSectionView; state: HomeState['dashboard'] } | null> {
  return null; // built on the read model (listGrants) once it lands
}
