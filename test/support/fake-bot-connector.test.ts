/** The fake Bot Connector answers as the service does: token checks, errors, limits, state. */
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeBotConnector, startFakeBotConnector } from './fake-bot-connector.js';

const ANN = {
  id: '29:1ann',
  aadObjectId: 'aad-ann',
  name: 'Ann Example',
  email: 'ann@example.com',
  userPrincipalName: 'ann@example.com',
};

let fake: FakeBotConnector | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function call(
  f: FakeBotConnector,
  method: string,
  path: string,
  body?: unknown,
  token?: string | null,
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const bearer = token === undefined ? f.botToken() : token;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const res = await fetch(`${f.serviceUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const message = { type: 'message', text: 'hi' };

describe('the fake Bot Connector', () => {
  it('accepts only a bearer token from its Azure AD key for the bot’s app id', async () => {
    fake = await startFakeBotConnector({ users: [ANN], auth: { appId: 'app-1' } });
    const conv = encodeURIComponent(fake.personalConversationId(ANN.id));
    expect((await call(fake, 'POST', `v3/conversations/${conv}/activities`, message, null)).status).toBe(401);
    expect((await call(fake, 'POST', `v3/conversations/${conv}/activities`, message, 'a.b.c')).status).toBe(
      401,
    );
    expect(
      (await call(fake, 'POST', `v3/conversations/${conv}/activities`, message, fake.botToken('app-2')))
        .status,
    ).toBe(401);
    const sent = await call(fake, 'POST', `v3/conversations/${conv}/activities`, message);
    expect(sent.status).toBe(201);
    expect(fake.activitiesIn(fake.personalConversationId(ANN.id)).map((a) => a.id)).toEqual([sent.body.id]);
  });

  it('keeps every version of an updated message, and answers Teams’ errors in Teams’ shape', async () => {
    fake = await startFakeBotConnector({ users: [ANN] });
    const id = fake.personalConversationId(ANN.id);
    const conv = encodeURIComponent(id);
    const sent = await call(fake, 'POST', `v3/conversations/${conv}/activities`, message);
    const activityId = String(sent.body.id);
    expect(
      (
        await call(fake, 'PUT', `v3/conversations/${conv}/activities/${activityId}`, {
          ...message,
          text: 'edited',
        })
      ).status,
    ).toBe(200);
    expect(fake.activity(id, activityId)?.versions.map((v) => v.text)).toEqual(['hi', 'edited']);
    expect(await call(fake, 'PUT', `v3/conversations/${conv}/activities/nope`, message)).toEqual({
      status: 404,
      body: { error: { code: 'NotFound', message: 'Activity not found.' } },
    });
    expect((await call(fake, 'POST', 'v3/conversations/a%3A1nope/activities', message)).body).toMatchObject({
      error: { code: 'ConversationNotFound' },
    });
    const huge = { type: 'message', text: 'x'.repeat(110 * 1024) };
    expect((await call(fake, 'POST', `v3/conversations/${conv}/activities`, huge)).status).toBe(413);
    expect(
      (await call(fake, 'POST', `v3/conversations/${conv}/activities`, { type: 'message' })).status,
    ).toBe(400);
  });

  it('gives a member of a conversation, and 404 for anyone else or anyone gone', async () => {
    fake = await startFakeBotConnector({ users: [ANN] });
    const conv = encodeURIComponent(fake.personalConversationId(ANN.id));
    expect(
      (await call(fake, 'GET', `v3/conversations/${conv}/members/${encodeURIComponent(ANN.id)}`)).body,
    ).toMatchObject({
      id: ANN.id,
      email: 'ann@example.com',
      userPrincipalName: 'ann@example.com',
      aadObjectId: 'aad-ann',
    });
    expect((await call(fake, 'GET', `v3/conversations/${conv}/members/29%3Aother`)).status).toBe(404);
    fake.deactivate(ANN.id);
    expect(
      (await call(fake, 'GET', `v3/conversations/${conv}/members/${encodeURIComponent(ANN.id)}`)).status,
    ).toBe(404);
    expect((await call(fake, 'POST', `v3/conversations/${conv}/activities`, message)).body).toMatchObject({
      error: { code: 'BotNotInConversationRoster' },
    });
  });

  it('creates (or finds) a 1:1 conversation in its tenant only, and injects faults on demand', async () => {
    fake = await startFakeBotConnector({ users: [ANN], tenantId: 't-1' });
    const params = { isGroup: false, bot: { id: fake.bot.id }, members: [{ id: ANN.id }], tenantId: 't-1' };
    const created = await call(fake, 'POST', 'v3/conversations', params);
    expect(created).toEqual({ status: 201, body: { id: fake.personalConversationId(ANN.id) } });
    expect((await call(fake, 'POST', 'v3/conversations', { ...params, tenantId: 'other' })).status).toBe(400);
    fake.setFault({ status: 429, retryAfterSec: 9, operations: ['create'] });
    const res = await fetch(`${fake.serviceUrl}v3/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
    });
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '9']);
    expect(fake.calls.map((c) => [c.operation, c.status])).toEqual([
      ['create', 201],
      ['create', 400],
      ['create', 429],
    ]);
  });
});
