/**
 * The app in Socket Mode (`SLACK_APP_TOKEN` set): it opens a WebSocket with `apps.connections.open`,
 * Slack pushes slash commands and interactions as envelopes, and the app acknowledges each one over the
 * socket. There is no signing secret and no `/slack/events`; the health routes are still served over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { collectText, type FakeView, findElement, type JsonObject } from '../support/fake-slack.js';
import { eventually, quickDurationAction, waitForDm } from '../support/flows.js';
import { buildViewState, type ViewInputValue } from '../support/slack-requests.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, carol } = USERS;

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem({ socketMode: true });
});
afterEach(async () => {
  await t.close();
});

// Payloads as Slack puts them in Socket Mode envelopes: the same shapes as over HTTP, already parsed.

function slashCommandPayload(userId: string, text: string): JsonObject {
  return {
    token: 'fake-verification-token',
    team_id: t.fake.team.id,
    team_domain: t.fake.team.domain,
    channel_id: t.fake.dmChannelFor(userId),
    channel_name: 'directmessage',
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: '/request-access',
    text,
    api_app_id: t.fake.appId,
    is_enterprise_install: 'false',
    response_url: t.fake.issueResponseUrl({ userId, channelId: t.fake.dmChannelFor(userId) }),
    trigger_id: t.fake.issueTriggerId(userId),
  };
}

function interactivePayload(type: string, userId: string): JsonObject {
  return {
    type,
    team: { id: t.fake.team.id, domain: t.fake.team.domain },
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: t.fake.team.id },
    api_app_id: t.fake.appId,
    token: 'fake-verification-token',
    trigger_id: t.fake.issueTriggerId(userId),
    enterprise: null,
    is_enterprise_install: false,
  };
}

function payloadView(view: FakeView, values: Record<string, ViewInputValue>): JsonObject {
  return {
    ...view,
    state: { values: buildViewState(view as unknown as JsonObject, values) },
    root_view_id: view.root_view_id ?? view.id,
  };
}

async function currentView(id: string): Promise<FakeView> {
  const view = t.fake.view(id);
  if (!view) throw new Error(`no view ${id}`);
  return view;
}

describe('Socket Mode', () => {
  it('connects with the app-level token and is greeted before start() returns', async () => {
    expect(t.fake.socketConnectionCount).toBe(1);
    const open = t.fake.callsTo('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]?.token).toBe(t.fake.appToken);
    expect(open[0]?.response).toMatchObject({
      ok: true,
      url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/),
    });
  });

  it('takes /request-access and the form submission as envelopes, acks them and asks the approvers', async () => {
    // The slash command: acked over the socket, then the form opens.
    let mark = t.fake.checkpoint();
    const commandAck = await t.fake.pushEnvelope({
      type: 'slash_commands',
      payload: slashCommandPayload(carol.id, 'acme-prod'),
    });
    expect(commandAck.payload).toEqual({});
    const opened = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
    expect(opened.response.ok, JSON.stringify(opened.response)).toBe(true);
    const openedView = opened.response.view as FakeView;
    expect(collectText(openedView.blocks)).toContain('Alice Approver (alice@example.com)');
    expect(findElement(openedView.blocks, 'jit.form.resource')?.element).toMatchObject({
      initial_option: { value: 'acme-prod' },
    });

    // A quick duration (block_actions: acked without a response payload), then the form is updated.
    let view = await currentView(openedView.id);
    const actionId = quickDurationAction(view, '4 hours');
    const found = findElement(view.blocks, actionId);
    mark = t.fake.checkpoint();
    const actionAck = await t.fake.pushEnvelope({
      type: 'interactive',
      payload: {
        ...interactivePayload('block_actions', carol.id),
        container: { type: 'view', view_id: view.id },
        view: payloadView(view, {}),
        actions: [
          {
            action_id: actionId,
            block_id: found?.blockId,
            type: 'button',
            text: found?.element.text,
            value: found?.element.value,
            action_ts: `${Math.floor(Date.now() / 1000)}.${randomBytes(3).readUIntBE(0, 3) % 1_000_000}`,
          },
        ],
      },
    });
    expect(actionAck.payload).toEqual({});
    const updated = await t.fake.waitFor('views.update', (c) => c.seq >= mark);
    expect(updated.response.ok, JSON.stringify(updated.response)).toBe(true);
    view = await currentView(view.id);

    // A submission with no justification: the errors go back in the ack's payload.
    const approvers = [alice.email, dave.email];
    const refusedAck = await t.fake.pushEnvelope({
      type: 'interactive',
      payload: {
        ...interactivePayload('view_submission', carol.id),
        view: payloadView(view, { 'jit.form.approvers': approvers, 'jit.form.justification': '' }),
        response_urls: [],
      },
    });
    expect(refusedAck.payload).toMatchObject({ response_action: 'errors' });
    expect(Object.keys(refusedAck.payload?.errors as JsonObject)).toEqual([
      expect.stringMatching(/^justification/),
    ]);
    expect(await t.store.repos.requests.list({})).toHaveLength(0);

    // The real submission: acked, stored, and each approver gets a card by DM.
    const submitAck = await t.fake.pushEnvelope({
      type: 'interactive',
      payload: {
        ...interactivePayload('view_submission', carol.id),
        view: payloadView(view, {
          'jit.form.approvers': approvers,
          'jit.form.justification': 'Investigate ticket 42',
        }),
        response_urls: [],
      },
    });
    expect(submitAck.payload).toEqual({});
    const request = await eventually(async () => {
      const requests = await t.store.repos.requests.list({});
      expect(requests).toHaveLength(1);
      return requests[0]!;
    });
    expect(request).toMatchObject({ resourceId: 'acme-prod' });
    await waitForDm(t, alice, 'Approve');
    await waitForDm(t, dave, 'Approve');

    // Every envelope was acknowledged exactly once.
    const ids = t.fake.socketAcks.map((a) => a.envelope_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(4);
  });

  it('still serves the health routes over HTTP, and has no /slack/events endpoint', async () => {
    const health = await fetch(`http://127.0.0.1:${t.system.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const ready = await fetch(`http://127.0.0.1:${t.system.port}/readyz`);
    expect(ready.status).toBe(200);
    const events = await fetch(`http://127.0.0.1:${t.system.port}/slack/events`, { method: 'POST' });
    expect(events.status).toBe(404);
  });

  it('reconnects with a fresh URL when Slack recycles the connection', async () => {
    t.fake.sendSocketDisconnect('refresh_requested');
    await eventually(() => expect(t.fake.callsTo('apps.connections.open')).toHaveLength(2), 15_000);
    await t.fake.waitForSocketConnection();
    const mark = t.fake.checkpoint();
    await t.fake.pushEnvelope({ type: 'slash_commands', payload: slashCommandPayload(carol.id, '') });
    expect((await t.fake.waitFor('views.open', (c) => c.seq >= mark)).response.ok).toBe(true);
  }, 30_000);
});

describe('the fake apps.connections.open', () => {
  const call = async (token: string) => {
    const res = await fetch(`${t.fake.apiUrl}apps.connections.open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    return (await res.json()) as JsonObject;
  };

  it('wants the app-level token', async () => {
    expect(await call('xapp-1-wrong')).toEqual({ ok: false, error: 'invalid_auth' });
    expect(await call(t.fake.botToken)).toEqual({ ok: false, error: 'not_allowed_token_type' });
    expect(await call(t.fake.appToken)).toMatchObject({ ok: true });
  });

  it('answers not_allowed_token_type when the app-level token is used for anything else', async () => {
    const res = await fetch(`${t.fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.fake.appToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: alice.id, text: 'hi' }),
    });
    expect(await res.json()).toEqual({ ok: false, error: 'not_allowed_token_type' });
  });

  it('refuses a WebSocket URL whose ticket was already used', async () => {
    const url = String(t.fake.callsTo('apps.connections.open')[0]?.response.url);
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => reject(new Error('connected with a used ticket')));
      ws.once('error', () => {});
    });
    expect(status).toBe(401);
  });
});
