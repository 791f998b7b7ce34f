/**
 * The app's Slack Web API client (src/bot/slack/web-client.ts) against the library's own
 * `WebClient` as the reference: each case runs both against the same local server and expects the
 * same request on the wire (method, path, headers in order, body), the same result, and the same
 * error (class, message, fields), with the same retries, rate-limit handling and deadline.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'node:querystring';
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  WebClientEvent,
} from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepAliveFetch } from '../../../src/bot/slack/http-fetch.js';
import { encodeForm, retryTimeouts, SlackApiClient } from '../../../src/bot/slack/web-client.js';

interface Seen {
  method: string;
  url: string;
  headers: string[];
  body: string;
}

let server: Server;
let base = '';
let seen: Seen[] = [];
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;

beforeEach(async () => {
  seen = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.rawHeaders, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

type Config = {
  retryConfig: { retries: number; factor?: number; minTimeout?: number; maxTimeout?: number };
  rejectRateLimitedCalls?: boolean;
  timeoutMs?: number;
};

/** The library's client as the app had it (WebClient over the kept-alive fetch), and ours. */
function both(config: Config, token = 'xoxb-test-token') {
  const timeoutMs = config.timeoutMs ?? 5_000;
  const common = {
    slackApiUrl: base,
    retryConfig: config.retryConfig,
    rejectRateLimitedCalls: config.rejectRateLimitedCalls ?? false,
  };
  return {
    library: new WebClient(token, { ...common, fetch: keepAliveFetch({ timeoutMs }), timeout: 0 }),
    ours: new SlackApiClient(token, { ...common, timeoutMs }),
  };
}

/** What a call came to: its result, or its error's class and own fields. */
async function outcome(call: Promise<unknown>): Promise<unknown> {
  try {
    return { result: await call };
  } catch (error) {
    const e = error as Error & Record<string, unknown>;
    const fields: Record<string, unknown> = { class: e.constructor.name, message: e.message };
    for (const key of ['code', 'data', 'retryAfter', 'statusCode', 'statusMessage', 'body', 'retriesLeft']) {
      if (key in e) fields[key] = e[key];
    }
    if (e instanceof WebAPIRequestError) fields.original = (e.original as Error).message;
    if (e instanceof WebAPIHTTPError) {
      const { date: _date, ...headers } = e.headers as Record<string, string>;
      fields.headers = headers;
    }
    return fields;
  }
}

/** Runs `call` with the library's client, then with ours; both outcomes and what each sent. */
async function compare(config: Config, call: (client: WebClient) => Promise<unknown>) {
  const { library, ours } = both(config);
  const libraryOutcome = await outcome(call(library));
  const librarySeen = seen;
  seen = [];
  const ourOutcome = await outcome(call(ours));
  const ourSeen = seen;
  return { libraryOutcome, ourOutcome, librarySeen, ourSeen };
}

const blocks = JSON.stringify([
  { type: 'header', text: { type: 'plain_text', text: 'Access request: prod-db', emoji: false } },
  {
    type: 'section',
    text: { type: 'mrkdwn', text: '*Pat* asks & waits <for> 2 h — grüezi 🎉 100% +1', verbatim: true },
  },
]);

