import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogLevel, WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackUsergroupConnector } from '../../src/connectors/slack-usergroup.js';
import { ConnectorError, type ConnectorEvent, type ConnectorEventName } from '../../src/domain/ports.js';

/**
 * A tiny imitation of the four Slack Web API methods the connector uses, with Slack's rules that
 * matter here: a user group cannot be emptied, and a disabled group keeps its members.
 */
interface Group {
  users: string[];
  disabled: boolean;
}

interface FakeSlack {
  url: string;
  groups: Map<string, Group>;
  calls: Array<{ method: string; params: Record<string, string>; auth: string | undefined }>;
  /** Next call of `method` answers `{ ok: false, error }` (or this HTTP status when a number). */
  failNext(method: string, error: string | number): void;
  close(): Promise<void>;
}

async function startFakeSlack(): Promise<FakeSlack> {
  const groups = new Map<string, Group>();
  const calls: FakeSlack['calls'] = [];
  const failures = new Map<string, string | number>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      calls.push({ method, params, auth: req.headers.authorization });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const failure = failures.get(method);
      if (failure !== undefined) {
        failures.delete(method);
        if (typeof failure === 'number') return send(failure, { ok: false });
        return send(200, { ok: false, error: failure });
      }
      const id = params.usergroup ?? '';
      const group = groups.get(id);
      if (!group) return send(200, { ok: false, error: 'no_such_subteam' });
      const view = () => ({ id, date_delete: group.disabled ? 1_763_888_400 : 0, users: group.users });
      switch (method) {
        case 'usergroups.users.list':
          if (group.disabled && params.include_disabled !== 'true') {
            return send(200, { ok: false, error: 'no_such_subteam' });
          }
          return send(200, { ok: true, users: group.users });
        case 'usergroups.users.update': {
          const users = (params.users ?? '').split(',').filter(Boolean);
          if (users.length === 0) return send(200, { ok: false, error: 'no_users_provided' });
          group.users = users;
          return send(200, { ok: true, usergroup: view() });
        }
        case 'usergroups.disable':
          if (group.disabled) return send(200, { ok: false, error: 'already_disabled' });
          group.disabled = true;
          return send(200, { ok: true, usergroup: view() });
        case 'usergroups.enable':
          if (!group.disabled) return send(200, { ok: false, error: 'already_enabled' });
          group.disabled = false;
          return send(200, { ok: true, usergroup: view() });
        default:
          return send(200, { ok: false, error: 'unknown_method' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    groups,
    calls,
    failNext(method, error) {
      failures.set(method, error);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const TOKEN = 'xoxb-test-token';
const GROUP = 'S0DBA';
const USERS: Record<string, string> = {
  'ada@example.com': 'U0ADA',
  'bob@example.com': 'U0BOB',
  'cy@example.com': 'U0CY',
};

function ev(name: ConnectorEventName, email = 'ada@example.com'): ConnectorEvent {
  return {
    event: name,
    grant: {
      id: 'g_01',
      resourceId: 'prod-db',
      user: { email, name: 'Someone' },
      startsAt: '2026-11-23T09:00:00.000Z',
      expiresAt: '2026-11-23T10:00:00.000Z',
      requestId: 'r_01',
      justification: 'because',
    },
    idempotencyKey: `g_01:${name}`,
  };
}

let slack: FakeSlack;
let connector: SlackUsergroupConnector;

beforeEach(async () => {
  slack = await startFakeSlack();
  const client = new WebClient(TOKEN, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });
  connector = new SlackUsergroupConnector({
    client,
    usergroupId: GROUP,
    lookupUserId: async (email) => {
      const id = USERS[email];
      if (!id) throw new Error(`users_not_found`);
      return id;
    },
  });
});

afterEach(async () => {
  await slack.close();
});

function group(): Group {
  const g = slack.groups.get(GROUP);
  if (!g) throw new Error('no group');
  return g;
}

function methods(): string[] {
  return slack.calls.map((c) => c.method);
}

async function failure(promise: Promise<unknown>): Promise<ConnectorError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ConnectorError);
    return err as ConnectorError;
  }
  throw new Error('expected a ConnectorError');
}

describe('SlackUsergroupConnector', () => {
  it('adds the holder on grant.activated, keeping the other members', async () => {
    slack.groups.set(GROUP, { users: ['U0BOB'], disabled: false });
    await connector.deliver(ev('grant.activated'));
    expect(group()).toEqual({ users: ['U0BOB', 'U0ADA'], disabled: false });
    expect(slack.calls).toEqual([
      {
        method: 'usergroups.users.list',
        params: { usergroup: GROUP, include_disabled: 'true' },
        auth: `Bearer ${TOKEN}`,
      },
      {
        method: 'usergroups.users.update',
        params: { usergroup: GROUP, users: 'U0BOB,U0ADA' },
        auth: `Bearer ${TOKEN}`,
      },
    ]);
  });

  it('adds the holder on grant.extended too', async () => {
    slack.groups.set(GROUP, { users: ['U0BOB'], disabled: false });
    await connector.deliver(ev('grant.extended'));
    expect(group().users).toEqual(['U0BOB', 'U0ADA']);
  });

  it('succeeds without writing when the holder is already a member', async () => {
    slack.groups.set(GROUP, { users: ['U0ADA', 'U0BOB'], disabled: false });
    await connector.deliver(ev('grant.activated'));
    await connector.deliver(ev('grant.extended'));
    expect(group()).toEqual({ users: ['U0ADA', 'U0BOB'], disabled: false });
    expect(methods()).toEqual(['usergroups.users.list', 'usergroups.users.list']);
  });

  it('stays idempotent when the holder is the only member of an enabled group', async () => {
    slack.groups.set(GROUP, { users: ['U0ADA'], disabled: false });
    await connector.deliver(ev('grant.extended'));
    expect(group()).toEqual({ users: ['U0ADA'], disabled: false });
    expect(methods()).not.toContain('usergroups.users.update');
  });

  it('removes the holder on grant.revoked, keeping the other members', async () => {
    slack.groups.set(GROUP, { users: ['U0BOB', 'U0ADA', 'U0CY'], disabled: false });
    await connector.deliver(ev('grant.revoked'));
    expect(group()).toEqual({ users: ['U0BOB', 'U0CY'], disabled: false });
    expect(slack.calls[1]).toMatchObject({
      method: 'usergroups.users.update',
      params: { usergroup: GROUP, users: 'U0BOB,U0CY' },
    });
  });

  it('succeeds without writing when the holder is not a member', async () => {
    slack.groups.set(GROUP, { users: ['U0BOB'], disabled: false });
    await connector.deliver(ev('grant.revoked'));
    expect(group()).toEqual({ users: ['U0BOB'], disabled: false });
    expect(methods()).toEqual(['usergroups.users.list']);
  });

  it('disables the group instead of emptying it when the last member is revoked', async () => {
    slack.groups.set(GROUP, { users: ['U0ADA'], disabled: false });
    await connector.deliver(ev('grant.revoked'));
    expect(group().disabled).toBe(true);
    expect(methods()).toEqual(['usergroups.users.list', 'usergroups.disable']);

    // A retry of the same revocation is still a success.
    await connector.deliver(ev('grant.revoked'));
    expect(group().disabled).toBe(true);
  });

  it('re-enables a disabled group for a new holder, dropping the revoked leftover member', async () => {
    slack.groups.set(GROUP, { users: ['U0ADA'], disabled: false });
    await connector.deliver(ev('grant.revoked', 'ada@example.com'));
    slack.calls.length = 0;

    await connector.deliver(ev('grant.activated', 'bob@example.com'));
    expect(group()).toEqual({ users: ['U0BOB'], disabled: false });
    expect(methods()).toEqual([
      'usergroups.users.list',
      'usergroups.users.update',
      'usergroups.users.update',
      'usergroups.enable',
    ]);
  });

  it('re-enables a disabled group when its leftover member is granted again', async () => {
    slack.groups.set(GROUP, { users: ['U0ADA'], disabled: false });
    await connector.deliver(ev('grant.revoked'));
    await connector.deliver(ev('grant.activated'));
    expect(group()).toEqual({ users: ['U0ADA'], disabled: false });
  });

  it('turns Slack errors into retryable ConnectorErrors without the token', async () => {
    slack.groups.set(GROUP, { users: ['U0BOB'], disabled: false });
    slack.failNext('usergroups.users.update', 'internal_error');
    const err = await failure(connector.deliver(ev('grant.activated')));
    expect(err.message).toBe(`slack usergroups.users.update on ${GROUP} failed: internal_error`);
    expect(err.retryable).toBe(true);
    expect(err.message).not.toContain(TOKEN);
    expect(group().users).toEqual(['U0BOB']);
  });

  it.each(['permission_denied', 'missing_scope', 'invalid_auth', 'invalid_users'])(
    'turns Slack’s refusal %s into a non-retryable ConnectorError',
    async (code) => {
      slack.groups.set(GROUP, { users: ['U0BOB'], disabled: false });
      slack.failNext('usergroups.users.update', code);
      const err = await failure(connector.deliver(ev('grant.activated')));
      expect(err.message).toBe(`slack usergroups.users.update on ${GROUP} failed: ${code}`);
      expect(err.retryable).toBe(false);
      expect(err.message).not.toContain(TOKEN);
    },
  );

  it('turns a failed read into a ConnectorError', async () => {
    slack.groups.set(GROUP, { users: ['U0ADA'], disabled: false });
    slack.failNext('usergroups.users.list', 'ratelimited');
    const err = await failure(connector.deliver(ev('grant.revoked')));
    expect(err.message).toContain('usergroups.users.list');
    expect(err.message).toContain('ratelimited');
    expect(err.retryable).toBe(true);
  });

  it('turns a failed disable into a ConnectorError', async () => {
    slack.groups.set(GROUP, { users: ['U0ADA'], disabled: false });
    slack.failNext('usergroups.disable', 'permission_denied');
    const err = await failure(connector.deliver(ev('grant.revoked')));
    expect(err.message).toBe(`slack usergroups.disable on ${GROUP} failed: permission_denied`);
    expect(group()).toEqual({ users: ['U0ADA'], disabled: false });
  });

  it('turns an unknown group into a non-retryable ConnectorError', async () => {
    const err = await failure(connector.deliver(ev('grant.activated')));
    expect(err.message).toContain('no_such_subteam');
    expect(err.retryable).toBe(false);
  });

  it('turns HTTP errors into ConnectorErrors', async () => {
    slack.groups.set(GROUP, { users: [], disabled: false });
    slack.failNext('usergroups.users.list', 500);
    const err = await failure(connector.deliver(ev('grant.activated')));
    expect(err.message).toBe(`slack usergroups.users.list on ${GROUP} failed: HTTP 500`);
    expect(err.retryable).toBe(true);
  });

  it('turns an unreachable Slack into a ConnectorError', async () => {
    slack.groups.set(GROUP, { users: [], disabled: false });
    await slack.close();
    const err = await failure(connector.deliver(ev('grant.activated')));
    expect(err.message).toMatch(/^slack usergroups\.users\.list on S0DBA failed: request failed/);
    expect(err.retryable).toBe(true);
    slack = await startFakeSlack();
  });

  it('turns a failed user lookup into a ConnectorError without calling Slack', async () => {
    slack.groups.set(GROUP, { users: ['U0BOB'], disabled: false });
    const err = await failure(connector.deliver(ev('grant.activated', 'nobody@example.com')));
    expect(err.message).toContain('no Slack user');
    expect(err.retryable).toBe(true); // a plain error: it may be a passing fault
    expect(slack.calls).toHaveLength(0);
  });

  it('turns Slack’s users_not_found from the lookup into a non-retryable ConnectorError', async () => {
    const client = new WebClient(TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
    const strict = new SlackUsergroupConnector({
      client,
      usergroupId: GROUP,
      lookupUserId: async () => {
        // the shape of @slack/web-api's platform error
        throw Object.assign(new Error('An API error occurred: users_not_found'), {
          code: 'slack_webapi_platform_error',
          data: { ok: false, error: 'users_not_found' },
        });
      },
    });
    const err = await failure(strict.deliver(ev('grant.activated')));
    expect(err.message).toBe(
      `slack-usergroup ${GROUP}: no Slack user for the grant holder (users_not_found)`,
    );
    expect(err.retryable).toBe(false);
    expect(slack.calls).toHaveLength(0);
  });
});
