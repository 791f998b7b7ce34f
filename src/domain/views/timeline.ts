/** A grant's timeline (the read model's), as a neutral view: what happened, when, and by whom. */
import type { GrantTimeline, TimelineEntry } from '../queries/timeline.js';
import { historyAction } from './history.js';
import type { Viewer } from './messages.js';
import type { MessageView } from './model.js';
import { formatTime } from './time.js';

/** Names for the emails a timeline shows, when the platform knows them (else the email). */
export type NameOf = (email: string) => string;

function line(e: TimelineEntry, viewer: Viewer, nameOf: NameOf): string {
  const who = (x: TimelineEntry) => {
    if (x.by === 'system') return 'automatically';
    if (x.by === 'api') return 'through the access API';
    const name = x.byName ?? nameOf(x.by);
    return `by ${name && name !== x.by ? `${name} (${x.by})` : x.by}`;
  };
  const at = (d: Date | undefined) => (d ? formatTime(d, viewer.tz) : '?');
  switch (e.step) {
    case 'requested':
      return `Requested ${who(e)}`;
    case 'extension-requested':
      return `Extension requested ${who(e)}`;
    case 'approved':
      return `Approved ${who(e)}`;
    case 'auto-approved':
      return 'Approved automatically under the policy';
    case 'provisioned':
      return 'Access set up (provisioned)';
    case 'provisioning-failed':
      return `Setting up failed${e.error ? `: ${e.error}` : ''}`;
    case 'reminded':
      return 'Holder reminded of the expiry';
    case 'extended':
      return `Extended ${who(e)}: until ${at(e.to)} (was ${at(e.from)})`;
    case 'used':
      return 'Access used';
    case 'revocation-failed':
      return `Removing failed${e.error ? `: ${e.error}` : ''}`;
    case 'ended-by-holder':
      return `Ended ${who(e)} (the holder)${e.comment ? `. Reason: ${e.comment}` : ''}`;
    case 'revoked':
      return `Revoked ${who(e)}${e.comment ? `. Reason: ${e.comment}` : ''}`;
    case 'expired':
      return 'Expired';
  }
}

/** The people a timeline names without a name of its own: look them up before rendering it. */
export function unnamedIn(t: GrantTimeline): string[] {
  return [...new Set(t.entries.filter((e) => !e.byName && e.by.includes('@')).map((e) => e.by))];
}

export function timelineView(t: GrantTimeline, viewer: Viewer, nameOf: NameOf = (e) => e): MessageView {
  const g = t.grant;
  const fields = [
    { label: 'Who', value: `${g.holder.name} (${g.holder.email})` },
    { label: 'Resource', value: g.resourceName },
    { label: 'Status', value: g.status },
    { label: 'Justification', value: t.justification },
  ];
  if (t.ticket) fields.push({ label: 'Ticket', value: t.ticket });
  return {
    text: `${g.holder.name}'s access to ${g.resourceName}`,
    title: 'Access details',
    fields,
    lines: t.entries.length
      ? t.entries.map((e) => `${formatTime(e.at, viewer.tz)}: ${line(e, viewer, nameOf)}`)
      : ['Nothing recorded yet.'],
    ...(t.resourceHistory
      ? { actions: [historyAction(g.resourceId, `Access history of ${g.resourceName}`)] }
      : {}),
  };
}
