/**
 * The logs of a whole flow: every line of one piece of work carries the same `reqId`, from the
 * inbound Slack request through the domain to the outbox deliveries and the connector calls it
 * causes (the connector is told it as `X-Request-Id`), and no secret appears anywhere, even at
 * `trace` level and in the errors of failing calls.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FormInput } from '../../src/bot/teams/request-form-data.js';
import { createLogger } from '../../src/log.js';
import { startFakeBotConnector } from '../support/fake-bot-connector.js';
import { click, eventually, onlyRequest, requestAccess, waitForDm } from '../support/flows.js';
import { HOOK_SECRET, SIGNING_SECRET, startTestSystem, type TestSystem, USERS } from '../support/system.js';
import { type Card, TeamsChat, textsOf } from '../support/teams-client.js';
import { teamsUser } from '../support/teams-system.js';

const { alice, carol } = USERS;

interface Line {
  msg?: string;
  reqId?: string;
  [key: string]: unknown;
}

let t: TestSystem;
let raw: string[];
const lines = () => raw.map((l) => JSON.parse(l) as Line);
const withMsg = (msg: string) => lines().filter((l) => l.msg === msg);

beforeEach(async () => {
  raw = [];
  const log = createLogger('trace', { write: (s: string) => void raw.push(s) });
  t = await startTestSystem({ log, start: new Date('2026-11-23T09:00:00.000Z') });
});
afterEach(async () => {
  await t.close();
});

describe('logs', () => {
  it('carry one request id from the Slack request through the domain to its deliveries and connector calls', async () => {
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    await waitForDm(t, carol, 'was sent to');
    await t.delivered();
    const [created] = withMsg('request.created');
    const submission = created?.reqId;
    expect(submission).toMatch(/^[0-9a-f-]{36}$/);
    // The approval card and the requester's status went out under the submission's id.
    const deliveries = withMsg('message.delivered').filter((l) => l.reqId === submission);
    expect(deliveries).toHaveLength(2);

    // Alice approves while the connector fails; the retry (a job, later) keeps the click's id.
    t.hooks.setStatus(500);
    await click(t, alice, card, 'jit.request.approve');
    const request = await onlyRequest(t);
    await eventually(async () =>
      expect((await t.store.repos.grants.findByRequestId(request.id))?.attempts).toBe(1),
    );
    const [approved] = withMsg('request.approved');
    const decision = approved?.reqId;
    expect(decision).toBeDefined();
    expect(decision).not.toBe(submission);
    t.hooks.setStatus(200);
    await t.runner.advance(10_000);
    await waitForDm(t, carol, 'is active until');
    await t.delivered();

    expect(withMsg('connector.failed').map((l) => l.reqId)).toEqual([decision]);
    expect(withMsg('grant.activated').map((l) => l.reqId)).toEqual([decision]);
    expect(t.hooks.calls.map((c) => c.headers['x-request-id'])).toEqual([decision, decision]);
    const told = withMsg('message.delivered').filter((l) => l.reqId === decision);
    expect(told.length).toBeGreaterThanOrEqual(3); // cards edited, requester told, access active

    // The sweep, which no request caused, logs under ids of its own.
    const ids = new Set(lines().map((l) => l.reqId));
    expect(ids.has(undefined)).toBe(true); // start-up lines belong to no request
  });

  it('never contain the bot token, the signing secret, a webhook secret or an Authorization header, even at trace level', async () => {
    t.fake.failNext('chat.postMessage', 'invalid_auth', 1);
    t.hooks.setStatus(503);
    await requestAccess(t, carol, { resource: 'staging-db', duration: '1 hour' });
    await eventually(() => expect(withMsg('connector.failed')).toHaveLength(1));
    t.hooks.setStatus(200);
    await t.runner.advance(60_000);
    await waitForDm(t, carol, 'is active until');

    // Whatever else someone logs by mistake is redacted too.
    const log = createLogger('trace', { write: (s: string) => void raw.push(s) });
    log.info(
      {
        headers: { authorization: `Bearer ${t.fake.botToken}`, 'x-slack-signature': 'v0=abc' },
        config: { signingSecret: SIGNING_SECRET, botToken: t.fake.botToken, appPassword: 'teams-pw' },
        connector: { secret: HOOK_SECRET, request: { headers: { Authorization: 'Basic dXNlcjpwdw==' } } },
        token: t.fake.botToken,
      },
      'oops',
    );
    const [oops] = withMsg('oops');
    expect(oops?.headers).toEqual({ authorization: '[redacted]', 'x-slack-signature': '[redacted]' });

    expect(raw.length).toBeGreaterThan(15);
    const all = raw.join('');
    for (const secret of [t.fake.botToken, SIGNING_SECRET, HOOK_SECRET, 'teams-pw', 'dXNlcjpwdw==']) {
      expect(all.includes(secret), `${secret} appears in the logs`).toBe(false);
    }
    // No raw Slack payload either: the verification token Slack puts in every payload never shows.
    expect(all.includes('fake-verification-token'), 'a raw Slack payload appears in the logs').toBe(false);
  });
});

describe('logs of work that came from Teams', () => {
  it('carry the id of the Teams activity through the domain to the cards it sent on both platforms', async () => {
    const tom = teamsUser('tom', 'Tom Teams', 'UTC');
    const tina = teamsUser('tina', 'Tina Teams', 'UTC');
    const connector = await startFakeBotConnector({ users: [tom, tina], auth: { appId: 'logs-app' } });
    const log = createLogger('trace', { write: (s: string) => void raw.push(s) });
    const teams = await startTestSystem({
      log,
      teams: connector,
      policy: `
resources:
  - id: box
    name: Box
    approvers: [alice@example.com, tina@example.com]
    requesters: [tom@example.com]
    connector: { type: log }
`,
    });
    try {
      const url = `http://127.0.0.1:${teams.system.port}/api/messages`;
      const chat = new TeamsChat(connector, url, tom);
      await chat.install();
      await new TeamsChat(connector, url, tina).install();
      const { id } = await chat.open('request access box');
      await chat.press(id, '4 hours');
      const sent = await chat.press(id, 'Send request', {
        [FormInput.approvers]: 'alice@example.com,tina@example.com',
        [FormInput.justification]: 'Traced',
      });
      expect(textsOf(sent.card as Card)[0]).toBe('Request sent');
      await teams.delivered();

      const [created] = withMsg('request.created');
      const reqId = created?.reqId;
      expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
      // Alice's card on Slack, Tina's on Teams and Tom's status, each delivered under that id.
      const delivered = withMsg('message.delivered').filter((l) => l.reqId === reqId);
      expect(delivered.length).toBeGreaterThanOrEqual(3);
      expect(await teams.store.repos.outbox.list({ status: 'sent' })).toHaveLength(delivered.length);
    } finally {
      await teams.close();
      await connector.close();
    }
  });
});

describe('the X-Request-Id header', () => {
  it('is answered on every response: the caller’s own when it looks like an id, otherwise a new one', async () => {
    const url = `http://127.0.0.1:${t.system.port}/healthz`;
    const given = await fetch(url, { headers: { 'x-request-id': 'lb-trace-0001' } });
    expect(given.headers.get('x-request-id')).toBe('lb-trace-0001');
    const fresh = await fetch(url);
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const odd = await fetch(url, { headers: { 'x-request-id': 'not an id <script>' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
