import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import {
  App,
  type BlockAction,
  type ButtonAction,
  type Logger,
  LogLevel,
  type SlashCommand,
} from '@slack/bolt';
import type { ActionsBlock } from '@slack/types';
import { ErrorCode, type WebAPIPlatformError, WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cloneJson, type FakeSlack, startFakeSlack } from './fake-slack.js';
import { createSlackSender, type SlackSender, signSlackRequest } from './slack-requests.js';

const ALICE = {
  id: 'U0ALICE',
  name: 'alice',
  realName: 'Alice Archer',
  email: 'alice@example.com',
  tz: 'Europe/London',
};
const BOB = {
  id: 'U0BOB',
  name: 'bob',
  realName: 'Bob Baker',
  email: 'bob@example.com',
  tz: 'America/New_York',
};
const GONE = { ...BOB, id: 'U0GONE', name: 'gone', email: 'gone@example.com', deleted: true };

/** WebClient logs Slack's response_metadata messages at error level; these tests provoke them on purpose. */
const quietLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

function webClient(fake: FakeSlack, token = fake.botToken): WebClient {
  return new WebClient(token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger: quietLogger });
}

async function platformError(promise: Promise<unknown>): Promise<WebAPIPlatformError> {
  try {
    await promise;
  } catch (error) {
    const e = error as WebAPIPlatformError;
    if (e.code === ErrorCode.PlatformError) return e;
    throw error;
  }
  throw new Error('expected the call to fail');
}

function button(text: string): ActionsBlock {
  return {
    type: 'actions',
    block_id: 'decide',
    elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text }, value: 'req-1' }],
  };
}