describe('SlackApiClient, against WebClient', () => {
  it('sends the same request and gives the same result for a message with blocks', async () => {
    handler = (_req, res, body) =>
      json(
        res,
        200,
        { ok: true, channel: 'D1', ts: '1.000001', echo: body },
        { 'x-oauth-scopes': 'chat:write, im:write', 'x-accepted-oauth-scopes': 'chat:write' },
      );
    const { libraryOutcome, ourOutcome, librarySeen, ourSeen } = await compare(
      { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true },
      (client) =>
        client.chat.postMessage({
          channel: 'D1',
          text: "Pat asks for prod-db & more: ünïcödé ~*_'()!",
          blocks: blocks as never,
          unfurl_links: false,
          unfurl_media: false,
        }),
    );
    expect(ourSeen).toEqual(librarySeen);
    expect(ourSeen).toHaveLength(1);
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(ourOutcome).toMatchObject({
      result: { ok: true, ts: '1.000001', response_metadata: { scopes: ['chat:write', 'im:write'] } },
    });
  });

  it('encodes objects, numbers, booleans and a per-call token as WebClient does, and leaves out null', async () => {
    handler = (_req, res) => json(res, 200, { ok: true });
    const { libraryOutcome, ourOutcome, librarySeen, ourSeen } = await compare(
      { retryConfig: { retries: 0 } },
      (client) =>
        client.apiCall('views.open', {
          trigger_id: '123.456',
          view: { type: 'modal', title: { type: 'plain_text', text: 'Ask' }, blocks: [] },
          limit: 5,
          include_locale: true,
          skip: null,
          gone: undefined,
          token: 'xoxb-other',
          team_id: 'T1',
        }),
    );
    expect(ourSeen).toEqual(librarySeen);
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(ourSeen[0]?.headers).toContain('Bearer xoxb-other');
  });

  it('reads users.info as WebClient does (a read method over a form body)', async () => {
    handler = (_req, res, body) =>
      json(res, 200, { ok: true, user: { id: 'U1', profile: { email: 'pat@example.com' } }, asked: body });
    const { libraryOutcome, ourOutcome, librarySeen, ourSeen } = await compare(
      { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } },
      (client) => client.users.info({ user: 'U1' }),
    );
    expect(ourSeen).toEqual(librarySeen);
    expect(ourOutcome).toEqual(libraryOutcome);
  });

  it("throws WebAPIPlatformError with Slack's answer as data on ok: false, without a retry", async () => {
    handler = (_req, res) => json(res, 200, { ok: false, error: 'channel_not_found' });
    const { libraryOutcome, ourOutcome, ourSeen } = await compare(
      { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } },
      (client) => client.chat.update({ channel: 'D1', ts: '1.1', text: 'x' }),
    );
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(ourOutcome).toMatchObject({
      class: 'WebAPIPlatformError',
      data: { ok: false, error: 'channel_not_found' },
    });
    expect(ourSeen).toHaveLength(1);
  });

  it('rejects a 429 at once with its Retry-After when rate-limited calls are rejected', async () => {
    handler = (_req, res) => json(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': '17' });
    const { library, ours } = both({ retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    const events: number[] = [];
    ours.on(WebClientEvent.RATE_LIMITED, (seconds: number) => events.push(seconds));
    const libraryOutcome = await outcome(library.chat.postMessage({ channel: 'D1', text: 'x' }));
    const error = await ours.chat.postMessage({ channel: 'D1', text: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect((error as WebAPIRateLimitedError).retryAfter).toBe(17);
    expect(await outcome(Promise.reject(error))).toEqual(libraryOutcome);
    expect(events).toEqual([17]);
    expect(seen).toHaveLength(2); // one each, no retry
  });

  it('rejects a 429 without a usable Retry-After as WebClient does', async () => {
    handler = (_req, res) => json(res, 429, { ok: false }, { 'retry-after': 'soon' });
    const { libraryOutcome, ourOutcome } = await compare(
      { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } },
      (client) => client.chat.postMessage({ channel: 'D1', text: 'x' }),
    );
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(ourOutcome).toMatchObject({ class: 'Error', message: expect.stringContaining('soon') });
  });

  it('waits out a 429 (holding the other calls of the client) and tries again', async () => {
    let calls = 0;
    let limitedAt = 0;
    const arrived: Record<string, number> = {};
    handler = (_req, res, body) => {
      calls++;
      if (calls === 1) {
        limitedAt = Date.now();
        return json(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' });
      }
      arrived[new URLSearchParams(body).get('text') ?? ''] = Date.now();
      json(res, 200, { ok: true });
    };
    const { ours } = both({ retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } });
    const first = ours.chat.postMessage({ channel: 'D1', text: 'first' });
    // made while the first waits out its Retry-After: held until the wait is over
    await new Promise((r) => setTimeout(r, 200));
    const second = ours.chat.postMessage({ channel: 'D1', text: 'second' });
    await expect(first).resolves.toMatchObject({ ok: true });
    await expect(second).resolves.toMatchObject({ ok: true });
    expect(Object.keys(arrived).sort()).toEqual(['first', 'second']);
    expect(calls).toBe(3);
    // neither reached Slack again before the second Slack asked for had passed (less 50 ms for
    // the clocks' rounding)
    expect(Math.min(arrived.first ?? 0, arrived.second ?? 0) - limitedAt).toBeGreaterThanOrEqual(950);
  });

  it('gives up after its retries on a 429 each time, with the error WebClient gives', async () => {
    handler = (_req, res) => json(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': '0' });
    const { libraryOutcome, ourOutcome, librarySeen, ourSeen } = await compare(
      { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } },
      (client) => client.views.open({ trigger_id: '1.2', view: '{}' as never }),
    );
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(ourSeen).toHaveLength(3);
    expect(librarySeen).toHaveLength(3);
  });

  it('retries another status and then throws the same WebAPIHTTPError', async () => {
    handler = (_req, res) =>
      json(res, 503, { ok: false, error: 'service_unavailable' }, { 'x-slack-req-id': 'r1' });
    const { libraryOutcome, ourOutcome, librarySeen, ourSeen } = await compare(
      { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } },
      (client) => client.users.info({ user: 'U1' }),
    );
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(ourOutcome).toMatchObject({
      class: 'WebAPIHTTPError',
      statusCode: 503,
      body: { ok: false, error: 'service_unavailable' },
      retriesLeft: 0,
    });
    expect(ourSeen).toHaveLength(3);
    expect(librarySeen).toHaveLength(3);
  });

  it('recovers when a retry succeeds', async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls % 2 === 1) return json(res, 500, 'oops');
      json(res, 200, { ok: true, user: { id: 'U1' } });
    };
    const { libraryOutcome, ourOutcome } = await compare(
      { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } },
      (client) => client.users.info({ user: 'U1' }),
    );
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(calls).toBe(4);
  });

  it('throws WebAPIRequestError when no answer comes in time, after its retries', async () => {
    handler = () => {}; // never answers
    const { libraryOutcome, ourOutcome, ourSeen } = await compare(
      { retryConfig: { retries: 1, minTimeout: 10, maxTimeout: 20 }, timeoutMs: 150 },
      (client) => client.chat.postMessage({ channel: 'D1', text: 'x' }),
    );
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(ourOutcome).toMatchObject({
      class: 'WebAPIRequestError',
      original: expect.stringContaining('/api/chat.postMessage'),
    });
    expect(ourSeen).toHaveLength(2);
  });

  it('throws WebAPIRequestError when Slack cannot be reached', async () => {
    handler = () => {};
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    const { libraryOutcome, ourOutcome } = await compare({ retryConfig: { retries: 0 } }, (client) =>
      client.users.info({ user: 'U1' }),
    );
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(ourOutcome).toMatchObject({
      class: 'WebAPIRequestError',
      original: expect.stringContaining('ECONNREFUSED'),
    });
    server.listen(0); // for afterEach
  });

  it('takes an answer that is not JSON as WebClient does', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>gateway</html>');
    };
    const { libraryOutcome, ourOutcome } = await compare({ retryConfig: { retries: 0 } }, (client) =>
      client.auth.test(),
    );
    expect(ourOutcome).toEqual(libraryOutcome);
    expect(ourOutcome).toMatchObject({
      class: 'WebAPIPlatformError',
      data: { error: '<html>gateway</html>' },
    });
  });

  it('keeps at most maxRequestConcurrency calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    handler = (_req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight--;
        json(res, 200, { ok: true });
      }, 20);
    };
    const client = new SlackApiClient('xoxb-t', {
      slackApiUrl: base,
      timeoutMs: 5_000,
      retryConfig: { retries: 0 },
      maxRequestConcurrency: 3,
    });
    const calls = Array.from({ length: 10 }, (_, i) => client.users.info({ user: `U${i}` }));
    await expect(Promise.all(calls)).resolves.toHaveLength(10);
    expect(most).toBe(3);
  });
});

