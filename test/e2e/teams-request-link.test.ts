/**
 * The API's signed `requestUrl` for someone the bot reaches in Microsoft Teams (the fake Bot
 * Connector, authentication on): pressing the page's button has the bot send the request form card
 * itself, with the resource chosen, once however often it is pressed, and answers 303 to Teams'
 * deep link into the bot's personal chat; the card is the same form "request access <resource>"
 * gives, so it is sent the same way. `chat.prefer` picks the platform for someone on both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FormInput } from '../../src/bot/teams/request-form-data.js';
import { ActionId } from '../../src/domain/views/model.js';
import { type FakeBotConnector, startFakeBotConnector } from '../support/fake-bot-connector.js';
import { dmContaining, eventually } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';
import { type Card, input, TeamsChat, textsOf } from '../support/teams-client.js';
import { TEAMS_APP_ID, teamsUser } from '../support/teams-system.js';

const TOKEN = 'test-api-token-0123456789abcdef0123456789';
const SECRET = 'test-link-signing-secret-0123456789abcdef';
const PUBLIC_URL = 'https://jit.example.com';
const PROMPT = 'You asked to request access to Sandbox';
// Tom is only on Teams; Alice is on Slack (the fake Slack's alice@example.com) and on Teams.
const TOM = teamsUser('tom', 'Tom Requester', 'Pacific/Auckland');
const ALICE = teamsUser('alice', 'Alice in Teams');

const policy = (prefer?: string) => `
${prefer ? `chat: { prefer: ${prefer} }` : ''}
defaults:
  durations: [PT4H, PT8H]
resources:
  - id: sandbox
    name: Sandbox
    approvers: [tina@example.com]
    policy: { approval: auto }
    connector: { type: log }
  - id: tenant-prod
    name: Tenant production
    approvers: [tina@example.com]
    connector: { type: log }
`;

let t: TestSystem | undefined;
let connector: FakeBotConnector | undefined;
afterEach(async () => {
  await t?.close();
  await connector?.close();
  t = undefined;
  connector = undefined;
});

async function start(opts: { prefer?: string; unauthenticated?: boolean } = {}) {
  connector = await startFakeBotConnector({
    users: [TOM, ALICE],
    ...(opts.unauthenticated ? {} : { auth: { appId: TEAMS_APP_ID } }),
  });
  t = await startTestSystem({
    policy: policy(opts.prefer),
    teams: connector,
    apiToken: TOKEN,
    publicUrl: PUBLIC_URL,
    linkSigningSecret: SECRET,
  });
  const url = `http://127.0.0.1:${t.system.port}/api/messages`;
  const [tom, alice] = [TOM, ALICE].map((u) => new TeamsChat(connector as FakeBotConnector, url, u));
  for (const chat of [tom, alice]) await chat?.install();
  return { t, tom: tom as TeamsChat, alice: alice as TeamsChat };
}

async function requestUrl(sys: TestSystem, email: string, resource: string): Promise<URL> {
  const res = await fetch(
    `http://127.0.0.1:${sys.system.port}/api/v1/access?email=${encodeURIComponent(email)}&resource=${resource}`,
    { headers: { authorization: `Bearer ${TOKEN}` } },
  );
  expect(res.status).toBe(200);
  return new URL(((await res.json()) as { requestUrl: string }).requestUrl);
}

const local = (sys: TestSystem, url: URL) =>
  `http://127.0.0.1:${sys.system.port}${url.pathname}${url.search}`;

const press = (sys: TestSystem, url: URL) =>
  fetch(local(sys, url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: url.searchParams.get('token') ?? '' }).toString(),
    redirect: 'manual',
  });

/** The bot's cards in a chat that came from a request link. */
const promptCards = (chat: TeamsChat) =>
  chat
    .messages()
    .filter((m) => JSON.stringify(m).includes('You asked to request access'))
    .map((m) => (m.attachments as Array<{ content: Card }>)[0]?.content as Card);

describe('a signed request link, in Teams', () => {
  it('sends the request form card itself with the resource chosen, once, and redirects into the bot’s personal chat', async () => {
    const { t, tom } = await start();
    const url = await requestUrl(t, TOM.email ?? '', 'sandbox');
    const page = await fetch(local(t, url));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Continue to Microsoft Teams');
    await t.delivered();
    expect(promptCards(tom)).toEqual([]);

    for (let i = 0; i < 2; i++) {
      const res = await press(t, url);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(
        `https://teams.microsoft.com/l/chat/0/0?users=28:${TEAMS_APP_ID}`,
      );
    }
    await t.delivered();
    const cards = await eventually(() => {
      const found = promptCards(tom);
      expect(found).toHaveLength(1);
      return found;
    });
    const card = cards[0] as Card;
    expect(textsOf(card).join('\n')).toContain(PROMPT);
    expect(input(card, FormInput.resource)?.value).toBe('sandbox');

    // It is the request form: choose a duration, send, and the request is made.
    const { id } = tom.lastCard();
    await tom.press(id, '4 hours');
    const sent = await tom.press(id, 'Send request', {
      [FormInput.justification]: 'Locked out of the sandbox',
    });
    // Sandbox is approved automatically.
    expect(textsOf(sent.card as Card)[0]).toBe('Request approved');
    const requests = await t.store.repos.requests.list({});
    expect(requests.map((r) => [r.resourceId, r.requester.email, r.duration])).toEqual([
      ['sandbox', 'tom@example.com', 'PT4H'],
    ]);
  });

  it('follows chat.prefer for someone on both platforms: Teams when the policy prefers it, Slack when it prefers Slack', async () => {
    const { t, alice } = await start({ prefer: 'teams' });
    const toTeams = await press(t, await requestUrl(t, 'alice@example.com', 'sandbox'));
    expect(toTeams.headers.get('location')).toMatch(
      /^https:\/\/teams\.microsoft\.com\/l\/chat\/0\/0\?users=28:/,
    );
    await t.delivered();
    expect(promptCards(alice)).toHaveLength(1);
    expect(dmContaining(t, USERS.alice, PROMPT)).toBeUndefined();

    await t.close();
    await connector?.close();
    const again = await start({ prefer: 'slack' });
    const toSlack = await press(again.t, await requestUrl(again.t, 'alice@example.com', 'sandbox'));
    expect(toSlack.headers.get('location')).toMatch(/^https:\/\/slack\.com\/app_redirect\?/);
    await again.t.delivered();
    expect(dmContaining(again.t, USERS.alice, PROMPT)).toBeDefined();
    expect(promptCards(again.alice)).toEqual([]);
  });

  it('without an app id (the unsafe local mode) has no deep link: the page says where the form is', async () => {
    const { t, tom } = await start({ unauthenticated: true });
    const res = await press(t, await requestUrl(t, TOM.email ?? '', 'sandbox'));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(
      'waiting for you in your direct messages with JIT Access in Microsoft Teams',
    );
    await t.delivered();
    expect(promptCards(tom)).toHaveLength(1);
  });

  it('answers the "Request access" button (where a plain card went out) with the form, the resource chosen', async () => {
    const { tom } = await start();
    const { id } = await tom.open('request access');
    const pressed = await tom.execute(id, ActionId.requestResource, { value: 'tenant-prod' });
    expect(input(pressed.card as Card, FormInput.resource)?.value).toBe('tenant-prod');
    const bad = await tom.execute(id, ActionId.requestResource, { value: '<script>' });
    expect(bad.card).toBeUndefined();
  });
});
