/**
 * The HTTP API under /api/v1 on the app's own server, over real HTTP: grants made through Slack
 * (signed slash commands and form submissions against the fake Slack, provisioned through the
 * webhook connector), then asked about, used, listed and revoked through the API, with good and bad
 * tokens and inputs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Grant } from '../../src/domain/model.js';
import { eventually, requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const TOKEN = 'test-api-token-0123456789abcdef0123456789';
const PUBLIC_URL = 'https://jit.example.com';
const { bob, carol } = USERS;
const admin = { email: 'admin@example.com', name: 'Ada Admin' };

let t: TestSystem;
afterEach(async () => {
  await t.close();
});

function api(path: string, init: RequestInit & { token?: string | null } = {}) {
  const { token = TOKEN, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token !== null) headers.set('authorization', `Bearer ${token}`);
  return fetch(`http://127.0.0.1:${t.system.port}${path}`, { ...rest, headers });
}

const post = (path: string, body: unknown, token?: string | null) =>
  api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(token !== undefined ? { token } : {}),
  });

/** An active grant of `user` on staging-db (auto-approved, provisioned by the webhook connector). */
async function activeGrant(user: { id: string; email: string }): Promise<Grant> {
  await requestAccess(t, user, { resource: 'staging-db', duration: '1 hour' });
  return eventually(async () => {
    const [grant] = await t.store.repos.grants.list({ holderEmail: user.email, status: 'active' });
    expect(grant).toBeDefined();
    return grant as Grant;
  });
}

describe('without API_TOKEN', () => {
  beforeEach(async () => {
    t = await startTestSystem();
  });

  it('the API is off: every /api/v1 path answers 404, whatever token is sent', async () => {
    for (const path of ['/api/v1/access?email=bob@example.com&resource=staging-db', '/api/v1/grants']) {
      const res = await api(path);
      expect(res.status).toBe(404);
    }
    expect((await post('/api/v1/access-events', {})).status).toBe(404);
  });
});