describe('fake Slack Web API, through a real WebClient', () => {
  let fake: FakeSlack;
  let client: WebClient;

  beforeAll(async () => {
    fake = await startFakeSlack({
      team: { id: 'T0TEST', name: 'Test Team' },
      users: [ALICE, BOB, GONE],
      usergroups: [{ id: 'S0ONCALL', handle: 'oncall', users: [BOB.id] }],
    });
    client = webClient(fake);
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    fake.reset();
  });

  it('answers auth.test with the bot identity Bolt needs', async () => {
    const result = await client.auth.test();
    expect(result).toMatchObject({
      ok: true,
      team_id: 'T0TEST',
      user_id: fake.botUserId,
      bot_id: fake.botId,
    });
    expect(fake.callsTo('auth.test')).toHaveLength(1);
  });

  it('refuses a wrong bot token with invalid_auth and still records the call', async () => {
    const stranger = webClient(fake, 'xoxb-wrong');
    const error = await platformError(stranger.auth.test());
    expect(error.data.error).toBe('invalid_auth');
    expect(fake.calls[0]).toMatchObject({ method: 'auth.test', token: 'xoxb-wrong' });
  });

  it('returns users with profile email and the time zone offset', async () => {
    const result = await client.users.info({ user: ALICE.id });
    expect(result.user).toMatchObject({
      id: ALICE.id,
      name: 'alice',
      real_name: 'Alice Archer',
      tz: 'Europe/London',
      is_bot: false,
      deleted: false,
      profile: { email: 'alice@example.com', real_name: 'Alice Archer' },
    });
    expect([0, 3600]).toContain(result.user?.tz_offset);
    expect((await platformError(client.users.info({ user: 'U0NOBODY' }))).data.error).toBe('user_not_found');
  });

  it('finds users by email but not deactivated or unknown ones', async () => {
    const found = await client.users.lookupByEmail({ email: 'BOB@example.com' });
    expect(found.user?.id).toBe(BOB.id);
    const unknown = await platformError(client.users.lookupByEmail({ email: 'nobody@example.com' }));
    expect(unknown.data.error).toBe('users_not_found');
    const deactivated = await platformError(client.users.lookupByEmail({ email: GONE.email }));
    expect(deactivated.data.error).toBe('users_not_found');
  });

  it('opens a stable DM, posts to it and updates the message in place', async () => {
    const opened = await client.conversations.open({ users: ALICE.id });
    expect(opened.channel?.id).toBe(fake.dmChannelFor(ALICE.id));
    const posted = await client.chat.postMessage({
      channel: opened.channel?.id ?? '',
      text: 'Request pending',
      blocks: [button('Approve')],
    });
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.callsTo('chat.postMessage')[0]?.args.blocks).toEqual([button('Approve')]);

    await client.chat.update({
      channel: posted.channel ?? '',
      ts: posted.ts ?? '',
      text: 'Approved',
      blocks: [],
    });
    const message = fake.lastMessageTo(ALICE.id);
    expect(message).toMatchObject({ ts: posted.ts, text: 'Approved', blocks: [] });
    expect(message?.edited).toBeDefined();

    const missing = await platformError(
      client.chat.update({ channel: posted.channel ?? '', ts: '1.000000', text: 'x' }),
    );
    expect(missing.data.error).toBe('message_not_found');
    const nowhere = await platformError(client.chat.postMessage({ channel: 'C0NOWHERE', text: 'x' }));
    expect(nowhere.data.error).toBe('channel_not_found');
  });

  it('gives each message a unique, increasing ts', async () => {
    const a = await client.chat.postMessage({ channel: ALICE.id, text: 'one' });
    const b = await client.chat.postMessage({ channel: ALICE.id, text: 'two' });
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    expect(fake.messagesIn(fake.dmChannelFor(ALICE.id)).map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('refuses a button text over 75 characters with invalid_blocks', async () => {
    const error = await platformError(
      client.chat.postMessage({ channel: ALICE.id, text: 'x', blocks: [button('A'.repeat(76))] }),
    );
    expect(error.data.error).toBe('invalid_blocks');
    expect((error.data as { errors?: string[] }).errors).toEqual([
      'must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]',
    ]);
  });

  it('refuses too many blocks, duplicate block ids and empty section text', async () => {
    const many = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    const tooMany = await platformError(
      client.chat.postMessage({ channel: ALICE.id, text: 'x', blocks: many }),
    );
    expect(tooMany.data.error).toBe('invalid_blocks');
    const dup = await platformError(
      client.chat.postMessage({
        channel: ALICE.id,
        text: 'x',
        blocks: [
          { type: 'section', block_id: 'a', text: { type: 'mrkdwn', text: '' } },
          { type: 'divider', block_id: 'a' },
        ],
      }),
    );
    expect((dup.data as { errors?: string[] }).errors).toEqual([
      'must be more than 0 characters [json-pointer:/blocks/0/text/text]',
      'duplicate block_id: a [json-pointer:/blocks/1/block_id]',
    ]);
  });

  it('accepts a trigger id for views.open once, then refuses it', async () => {
    const view = {
      type: 'modal' as const,
      callback_id: 'request_access',
      title: { type: 'plain_text' as const, text: 'Request access' },
      submit: { type: 'plain_text' as const, text: 'Request' },
      blocks: [
        {
          type: 'input' as const,
          block_id: 'reason',
          label: { type: 'plain_text' as const, text: 'Reason' },
          element: { type: 'plain_text_input' as const, action_id: 'reason' },
        },
      ],
    };
    const triggerId = fake.issueTriggerId(ALICE.id);
    const opened = await client.views.open({ trigger_id: triggerId, view });
    expect(opened.view).toMatchObject({
      type: 'modal',
      callback_id: 'request_access',
      state: { values: {} },
    });
    expect(opened.view?.id).toMatch(/^V/);
    expect(fake.viewsOf(ALICE.id)).toHaveLength(1);

    const again = await platformError(client.views.open({ trigger_id: triggerId, view }));
    expect(again.data.error).toBe('exchanged_trigger_id');
    const forged = await platformError(client.views.open({ trigger_id: '123.456.abc', view }));
    expect(forged.data.error).toBe('invalid_trigger_id');

    const stale = await platformError(
      client.views.update({ view_id: opened.view?.id ?? '', hash: 'old-hash', view }),
    );
    expect(stale.data.error).toBe('hash_conflict');
    const updated = await client.views.update({
      view_id: opened.view?.id ?? '',
      hash: opened.view?.hash ?? '',
      view,
    });
    expect(updated.view?.hash).not.toBe(opened.view?.hash);
  });

  it('refuses a modal title over 24 characters with invalid_arguments, as Slack does for views', async () => {
    const error = await platformError(
      client.views.open({
        trigger_id: fake.issueTriggerId(),
        view: { type: 'modal', title: { type: 'plain_text', text: 'T'.repeat(25) }, blocks: [] },
      }),
    );
    expect(error.data.error).toBe('invalid_arguments');
    expect(error.data.response_metadata?.messages).toEqual([
      '[ERROR] must be less than 25 characters [json-pointer:/view/title/text]',
    ]);
  });

  it('expires trigger ids after 3 seconds of its clock', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const timed = await startFakeSlack({ users: [ALICE], now: () => now });
    try {
      const c = webClient(timed);
      const triggerId = timed.issueTriggerId();
      now = new Date(now.getTime() + 3001);
      const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Hi' }, blocks: [] };
      const error = await platformError(c.views.open({ trigger_id: triggerId, view }));
      expect(error.data.error).toBe('expired_trigger_id');
    } finally {
      await timed.close();
    }
  });

  it('keeps user group membership and answers the usergroups methods', async () => {
    await client.usergroups.users.update({ usergroup: 'S0ONCALL', users: `${BOB.id},${ALICE.id}` });
    const listed = await client.usergroups.users.list({ usergroup: 'S0ONCALL' });
    expect(listed.users).toEqual([BOB.id, ALICE.id]);
    expect(fake.usergroupMembers('S0ONCALL')).toEqual([BOB.id, ALICE.id]);
    const disabled = await client.usergroups.disable({ usergroup: 'S0ONCALL' });
    expect(disabled.usergroup?.date_delete).toBeGreaterThan(0);
    const hidden = await platformError(client.usergroups.users.list({ usergroup: 'S0ONCALL' }));
    expect(hidden.data.error).toBe('no_such_subteam');
    const kept = await client.usergroups.users.list({ usergroup: 'S0ONCALL', include_disabled: true });
    expect(kept.users).toEqual([BOB.id, ALICE.id]);
    const emptied = await platformError(client.usergroups.users.update({ usergroup: 'S0ONCALL', users: '' }));
    expect(emptied.data.error).toBe('no_users_provided');
    const missing = await platformError(client.usergroups.users.list({ usergroup: 'S0NONE' }));
    expect(missing.data.error).toBe('no_such_subteam');
  });

  it('injects failures, records every call and lets a test wait for one', async () => {
    fake.failNext('chat.postMessage', 'fatal_error');
    const error = await platformError(client.chat.postMessage({ channel: ALICE.id, text: 'x' }));
    expect(error.data.error).toBe('fatal_error');
    const mark = fake.checkpoint();
    const waiting = fake.waitFor('chat.postMessage', (c) => c.seq >= mark && c.response.ok);
    await client.chat.postMessage({ channel: ALICE.id, text: 'second try' });
    expect((await waiting).args.text).toBe('second try');
    expect((await platformError(client.apiCall('no.such.method'))).data.error).toBe('unknown_method');
  });
});

describe('signed Slack requests, against a real Bolt app', () => {
  const signingSecret = 'test-signing-secret';
  let fake: FakeSlack;
  let app: App;
  let server: Server;
  let slack: SlackSender;
  const commands: SlashCommand[] = [];
  const clicks: Array<{ value: unknown; blockId: string; channel: unknown }> = [];
  const submissions: Array<Record<string, unknown>> = [];
  const requestModal = {
    type: 'modal' as const,
    callback_id: 'request_access',
    private_metadata: '{"resource":"prod-db"}',
    title: { type: 'plain_text' as const, text: 'Request access' },
    submit: { type: 'plain_text' as const, text: 'Request' },
    blocks: [
      {
        type: 'input' as const,
        block_id: 'reason',
        label: { type: 'plain_text' as const, text: 'Reason' },
        element: { type: 'plain_text_input' as const, action_id: 'reason' },
      },
      {
        type: 'input' as const,
        block_id: 'duration',
        label: { type: 'plain_text' as const, text: 'Duration' },
        element: {
          type: 'static_select' as const,
          action_id: 'duration',
          options: [
            { text: { type: 'plain_text' as const, text: '1 hour' }, value: 'PT1H' },
            { text: { type: 'plain_text' as const, text: '4 hours' }, value: 'PT4H' },
          ],
        },
      },
    ],
  };

  beforeAll(async () => {
    fake = await startFakeSlack({ users: [ALICE] });
    app = new App({
      signingSecret,
      token: fake.botToken,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
    });
    app.command('/request-access', async ({ ack, command, respond }) => {
      await ack();
      commands.push(command);
      await respond({ text: `You asked for ${command.text}` });
    });
    app.action<BlockAction<ButtonAction>>('approve', async ({ ack, body, action, respond }) => {
      await ack();
      clicks.push({ value: action.value, blockId: action.block_id, channel: body.channel?.id });
      await respond({ replace_original: true, text: 'Approved by Alice', blocks: [] });
    });
    app.view('request_access', async ({ ack, view }) => {
      const reason = view.state.values.reason?.reason?.value ?? '';
      if (reason.length < 5) {
        await ack({ response_action: 'errors', errors: { reason: 'Say a little more.' } });
        return;
      }
      submissions.push({
        reason,
        duration: view.state.values.duration?.duration?.selected_option?.value,
        metadata: view.private_metadata,
      });
      await ack();
    });
    server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    const { port } = server.address() as AddressInfo;
    slack = createSlackSender({
      url: `http://127.0.0.1:${port}/slack/events`,
      signingSecret,
      users: [ALICE],
      issueTriggerId: (userId) => fake.issueTriggerId(userId),
      issueResponseUrl: (ctx) => fake.issueResponseUrl(ctx),
    });
  });
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });

  it('delivers a signed slash command to the app.command listener', async () => {
    const response = await slack.slashCommand({
      command: '/request-access',
      text: 'prod-db',
      userId: ALICE.id,
    });
    expect(response.status).toBe(200);
    expect(commands.at(-1)).toMatchObject({
      command: '/request-access',
      text: 'prod-db',
      user_id: ALICE.id,
      user_name: 'alice',
    });
    const reply = await fake.waitFor('response_url');
    expect(reply.args.text).toBe('You asked for prod-db');
    expect(fake.ephemeralsTo(ALICE.id).map((e) => e.text)).toEqual(['You asked for prod-db']);
    expect(fake.callsTo('auth.test').length).toBeGreaterThan(0);
  });

  it('delivers a button click on a posted message, and respond() replaces that message', async () => {
    await webClient(fake).chat.postMessage({
      channel: ALICE.id,
      text: 'Request pending',
      blocks: [button('Approve')],
    });
    const message = fake.lastMessageTo(ALICE.id);
    if (!message) throw new Error('no message posted');
    const response = await slack.blockAction({ userId: ALICE.id, actionId: 'approve', message });
    expect(response.status).toBe(200);
    expect(clicks.at(-1)).toEqual({
      value: 'req-1',
      blockId: 'decide',
      channel: fake.dmChannelFor(ALICE.id),
    });
    await fake.waitFor('response_url', (c) => c.args.replace_original === true);
    expect(fake.message(message.channel, message.ts)).toMatchObject({
      text: 'Approved by Alice',
      blocks: [],
    });
    expect(() => slack.blockAction({ userId: ALICE.id, actionId: 'reject', message })).toThrow(/reject/);
  });

  it('delivers a view submission and returns the listener ack body', async () => {
    const opened = await webClient(fake).views.open({
      trigger_id: fake.issueTriggerId(ALICE.id),
      view: requestModal,
    });
    const view = fake.view(opened.view?.id ?? '');
    if (!view) throw new Error('no view opened');

    const refused = await slack.viewSubmission({
      userId: ALICE.id,
      view,
      values: { reason: 'x', duration: 'PT1H' },
    });
    expect(refused.status).toBe(200);
    expect(refused.body).toEqual({ response_action: 'errors', errors: { reason: 'Say a little more.' } });

    const accepted = await slack.viewSubmission({
      userId: ALICE.id,
      view,
      values: { reason: 'Incident 42 follow-up', duration: 'PT4H' },
    });
    expect(accepted).toMatchObject({ status: 200, body: '' });
    expect(submissions.at(-1)).toEqual({
      reason: 'Incident 42 follow-up',
      duration: 'PT4H',
      metadata: '{"resource":"prod-db"}',
    });
    expect(() => slack.viewSubmission({ userId: ALICE.id, view, values: { duration: 'P1D' } })).toThrow(
      /P1D/,
    );
  });

  it('answers 401 to a forged signature', async () => {
    const before = commands.length;
    const response = await slack.slashCommand(
      { command: '/request-access', text: 'x', userId: ALICE.id },
      { signature: `v0=${'0'.repeat(64)}` },
    );
    expect(response.status).toBe(401);
    expect(commands).toHaveLength(before);
  });

  it('answers 401 to a request signed more than five minutes ago', async () => {
    const before = commands.length;
    const response = await slack.slashCommand(
      { command: '/request-access', text: 'x', userId: ALICE.id },
      { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    expect(response.status).toBe(401);
    expect(commands).toHaveLength(before);
  });
});

describe('fake Slack: published rate limits', () => {
  it("refuses a second chat.postMessage to one channel within a second with 429 and Retry-After, and a tier's 51st call in a minute", async () => {
    let now = Date.UTC(2026, 11, 3, 12);
    const fake = await startFakeSlack({ users: [ALICE, BOB], rateLimits: true, now: () => new Date(now) });
    try {
      const post = (channel: string) =>
        fetch(`${fake.apiUrl}chat.postMessage`, {
          method: 'POST',
          headers: { authorization: `Bearer ${fake.botToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ channel, text: 'hello' }),
        });
      expect((await post(fake.dmChannelFor(ALICE.id))).status).toBe(200);
      const refused = await post(fake.dmChannelFor(ALICE.id));
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toEqual({ ok: false, error: 'ratelimited' });
      expect((await post(fake.dmChannelFor(BOB.id))).status).toBe(200);
      now += 1000;
      expect((await post(fake.dmChannelFor(ALICE.id))).status).toBe(200);

      const client = webClient(fake);
      for (let i = 0; i < 50; i++) await client.users.lookupByEmail({ email: ALICE.email });
      const limited = new WebClient(fake.botToken, {
        slackApiUrl: fake.apiUrl,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        logger: quietLogger,
      });
      await expect(limited.users.lookupByEmail({ email: ALICE.email })).rejects.toMatchObject({
        code: ErrorCode.RateLimitedError,
        retryAfter: 60,
      });
      now += 60_000;
      expect((await limited.users.lookupByEmail({ email: ALICE.email })).ok).toBe(true);
    } finally {
      await fake.close();
    }
  });
});

describe('fake Slack: its cheaper paths give what the plain ones gave', () => {
  it('copies JSON values as structuredClone does (and other objects through it)', () => {
    const value = {
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'a' }, n: 1.5, yes: true, none: null }],
      nested: [[1, 'two', [3]], {}, []],
      gone: undefined,
      at: new Date(Date.UTC(2026, 0, 1)),
      map: new Map([['k', { v: 1 }]]),
    };
    const withProto = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    for (const original of [value, withProto, [value, withProto], 'text', 7, null]) {
      const copy = cloneJson(original);
      expect(copy).toStrictEqual(structuredClone(original));
      if (typeof original === 'object' && original !== null) expect(copy).not.toBe(original);
    }
    const copy = cloneJson(value);
    expect(Object.hasOwn(copy, 'gone')).toBe(true);
    expect(copy.blocks[0]).not.toBe(value.blocks[0]);
    expect(copy.at).toBeInstanceOf(Date);
    expect(copy.at).not.toBe(value.at);
    const protoCopy = cloneJson(withProto);
    expect(Object.hasOwn(protoCopy, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(protoCopy)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads a form body as querystring.parse did: decoded, + as space, the first of a repeated field', async () => {
    const fake = await startFakeSlack({ users: [ALICE] });
    try {
      const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'a+b & c=d, 100% "ü" 😀' } }];
      const fields = [
        `channel=${encodeURIComponent(ALICE.id)}`,
        'text=two+words%21',
        `blocks=${encodeURIComponent(JSON.stringify(blocks))}`,
        'text=ignored',
        `token=${fake.botToken}`,
      ];
      const res = await fetch(`${fake.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: fields.join('&'),
      });
      expect(await res.json()).toMatchObject({ ok: true });
      const [call] = fake.callsTo('chat.postMessage');
      expect(call?.args).toEqual({ channel: ALICE.id, text: 'two words!', blocks });
      const query = parseQuery(fields.join('&'));
      expect(call?.args.text).toBe((query.text as string[])[0]);
      expect(fake.lastMessageTo(ALICE.id)?.text).toBe('two words!');
    } finally {
      await fake.close();
    }
  });

  it('with recordCalls off keeps no calls, yet tells listeners and waiters of each as it comes', async () => {
    const fake = await startFakeSlack({ users: [ALICE], recordCalls: false });
    try {
      const client = webClient(fake);
      const heard: Array<{ method: string; seq: number; ok: boolean }> = [];
      const off = fake.onCall((c) => heard.push({ method: c.method, seq: c.seq, ok: c.response.ok }));
      const waiting = fake.waitFor('chat.postMessage', (c) => c.args.text === 'second');
      await client.chat.postMessage({ channel: ALICE.id, text: 'first' });
      await client.chat.postMessage({ channel: ALICE.id, text: 'second' });
      expect((await waiting).response.ok).toBe(true);
      fake.failNext('users.info', 'fatal_error');
      expect((await platformError(client.users.info({ user: ALICE.id }))).data.error).toBe('fatal_error');
      off();
      expect(heard).toEqual([
        { method: 'chat.postMessage', seq: 0, ok: true },
        { method: 'chat.postMessage', seq: 1, ok: true },
        { method: 'users.info', seq: 2, ok: false },
      ]);
      expect(fake.calls).toEqual([]);
      expect(fake.messagesIn(fake.dmChannelFor(ALICE.id)).map((m) => m.text)).toEqual(['first', 'second']);
    } finally {
      await fake.close();
    }
  });

  it('signs a request over v0:<timestamp>:<body>, as Slack does', () => {
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', text: 'ü 😀' }))}`;
    const expected = createHmac('sha256', 'secret').update(`v0:1700000000:${body}`).digest('hex');
    expect(signSlackRequest('secret', 1_700_000_000, body)).toBe(`v0=${expected}`);
  });

  it('issues trigger ids, response URLs, view hashes and block ids in the shapes it always had', async () => {
    const fake = await startFakeSlack({ users: [ALICE] });
    try {
      const triggers = Array.from({ length: 200 }, () => fake.issueTriggerId(ALICE.id));
      for (const t of triggers) expect(t).toMatch(/^\d{7}\.\d{10}\.[0-9a-f]{32}$/);
      expect(new Set(triggers).size).toBe(triggers.length);
      expect(fake.issueResponseUrl()).toMatch(/\/hooks\/T0FAKETEAM\/\d{10}\/[0-9a-f]{24}$/);
      const opened = await webClient(fake).views.open({
        trigger_id: triggers[0] as string,
        view: {
          type: 'modal',
          title: { type: 'plain_text', text: 'Hi' },
          blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x' } }],
        },
      });
      expect(opened.view?.hash).toMatch(/^\d+\.[0-9a-f]{8}$/);
      expect(opened.view?.blocks?.[0]?.block_id).toMatch(/^[A-Za-z0-9]{5}$/);
    } finally {
      await fake.close();
    }
  });
});
