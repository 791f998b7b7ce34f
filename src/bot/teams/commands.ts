/**
 * The commands the bot answers in its personal chat, typed as plain messages. Teams offers them in
 * the compose box's command menu from the app manifest's `commandLists`
 * (manifests/teams/manifest.json; a test keeps the two the same).
 */
export interface TeamsCommand {
  /** What a person types (case-insensitive), possibly followed by words. */
  title: string;
  /** What the command menu says about it. */
  description: string;
}

export const TEAMS_COMMANDS: readonly TeamsCommand[] = [
  {
    title: 'request access',
    description: 'Request temporary access to a resource, e.g. "request access prod-db"',
  },
  {
    title: 'my access',
    description: 'Your access, requests and history, and the requests waiting for your decision',
  },
  {
    title: 'dashboard',
    description: 'Grants dashboard for admins, approvers and owners: filter, revoke, see details',
  },
  {
    title: 'access settings',
    description: 'Owners: switch JIT access on or off and set its window, e.g. "access settings prod-db"',
  },
  {
    title: 'access report',
    description: 'CSV of grants: "access report [resource | group | user email] [since <date>]"',
  },
  { title: 'help', description: 'What this bot can do' },
];