describe('with API_TOKEN', () => {
  beforeEach(async () => {
    t = await startTestSystem({ apiToken: TOKEN, publicUrl: PUBLIC_URL });
  });

  it('says whether a person holds a resource now, and where to ask for it when not', async () => {
    const grant = await activeGrant(bob);
    const held = await api('/api/v1/access?email=BOB@example.com&resource=staging-db');
    expect(held.status).toBe(200);
    expect(await held.json()).toEqual({
      allowed: true,
      grant: { id: grant.id, expiresAt: grant.expiresAt?.toISOString() },
    });
    const notHeld = await (await api('/api/v1/access?email=carol@example.com&resource=staging-db')).json();
    expect(notHeld).toEqual({ allowed: false, grant: null, requestUrl: `${PUBLIC_URL}/request/staging-db` });

    // The request link, served by the bot: how to ask in Slack, and a button into the bot's DM.
    const page = await fetch(`http://127.0.0.1:${t.system.port}/request/staging-db`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/request-access staging-db');
    expect(html).toContain(
      `https://slack.com/app_redirect?team=${t.fake.team.id}&amp;channel=${t.fake.botUserId}`,
    );
    expect((await fetch(`http://127.0.0.1:${t.system.port}/request/%3Cscript%3E`)).status).toBe(404);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['/api/v1/access?resource=staging-db', 'email'],
      ['/api/v1/access?email=not-an-email&resource=staging-db', 'email'],
      ['/api/v1/access?email=bob@example.com', 'resource'],
      ['/api/v1/access?email=bob@example.com&resource=Bad Id', 'resource'],
      ['/api/v1/access?email=bob@example.com&resource=no-such-thing', 'resource'],
      ['/api/v1/grants?status=gone', 'status'],
      ['/api/v1/grants?limit=0', 'limit'],
      ['/api/v1/grants?limit=101', 'limit'],
      ['/api/v1/grants?expiresFrom=yesterday', 'expiresFrom'],
      ['/api/v1/grants?resource=staging-db&group=Acme', 'group'],
      ['/api/v1/grants?colour=blue', 'colour'],
    ];
    for (const [path, field] of cases) {
      const res = await api(path);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { error: string; field: string; message: string };
      expect(body.error, path).toBe('invalid_request');
      expect(body.field, path).toBe(field);
      expect(body.message, path).toContain(field);
    }
    const unknownCursor = await api('/api/v1/grants?cursor=nonsense');
    expect(unknownCursor.status).toBe(400);
  });

  it('records a use of access only while the person held an active grant', async () => {
    const grant = await activeGrant(bob);
    t.clock.advance(60_000);
    const at = t.clock.now().toISOString();
    const ok = await post('/api/v1/access-events', { email: bob.email, resource: 'staging-db', at });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ grantId: grant.id, at });
    const history = await t.system.service.accessHistory(admin, 'staging-db');
    expect(history.entries.map((e) => [e.kind, e.user.email])).toEqual([
      ['used', bob.email],
      ['started', bob.email],
    ]);

    const refused = await post('/api/v1/access-events', { email: carol.email, resource: 'staging-db', at });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: 'no_active_grant' });
    const before = new Date(grant.createdAt.getTime() - 3600_000).toISOString();
    expect(
      (await post('/api/v1/access-events', { email: bob.email, resource: 'staging-db', at: before })).status,
    ).toBe(409);
    const audit = await t.store.repos.audit.list({ type: 'action.refused', actor: 'api' });
    expect(audit.map((e) => e.details)).toEqual([
      { action: 'record-use', code: 'NO_ACTIVE_GRANT' },
      { action: 'record-use', code: 'NO_ACTIVE_GRANT' },
    ]);

    for (const [body, field] of [
      [{ email: bob.email, resource: 'staging-db', at: '2026-01-01T10:00:00' }, 'at'],
      [{ email: bob.email, resource: 'staging-db' }, 'at'],
      [{ email: 'bob', resource: 'staging-db', at }, 'email'],
      [{ email: bob.email, resource: 'staging-db', at, extra: 1 }, 'extra'],
    ] as const) {
      const res = await post('/api/v1/access-events', body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { field: string }).field).toBe(field);
    }
    const notJson = await api('/api/v1/access-events', { method: 'POST', body: 'email=bob' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { field: string }).field).toBe('body');
  });

  it('lists grants with the dashboard filters, a page at a time', async () => {
    const bobs = await activeGrant(bob);
    t.clock.advance(60_000);
    const carols = await activeGrant(carol);
    const all = (await (await api('/api/v1/grants?status=active')).json()) as {
      grants: Array<{ id: string; user: { email: string }; resource: { id: string }; status: string }>;
      total: number;
      next: string | null;
    };
    expect(all.total).toBe(2);
    expect(all.grants.map((g) => g.id)).toEqual([carols.id, bobs.id]);
    expect(all.grants[0]).toMatchObject({
      user: { email: carol.email },
      resource: { id: 'staging-db' },
      status: 'active',
    });

    const first = (await (await api('/api/v1/grants?limit=1')).json()) as typeof all;
    expect(first.grants.map((g) => g.id)).toEqual([carols.id]);
    expect(first.next).not.toBeNull();
    const second = (await (await api(`/api/v1/grants?limit=1&cursor=${first.next}`)).json()) as typeof all;
    expect(second.grants.map((g) => g.id)).toEqual([bobs.id]);
    expect(second.next).toBeNull();

    const byUser = (await (await api(`/api/v1/grants?user=${bob.email}`)).json()) as typeof all;
    expect(byUser.grants.map((g) => g.id)).toEqual([bobs.id]);
    const ended = (await (await api('/api/v1/grants?status=ended,revoking')).json()) as typeof all;
    expect(ended.total).toBe(0);
  });

  it('revokes a grant with a reason, through the connector, telling the holder and keeping the reason', async () => {
    const grant = await activeGrant(bob);
    const res = await post(`/api/v1/grants/${grant.id}/revoke`, { reason: 'Incident 7: credentials leaked' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: grant.id, status: 'revoking' });
    await eventually(async () => {
      expect((await t.store.repos.grants.get(grant.id))?.status).toBe('revoked');
    });
    const revokedHook = t.hooks.calls.find((c) => (c.body as { event?: string }).event === 'grant.revoked');
    expect(revokedHook?.signatureValid).toBe(true);
    await waitForDm(t, bob, 'Incident 7: credentials leaked');
    const timeline = await t.system.service.grantTimeline(admin, grant.id);
    expect(timeline.entries.at(-1)).toMatchObject({
      step: 'revoked',
      by: 'api',
      comment: 'Incident 7: credentials leaked',
    });

    const again = await post(`/api/v1/grants/${grant.id}/revoke`, { reason: 'again' });
    expect(again.status).toBe(409);
    expect((await post('/api/v1/grants/no-such-grant/revoke', { reason: 'x' })).status).toBe(404);
    const noReason = await post(`/api/v1/grants/${grant.id}/revoke`, {});
    expect(noReason.status).toBe(400);
    expect(((await noReason.json()) as { field: string }).field).toBe('reason');
  });
});
