/**
 * The parts of the home everyone has (my active grants with time left, my pending requests, my
 * recent history) and the approvers' queue (requests waiting for my decision; for admins, every
 * pending request they did not make). Each is a page of a list, with a note saying what is shown
 * of how many, so nothing is cut off silently.
 */
import type { ServiceContext } from '../context.js';
import type { AccessRequest, Grant, Person } from '../model.js';
import { effectivePolicy } from '../policy.js';
import { resourceRef } from '../requests.js';
import { canDecideAsAdmin } from '../roles.js';
import { type HomeItem, type HomeSectionId, type HomeSectionView, showing, timeLeft } from '../views/home.js';
import { approvalCard, grantStatus, outcomeLine, requesterStatus, type Viewer } from '../views/messages.js';
import { ActionId, HomeActionId, type ViewAction } from '../views/model.js';
import { formatTime, humanizeDuration } from '../views/time.js';
import type { HomeState } from './state.js';

/** Rows per page of each personal list (the Slack home holds 100 blocks; see the renderer). */
export const PERSONAL_PAGE_SIZE = 5;
/** How many records a personal list reads at most; past this the note says only the newest are listed. */
export const PERSONAL_LIST_LIMIT = 200;

/** A page of `all`, with Previous/Next and the "Showing" note; the page is clamped to what exists. */
export function paged<T>(
  section: HomeSectionId,
  all: T[],
  state: HomeState,
  toItem: (t: T) => HomeItem,
  text: { title: string; empty: string },
): HomeSectionView {
  const pages = Math.max(1, Math.ceil(all.length / PERSONAL_PAGE_SIZE));
  const page = Math.min(state.pages[section] ?? 0, pages - 1);
  const from = page * PERSONAL_PAGE_SIZE;
  const items = all.slice(from, from + PERSONAL_PAGE_SIZE).map(toItem);
  const capped =
    all.length >= PERSONAL_LIST_LIMIT ? ` Only the newest ${PERSONAL_LIST_LIMIT} are listed.` : '';
  const note = showing(from, items.length, all.length);
  const view: HomeSectionView = { id: section, title: text.title, items, empty: text.empty };
  if (note || capped) view.note = `${note ?? ''}${capped}`.trim();
  const pager = pagerActions(section, page > 0, page < pages - 1);
  if (pager.length) view.pager = pager;
  return view;
}

export function pagerActions(section: HomeSectionId, previous: boolean, next: boolean): ViewAction[] {
  const out: ViewAction[] = [];
  if (previous) out.push({ id: HomeActionId.pagePrevious, label: 'Previous', value: section });
  if (next) out.push({ id: HomeActionId.pageNext, label: 'Next', value: section });
  return out;
}

function grantItem(ctx: ServiceContext, g: Grant, viewer: Viewer): HomeItem {
  const resource = resourceRef(ctx.resource(g.resourceId));
  if (g.status !== 'active' || !g.expiresAt) {
    const status = grantStatus(g, resource, viewer, (e) => e);
    return { title: resource.name, lines: status.lines ?? [] };
  }
  const actions: ViewAction[] = [];
  if (effectivePolicy(ctx.config, ctx.resource(g.resourceId), g.holder.email).extensions) {
    actions.push({ id: ActionId.extend, label: 'Request extension', value: g.id });
  }
  actions.push(...(grantStatus(g, resource, viewer, (e) => e).actions ?? []));
  return {
    title: resource.name,
    lines: [`Active until ${formatTime(g.expiresAt, viewer.tz)} (${timeLeft(viewer.now, g.expiresAt)}).`],
    actions,
  };
}

function pendingItem(ctx: ServiceContext, r: AccessRequest, viewer: Viewer, nameOf: (e: string) => string) {
  const view = requesterStatus(r, resourceRef(ctx.resource(r.resourceId)), viewer, nameOf);
  const item: HomeItem = { title: view.title, lines: view.lines ?? [], fields: view.fields ?? [] };
  if (view.actions) item.actions = view.actions;
  return item;
}

