import type { WebClient } from '@slack/web-api';
import { type Connector, ConnectorError, type ConnectorEvent } from '../domain/ports.js';

/**
 * Slack error codes by which Slack refuses the call for good (a missing group, scope, permission,
 * plan or token, or a holder Slack does not know): retrying cannot help until someone changes the
 * configuration, so these are non-retryable.
 */
export const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'no_such_subteam',
  'permission_denied',
  'missing_scope',
  'not_allowed_token_type',
  'no_permission',
  'paid_teams_only',
  'plan_upgrade_required',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'team_access_not_granted',
  'invalid_users',
  'users_not_found',
]);

export interface SlackUsergroupConnectorOptions {
  client: WebClient;
  usergroupId: string;
  /**
   * Slack user id for an email (e.g. `users.lookupByEmail`). Throws when there is none; a Slack
   * platform error `users_not_found` is a refusal, anything else is retried.
   */
  lookupUserId(email: string): Promise<string>;
}

/**
 * Grants access by membership of a Slack user group.
 *
 * - `grant.activated` / `grant.extended`: add the holder to the group (already a member: success).
 * - `grant.revoked`: remove the holder (not a member: success).
 *
 * Slack refuses to empty a user group (`usergroups.users.update` with no users fails), so when the
 * holder is the last member the group is disabled with `usergroups.disable` instead. Slack keeps the
 * members of a disabled group, so the revoked user stays listed in it; the group grants nothing
 * while disabled (no mentions, no channel defaults), but anything that reads the membership of
 * *disabled* groups will still see them. When a later grant adds someone to a disabled group,
 * those leftover members are dropped (the group is rewritten to the new holder only) before the
 * group is enabled again with `usergroups.enable`: a disabled group is taken to hold no live grants,
 * because this connector only disables a group when its last member is revoked. So do not disable a
 * JIT-managed group by hand while grants are active.
 *
 * Concurrency: `usergroups.users.update` replaces the whole member list, so every change is a
 * read-modify-write (list, change, update). Two deliveries for the same group that interleave can
 * lose one change (both read [A], one writes [A,B], the other [A,C]). This is kept simple on
 * purpose: the window is short, and a lost add/remove is corrected the next time the grant's
 * connector runs. Deployments where many grants on one group start or end at the same moment should
 * serialize deliveries per group. Slack offers no compare-and-swap to do better.
 *
 * Which failures are retried: a Slack error whose code is in `REFUSAL_CODES` (`no_such_subteam`,
 * `permission_denied`, `missing_scope`, `invalid_auth`, `users_not_found` …) is a non-retryable
 * `ConnectorError`, so the domain stops retrying and tells the resource's approvers at once.
 * Everything else is retryable and retried with backoff: rate limits, Slack's own errors
 * (`internal_error`, `fatal_error` …), HTTP errors, network errors, and a failed user lookup that
 * carries no Slack error code.
 */
export class SlackUsergroupConnector implements Connector {
  readonly type = 'slack-usergroup';
  private readonly client: WebClient;
  private readonly usergroupId: string;
  private readonly lookupUserId: (email: string) => Promise<string>;

  constructor(opts: SlackUsergroupConnectorOptions) {
    if (!opts.usergroupId) throw new Error('slack-usergroup connector: usergroupId is empty');
    this.client = opts.client;
    this.usergroupId = opts.usergroupId;
    this.lookupUserId = opts.lookupUserId;
  }

  async deliver(event: ConnectorEvent): Promise<void> {
    const userId = await this.resolveUser(event.grant.user.email);
    switch (event.event) {
      case 'grant.activated':
      case 'grant.extended':
        return this.add(userId);
      case 'grant.revoked':
        return this.remove(userId);
      default: {
        const unknown: never = event.event;
        throw new ConnectorError(
          `slack-usergroup ${this.usergroupId}: unknown event ${String(unknown)}`,
          false,
        );
      }
    }
  }

