/**
 * The API's `requestUrl` with LINK_SIGNING_SECRET set, in Slack, over real HTTP: the signed link
 * from GET /api/v1/access, its page (which sends nothing: link previews fetch with GET), the
 * "Continue to Slack" press (POST) that has the bot send the person a DM with "Request access" and
 * answers 303 into the bot's DM, the button opening the request form with the resource chosen, and
 * the form sent. Tampered, expired and other-resource links, and resources the person may not
 * request, get a page and send nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REQUEST_LINK_TTL_MS, RequestLinks } from '../../src/core/request-links.js';
import { ActionId } from '../../src/domain/views/model.js';
import {
  EXPIRED_TEXT,
  INVALID_TEXT,
  REFUSED_TEXT,
  UNREACHABLE_TEXT,
} from '../../src/http/request-link-pages.js';
import { collectText, type FakeView, findElement, type JsonObject } from '../support/fake-slack.js';
import {
  click,
  dmContaining,
  eventually,
  formAction,
  quickDurationAction,
  submitForm,
  waitForDm,
} from '../support/flows.js';
import { startTestSystem, TEST_POLICY, type TestSystem, USERS } from '../support/system.js';

const TOKEN = 'test-api-token-0123456789abcdef0123456789';
const SECRET = 'test-link-signing-secret-0123456789abcdef';
const PUBLIC_URL = 'https://jit.example.com';
const { carol, erin } = USERS;
const PROMPT = 'You asked to request access to';

/** The test policy and a resource its owners have not opened yet. */
const POLICY = `${TEST_POLICY}
  - id: client-tenant
    name: Client tenant
    approvers: [alice@example.com]
    owners: [alice@example.com]
    ownerControlled: true
    connector: { type: log }
`;

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem({
    policy: POLICY,
    apiToken: TOKEN,
    publicUrl: PUBLIC_URL,
    linkSigningSecret: SECRET,
  });
});
afterEach(async () => {
  await t.close();
});

/** The API's requestUrl for `email` and `resource`. */
async function requestUrl(email: string, resource: string): Promise<URL> {
  const res = await fetch(
    `http://127.0.0.1:${t.system.port}/api/v1/access?email=${encodeURIComponent(email)}&resource=${resource}`,
    { headers: { authorization: `Bearer ${TOKEN}` } },
  );
  expect(res.status).toBe(200);
  const body = (await res.json()) as { allowed: boolean; requestUrl: string };
  expect(body.allowed).toBe(false);
  return new URL(body.requestUrl);
}

/** The same link on this test's server (PUBLIC_URL is where people would reach it). */
const local = (url: URL, path = url.pathname) => `http://127.0.0.1:${t.system.port}${path}${url.search}`;

const open = (url: URL, path?: string) => fetch(local(url, path));

/** Presses the page's button: a form post of the token to the same URL. */
const press = (url: URL, path?: string, token = url.searchParams.get('token') ?? '') =>
  fetch(local(url, path), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });

/** Every message the request links have put in the outbox so far. */
async function prompts() {
  const items = await t.store.repos.outbox.list({ limit: 1000 });
  return items.filter((i) => (i.message as { view?: string }).view === 'request-prompt');
}

function element(view: FakeView, actionId: string): JsonObject | undefined {
  return findElement(view.blocks, actionId)?.element;
}

