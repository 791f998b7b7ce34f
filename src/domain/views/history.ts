/**
 * A resource's access history (issue 7: "every access event with user name, email, and when access
 * started, was extended, was used and ended, newest first"), as a neutral view. Offered to the
 * resource's owners, approvers and admins from the grants dashboard (filtered to the resource) and
 * from a grant's details; the read model (../queries/history.ts) re-checks who may see it.
 */
import { z } from 'zod';
import type { HistoryEntry, HistoryPage } from '../queries/history.js';
import type { NameOf, Viewer } from './messages.js';
import { HomeActionId, type MessageView, type ViewAction } from './model.js';
import { formatTime } from './time.js';

/** What an "Access history" or "Older entries" button carries: the resource, and where the page starts. */
export const historyValueSchema = z
  .object({
    r: z.string().min(1).max(200),
    c: z.string().min(1).max(500).optional(),
  })
  .strict();
export type HistoryValue = z.infer<typeof historyValueSchema>;

/** The button's value, or null when it is not one this module made (untrusted on the way back). */
export function parseHistoryValue(raw: string | undefined): HistoryValue | null {
  if (!raw) return null;
  try {
    const parsed = historyValueSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The button that opens a resource's access history (at `cursor`, for the older entries). */
export function historyAction(resourceId: string, label = 'Access history', cursor?: string): ViewAction {
  return {
    id: HomeActionId.history,
    label,
    value: JSON.stringify({ r: resourceId, ...(cursor ? { c: cursor } : {}) }),
  };
}

const END_REASONS: Record<string, string> = {
  expired: 'access expired',
  'ended-by-holder': 'ended their access',
  'revoked-by-admin': 'access revoked',
  'closed-by-owner': 'access ended: the owners closed the resource',
};

function what(e: HistoryEntry, viewer: Viewer, nameOf: NameOf): string {
  switch (e.kind) {
    case 'started':
      return 'access started';
    case 'extended':
      return e.until ? `access extended until ${formatTime(e.until, viewer.tz)}` : 'access extended';
    case 'used':
      return 'used the access';
    case 'ended': {
      const how = END_REASONS[e.endReason ?? ''] ?? 'access ended';
      if (!e.by || e.by === 'system' || e.by === e.user.email || e.endReason === 'expired') return how;
      const name = nameOf(e.by);
      return `${how} by ${name !== e.by ? `${name} (${e.by})` : e.by}`;
    }
  }
}

/** One line per event, newest first, times in the viewer's zone; "Older entries" when there are more. */
export function historyView(
  page: HistoryPage,
  resource: { id: string; name: string },
  viewer: Viewer,
  opts: { nameOf?: NameOf; newer?: boolean } = {},
): MessageView {
  const nameOf = opts.nameOf ?? ((email: string) => email);
  const lines = page.entries.map(
    (e) => `${formatTime(e.at, viewer.tz)}: ${e.user.name} (${e.user.email}): ${what(e, viewer, nameOf)}`,
  );
  const view: MessageView = {
    text: `Access history of ${resource.name}`,
    title: 'Access history',
    fields: [{ label: 'Resource', value: resource.name }],
    lines: lines.length ? lines : [opts.newer ? 'No older entries.' : 'Nobody has had access yet.'],
    note: 'Newest first: when each person’s access started, was extended, was used and ended.',
  };
  if (page.next) view.actions = [historyAction(resource.id, 'Older entries', page.next)];
  return view;
}