  private async add(userId: string): Promise<void> {
    const members = await this.listMembers();
    if (!members.includes(userId)) {
      const updated = await this.call('usergroups.users.update', () =>
        this.client.usergroups.users.update({
          usergroup: this.usergroupId,
          users: [...members, userId].join(','),
        }),
      );
      if (!isDisabled(updated.usergroup?.date_delete)) return;
      // The group was disabled: its listed members are leftovers of revoked grants (see above).
      if (members.length > 0) {
        await this.call('usergroups.users.update', () =>
          this.client.usergroups.users.update({ usergroup: this.usergroupId, users: userId }),
        );
      }
      await this.enable();
      return;
    }
    // Already listed. If it is the only member, the group may be disabled (its last grant was
    // revoked and now the same user is granted again): enable it. Slack keeps the member list of a
    // disabled group, and this connector never disables a group with other members in it.
    if (members.length === 1) await this.enable();
  }

  private async remove(userId: string): Promise<void> {
    const members = await this.listMembers();
    if (!members.includes(userId)) return;
    const remaining = members.filter((id) => id !== userId);
    if (remaining.length > 0) {
      await this.call('usergroups.users.update', () =>
        this.client.usergroups.users.update({ usergroup: this.usergroupId, users: remaining.join(',') }),
      );
      return;
    }
    // Last member: Slack cannot empty a group, so disable it instead.
    await this.call(
      'usergroups.disable',
      () => this.client.usergroups.disable({ usergroup: this.usergroupId }),
      ['already_disabled'],
    );
  }

  private async enable(): Promise<void> {
    await this.call(
      'usergroups.enable',
      () => this.client.usergroups.enable({ usergroup: this.usergroupId }),
      ['already_enabled'],
    );
  }

  private async listMembers(): Promise<string[]> {
    const res = await this.call('usergroups.users.list', () =>
      this.client.usergroups.users.list({ usergroup: this.usergroupId, include_disabled: true }),
    );
    return res.users ?? [];
  }

  private async resolveUser(email: string): Promise<string> {
    try {
      const id = await this.lookupUserId(email);
      if (!id) throw new Error('empty user id');
      return id;
    } catch (err) {
      throw new ConnectorError(
        `slack-usergroup ${this.usergroupId}: no Slack user for the grant holder (${slackReason(err)})`,
        retryable(err),
      );
    }
  }

  /** Runs one Slack call; Slack errors become `ConnectorError`s, `tolerated` error codes succeed. */
  private async call<T>(method: string, fn: () => Promise<T>, tolerated: string[] = []): Promise<T | Empty> {
    try {
      return await fn();
    } catch (err) {
      const reason = slackReason(err);
      if (tolerated.includes(reason)) return {};
      throw new ConnectorError(`slack ${method} on ${this.usergroupId} failed: ${reason}`, retryable(err));
    }
  }
}

type Empty = { usergroup?: undefined; users?: undefined };

function isDisabled(dateDelete: number | undefined): boolean {
  return typeof dateDelete === 'number' && dateDelete > 0;
}

/** Retryable unless Slack itself answered with one of `REFUSAL_CODES`. */
function retryable(err: unknown): boolean {
  const code = (err as { data?: { error?: unknown } } | null | undefined)?.data?.error;
  return !(typeof code === 'string' && REFUSAL_CODES.has(code));
}

/** The Slack error code (`permission_denied`, …) or a short description; never a token. */
function slackReason(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as {
      data?: { error?: unknown };
      statusCode?: unknown;
      retryAfter?: unknown;
      original?: { code?: unknown; message?: unknown };
      code?: unknown;
    };
    if (typeof e.data?.error === 'string') return e.data.error;
    if (typeof e.statusCode === 'number') return `HTTP ${e.statusCode}`;
    if (typeof e.retryAfter === 'number') return `rate limited (retry after ${e.retryAfter} s)`;
    if (e.original) {
      const code = typeof e.original.code === 'string' ? e.original.code : undefined;
      return code ? `request failed (${code})` : 'request failed';
    }
  }
  return err instanceof Error ? err.message : String(err);
}