function decisionItem(ctx: ServiceContext, r: AccessRequest, viewer: Viewer, asAdmin: boolean): HomeItem {
  const card = approvalCard(r, resourceRef(ctx.resource(r.resourceId)), viewer);
  const item: HomeItem = { title: card.text, fields: card.fields ?? [] };
  if (asAdmin) item.lines = ['You were not chosen for this request: deciding it is an admin decision.'];
  if (card.actions) item.actions = card.actions;
  return item;
}

type HistoryEntry = { at: Date; item: HomeItem };

function historyOfRequest(ctx: ServiceContext, r: AccessRequest, viewer: Viewer): HistoryEntry {
  const name = ctx.resource(r.resourceId).name;
  const what = r.kind === 'extension' ? `Extension of ${name}` : name;
  return {
    at: r.decidedAt ?? r.createdAt,
    item: { title: `${what} (${humanizeDuration(r.duration)})`, lines: [outcomeLine(r, viewer)] },
  };
}

function historyOfGrant(ctx: ServiceContext, g: Grant, viewer: Viewer): HistoryEntry {
  const resource = resourceRef(ctx.resource(g.resourceId));
  const view = grantStatus(g, resource, viewer, (e) => e);
  return {
    at: g.endedAt ?? g.createdAt,
    item: { title: `${resource.name}: access ended`, lines: view.lines ?? [] },
  };
}

/** Display names for emails, as the platform knows them (an email it does not know stands for itself). */
export type Names = (emails: string[]) => Promise<Map<string, string>>;

export async function personalSections(
  ctx: ServiceContext,
  person: Person,
  state: HomeState,
  viewer: Viewer,
  names: Names,
): Promise<HomeSectionView[]> {
  const email = person.email;
  const now = ctx.clock.now();
  const limit = PERSONAL_LIST_LIMIT;
  const [open, ended, mine] = await Promise.all([
    ctx.repos.grants.list({ holderEmail: email, status: ['provisioning', 'active', 'revoking'], limit }),
    ctx.repos.grants.list({ holderEmail: email, status: ['expired', 'revoked'], limit }),
    ctx.repos.requests.list({ requesterEmail: email, limit }),
  ]);
  const pending = mine.filter((r) => r.status === 'pending' && r.decideBy > now);
  const known = await names([...new Set(pending.flatMap((r) => r.approvers))]);
  const nameOf = (email: string) => known.get(email) ?? email;
  const history = [
    ...mine.filter((r) => r.status !== 'pending').map((r) => historyOfRequest(ctx, r, viewer)),
    ...ended.map((g) => historyOfGrant(ctx, g, viewer)),
  ].sort((a, b) => b.at.getTime() - a.at.getTime());
  return [
    paged('grants', open, state, (g) => grantItem(ctx, g, viewer), {
      title: 'My access',
      empty: 'You hold no access right now.',
    }),
    paged('pending', pending, state, (r) => pendingItem(ctx, r, viewer, nameOf), {
      title: 'My pending requests',
      empty: 'You have no request waiting for a decision.',
    }),
    paged('history', history, state, (h) => h.item, {
      title: 'My recent history',
      empty: 'Nothing yet.',
    }),
  ];
}

/** Requests waiting for `person`'s decision; for admins, every pending request but their own. */
export async function decisionSection(
  ctx: ServiceContext,
  person: Person,
  state: HomeState,
  viewer: Viewer,
): Promise<HomeSectionView | null> {
  const email = person.email;
  const now = ctx.clock.now();
  const admin = canDecideAsAdmin(ctx.config, email);
  const approves = ctx.config.resources.some((r) => r.approvers.includes(email));
  if (!admin && !approves) return null;
  const found = await ctx.repos.requests.list({
    status: 'pending',
    ...(admin ? {} : { approverEmail: email }),
    limit: PERSONAL_LIST_LIMIT,
  });
  const waiting = found.filter((r) => r.decideBy > now && r.requester.email !== email);
  return paged(
    'decisions',
    waiting,
    state,
    (r) => decisionItem(ctx, r, viewer, admin && !r.approvers.includes(email)),
    {
      title: admin ? 'Requests waiting for a decision' : 'Waiting for my decision',
      empty: 'No request is waiting for your decision.',
    },
  );
}