describe('a signed request link, in Slack', () => {
  it('is bound to the person and the resource, on PUBLIC_URL, and its page sends nothing until pressed', async () => {
    const url = await requestUrl('Carol@Example.com', 'staging-db');
    expect(`${url.origin}${url.pathname}`).toBe(`${PUBLIC_URL}/request/staging-db`);
    expect(url.searchParams.get('token')).toMatch(/^[\w-]+\.[\w-]+$/);

    // A link preview (or the person) opening it: a page with one button, and nothing sent.
    for (let i = 0; i < 2; i++) {
      const page = await open(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await page.text();
      expect(html).toContain('<form method="post">');
      expect(html).toContain('Continue to Slack');
      expect(html).not.toContain('<script');
    }
    await t.delivered();
    expect(await prompts()).toEqual([]);
    expect(dmContaining(t, carol, PROMPT)).toBeUndefined();
  });

  it('pressed, sends one DM with "Request access" (however often it is pressed) and redirects into the bot’s DM', async () => {
    const url = await requestUrl(carol.email, 'staging-db');
    for (let i = 0; i < 2; i++) {
      const res = await press(url);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(
        `https://slack.com/app_redirect?team=${t.fake.team.id}&channel=${t.fake.botUserId}`,
      );
    }
    await t.delivered();
    const dm = await waitForDm(t, carol, PROMPT);
    expect(collectText(dm.blocks ?? [])).toContain('You asked to request access to Staging database');
    const sent = t.fake
      .messagesIn(t.fake.dmChannelFor(carol.id))
      .filter((m) => m.text.includes(PROMPT) || collectText(m.blocks ?? []).includes(PROMPT));
    expect(sent).toHaveLength(1);
    expect(await prompts()).toHaveLength(1);

    // "Request access" opens the form with staging-db chosen (Carol may request two resources).
    const mark = t.fake.checkpoint();
    await click(t, carol, dm, ActionId.requestResource);
    const call = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
    expect(call.response.ok, JSON.stringify(call.response)).toBe(true);
    let view = t.fake.view((call.response.view as FakeView).id) as FakeView;
    expect(element(view, 'jit.form.resource')?.initial_option).toMatchObject({ value: 'staging-db' });

    // And the form goes through as any other: staging-db is approved automatically.
    view = await formAction(t, carol, view, quickDurationAction(view, '1 hour'));
    const res = await submitForm(t, carol, view, { 'jit.form.justification': 'Locked out of staging' });
    expect(res.status).toBe(200);
    expect(res.body, JSON.stringify(res.body)).toBe('');
    const [request] = await eventually(async () => {
      const found = await t.store.repos.requests.list({});
      expect(found).toHaveLength(1);
      return found;
    });
    expect(request).toMatchObject({ resourceId: 'staging-db', requester: { email: carol.email } });
  });

  it('a new link (another call of the API) sends a new DM', async () => {
    expect((await press(await requestUrl(carol.email, 'staging-db'))).status).toBe(303);
    expect((await press(await requestUrl(carol.email, 'staging-db'))).status).toBe(303);
    await t.delivered();
    expect(await prompts()).toHaveLength(2);
  });

  it('refuses a tampered, an expired or another resource’s link with a page, and sends nothing', async () => {
    const url = await requestUrl(carol.email, 'staging-db');
    const token = url.searchParams.get('token') ?? '';
    const [body = '', mac = ''] = token.split('.');
    // The claims changed (to acme-prod), the signature kept; and a signature that is not this key's.
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forgedBody = Buffer.from(JSON.stringify({ ...claims, resource: 'acme-prod' })).toString(
      'base64url',
    );
    const tampered = [`${forgedBody}.${mac}`, `${body}.${mac.slice(0, -2)}AA`, 'nonsense'];
    for (const bad of tampered) {
      const badUrl = new URL(url);
      badUrl.searchParams.set('token', bad);
      const page = await open(badUrl, bad.startsWith(forgedBody) ? '/request/acme-prod' : undefined);
      expect(page.status, bad).toBe(403);
      expect(await page.text()).toContain(INVALID_TEXT);
      const pressed = await press(url, bad.startsWith(forgedBody) ? '/request/acme-prod' : undefined, bad);
      expect(pressed.status, bad).toBe(403);
    }
    // Carol's staging-db link, pointed at acme-prod (which she may request too).
    expect((await open(url, '/request/acme-prod')).status).toBe(403);
    const other = await press(url, '/request/acme-prod');
    expect(other.status).toBe(403);
    expect(await other.text()).toContain(INVALID_TEXT);
    // A press without a token at all.
    const empty = await fetch(local(url), { method: 'POST', redirect: 'manual' });
    expect(empty.status).toBe(403);

    // The same link, too late.
    t.clock.advance(REQUEST_LINK_TTL_MS + 1000);
    const late = await open(url);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain(EXPIRED_TEXT);
    const latePress = await press(url);
    expect(latePress.status).toBe(403);
    expect(await latePress.text()).toContain(EXPIRED_TEXT);

    await t.delivered();
    expect(await prompts()).toEqual([]);
    expect(dmContaining(t, carol, PROMPT)).toBeUndefined();
  });

  it('says only "you cannot request this" for a resource the person may not request: not a requester, closed by its owners, unknown', async () => {
    // Erin is outside acme-prod's requesters; nobody may request client-tenant until its owners open it.
    const links = [await requestUrl(erin.email, 'acme-prod'), await requestUrl(erin.email, 'client-tenant')];
    // A resource no longer in the policy (the API refuses unknown ids, so the link is made directly).
    links.push(
      new URL(new RequestLinks(SECRET, () => t.clock.now().getTime()).url(PUBLIC_URL, erin.email, 'gone')),
    );
    for (const url of links) {
      const page = await open(url);
      expect(page.status, url.pathname).toBe(403);
      const html = await page.text();
      expect(html).toContain(REFUSED_TEXT);
      expect(html).not.toContain('owners');
      const pressed = await press(url);
      expect(pressed.status, url.pathname).toBe(403);
      expect(await pressed.text()).toContain(REFUSED_TEXT);
    }
    await t.delivered();
    expect(await prompts()).toEqual([]);
    expect(dmContaining(t, erin, PROMPT)).toBeUndefined();
    // Each press is audited as a refused request, with why; opening the page only is not.
    const refused = await t.store.repos.audit.list({ type: 'action.refused', actor: erin.email });
    expect(refused.map((e) => [e.resourceId, e.details?.action])).toEqual(
      expect.arrayContaining([
        ['acme-prod', 'request'],
        ['client-tenant', 'request'],
        ['gone', 'request'],
      ]),
    );
    expect(refused).toHaveLength(3);
  });

  it('tells someone no chat platform knows that it cannot reach them, and sends nothing', async () => {
    const url = await requestUrl('stranger@example.com', 'staging-db');
    const pressed = await press(url);
    expect(pressed.status).toBe(409);
    expect(await pressed.text()).toContain(UNREACHABLE_TEXT);
    expect(await prompts()).toEqual([]);
  });
});

describe('without LINK_SIGNING_SECRET', () => {
  it('requestUrl stays the unsigned page that says how to ask, and pressing anything there sends nothing', async () => {
    await t.close();
    t = await startTestSystem({ apiToken: TOKEN, publicUrl: PUBLIC_URL });
    const url = await requestUrl(carol.email, 'staging-db');
    expect(url.href).toBe(`${PUBLIC_URL}/request/staging-db`);
    const page = await open(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/request-access staging-db');
    const posted = await fetch(local(url), { method: 'POST', redirect: 'manual' });
    expect(posted.status).toBe(405);
    expect(await prompts()).toEqual([]);
  });
});