describe('encodeForm', () => {
  it('encodes as querystring.stringify does, lone surrogates included', () => {
    const args = {
      team_id: undefined,
      text: "a b&c=d+e/f?g#h%i~j*k'l(m)n!o",
      odd: 'broken \ud83d pair',
      emoji: '🎉 ünï',
      n: 3.5,
      inf: Number.POSITIVE_INFINITY,
      yes: false,
      list: ['a', 1],
      none: null,
    };
    const expected = stringify({
      text: args.text,
      odd: args.odd,
      emoji: args.emoji,
      n: 3.5,
      inf: '',
      yes: 'false',
      list: JSON.stringify(args.list),
    });
    expect(encodeForm(args)).toBe(expected);
  });

  it('refuses binary values (the library sends those as multipart)', () => {
    expect(encodeForm({ file: Buffer.from('x') })).toBeNull();
  });
});

describe('retryTimeouts', () => {
  it('computes the waits as node-retry does without randomisation', () => {
    expect(retryTimeouts({ retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2_000 })).toEqual([300, 600]);
    expect(retryTimeouts({ retries: 5, factor: 2, minTimeout: 300, maxTimeout: 2_000 })).toEqual([
      300, 600, 1200, 2000, 2000,
    ]);
    expect(retryTimeouts({ retries: 0 })).toEqual([]);
  });
});

describe('WebAPI error classes', () => {
  it('are the library’s own, so callers’ instanceof checks hold', async () => {
    handler = (_req, res) => json(res, 200, { ok: false, error: 'user_not_found' });
    const { ours } = both({ retryConfig: { retries: 0 } });
    await expect(ours.users.info({ user: 'U1' })).rejects.toBeInstanceOf(WebAPIPlatformError);
  });
});
