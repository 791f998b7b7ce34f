import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signBody, verifySignature } from '../../src/connectors/signing.js';
import { WebhookConnector } from '../../src/connectors/webhook.js';
import { ManualClock } from '../../src/domain/clock.js';
import { ConnectorError, type ConnectorEvent } from '../../src/domain/ports.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'test-secret-do-not-log';
const JUSTIFICATION = 'INC-4711 restore the billing replica';

const event: ConnectorEvent = {
  event: 'grant.activated',
  grant: {
    id: 'g_01',
    resourceId: 'prod-db',
    user: { email: 'ada@example.com', name: 'Ada Lovelace' },
    startsAt: '2026-11-23T09:00:00.000Z',
    expiresAt: '2026-11-23T10:00:00.000Z',
    requestId: 'r_01',
    justification: JUSTIFICATION,
  },
  idempotencyKey: 'g_01:activate:1',
};

let clock: ManualClock;
let receiver: WebhookReceiver;

beforeEach(async () => {
  clock = new ManualClock('2026-11-23T09:00:00Z');
  receiver = await startWebhookReceiver({ secret: SECRET, now: () => clock.now() });
});

afterEach(async () => {
  await receiver.close();
});

function connector(overrides: Partial<{ url: string; secret: string; timeoutMs: number }> = {}) {
  return new WebhookConnector({ url: receiver.url, secret: SECRET, timeoutMs: 2_000, clock, ...overrides });
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

describe('WebhookConnector', () => {
  it('POSTs the event as the body, exactly, with the documented headers', async () => {
    await connector().deliver(event);

    expect(receiver.calls).toHaveLength(1);
    const call = receiver.calls[0];
    expect(call?.method).toBe('POST');
    expect(call?.path).toBe('/hooks/jit');
    expect(call?.rawBody).toBe(JSON.stringify(event));
    expect(call?.body).toEqual({
      event: 'grant.activated',
      grant: {
        id: 'g_01',
        resourceId: 'prod-db',
        user: { email: 'ada@example.com', name: 'Ada Lovelace' },
        startsAt: '2026-11-23T09:00:00.000Z',
        expiresAt: '2026-11-23T10:00:00.000Z',
        requestId: 'r_01',
        justification: JUSTIFICATION,
      },
      idempotencyKey: 'g_01:activate:1',
    });
    const ts = String(Date.parse('2026-11-23T09:00:00Z') / 1000);
    expect(call?.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'jit-access-bot',
      'x-jit-timestamp': ts,
      'x-jit-signature': signBody(SECRET, ts, JSON.stringify(event)),
      'x-jit-idempotency-key': 'g_01:activate:1',
    });
    expect(call?.headers['x-jit-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(call?.headers.authorization).toBeUndefined();
  });

  it('takes the timestamp from the injected clock', async () => {
    clock.advance(90_500);
    await connector().deliver(event);
    expect(receiver.calls[0]?.headers['x-jit-timestamp']).toBe(
      String(Date.parse('2026-11-23T09:01:30Z') / 1000),
    );
  });

  it('signs so that the secret verifies and another secret does not', async () => {
    await connector().deliver(event);
    const call = receiver.calls[0];
    expect(call?.signatureValid).toBe(true);
    const ts = String(call?.headers['x-jit-timestamp']);
    const sig = String(call?.headers['x-jit-signature']);
    expect(verifySignature(SECRET, ts, call?.rawBody ?? '', sig, clock.now())).toBe(true);
    expect(verifySignature('another-secret', ts, call?.rawBody ?? '', sig, clock.now())).toBe(false);
  });

  it('is seen as invalid by a receiver holding another secret', async () => {
    const other = await startWebhookReceiver({ secret: 'another-secret', now: () => clock.now() });
    try {
      await connector({ url: other.url }).deliver(event);
      expect(other.calls[0]?.signatureValid).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('passes the idempotency key through, unchanged across retries', async () => {
    receiver.setStatus((n) => (n === 1 ? 503 : 204));
    const c = connector();
    await expect(c.deliver(event)).rejects.toBeInstanceOf(ConnectorError);
    clock.advance(5_000);
    await c.deliver(event);
    expect(receiver.calls.map((call) => call.headers['x-jit-idempotency-key'])).toEqual([
      'g_01:activate:1',
      'g_01:activate:1',
    ]);
    const other = { ...event, event: 'grant.revoked' as const, idempotencyKey: 'g_01:revoke:1' };
    await c.deliver(other);
    expect(receiver.calls[2]?.headers['x-jit-idempotency-key']).toBe('g_01:revoke:1');
  });

  it.each([200, 201, 202, 204])('resolves on %i', async (status) => {
    receiver.setStatus(status);
    await expect(connector().deliver(event)).resolves.toBeUndefined();
  });

  it.each([500, 502, 503, 504, 408, 409, 425, 429, 418])(
    'throws a retryable ConnectorError on %i (the receiver may answer otherwise later)',
    async (status) => {
      receiver.setStatus(status);
      const err = await failure(connector().deliver(event));
      expect(err.message).toBe(`webhook ${receiver.url} answered ${status}`);
      expect(err.retryable).toBe(true);
      expect(err.code).toBe('CONNECTOR_FAILED');
      expect(err.message).not.toContain(SECRET);
      expect(err.message).not.toContain(JUSTIFICATION);
    },
  );

  it.each([400, 401, 403, 404, 405, 410, 413, 415, 422])(
    'throws a non-retryable ConnectorError on %i (the receiver refuses the call as sent)',
    async (status) => {
      receiver.setStatus(status);
      const err = await failure(connector().deliver(event));
      expect(err.message).toBe(`webhook ${receiver.url} answered ${status}`);
      expect(err.retryable).toBe(false);
      expect(err.code).toBe('CONNECTOR_FAILED');
      expect(err.message).not.toContain(SECRET);
    },
  );

  it('does not follow redirects', async () => {
    const target = await startWebhookReceiver({ secret: SECRET, now: () => clock.now() });
    const redirector = createServer((_req, res) => {
      res.writeHead(307, { Location: target.url });
      res.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    const { port } = redirector.address() as AddressInfo;
    try {
      const err = await failure(connector({ url: `http://127.0.0.1:${port}/hook` }).deliver(event));
      expect(err.message).toBe(`webhook http://127.0.0.1:${port}/hook answered 307`);
      expect(err.retryable).toBe(true);
      expect(target.calls).toHaveLength(0);
    } finally {
      redirector.closeAllConnections();
      await new Promise<void>((resolve) => redirector.close(() => resolve()));
      await target.close();
    }
  });

  it('throws a retryable ConnectorError on timeout', async () => {
    receiver.setDelay(2_000);
    const started = Date.now();
    const err = await failure(connector({ timeoutMs: 100 }).deliver(event));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err.message).toBe(`webhook ${receiver.url} timed out after 100 ms`);
    expect(err.retryable).toBe(true);
  });

  it('throws a retryable ConnectorError when the connection is refused', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const err = await failure(connector({ url: `http://127.0.0.1:${port}/hook` }).deliver(event));
    expect(err.message).toMatch(new RegExp(`^webhook http://127\\.0\\.0\\.1:${port}/hook unreachable`));
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.retryable).toBe(true);
  });

  it('keeps credentials and query strings of the URL out of error messages', async () => {
    receiver.setStatus(500);
    const url = new URL(receiver.url);
    url.username = 'user';
    url.password = 'pw-in-url';
    url.search = '?token=query-token';
    const err = await failure(connector({ url: url.toString() }).deliver(event));
    expect(err.message).toBe(`webhook ${receiver.url} answered 500`);
    expect(receiver.calls[0]?.path).toBe('/hooks/jit?token=query-token');
    expect(receiver.calls[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('user:pw-in-url').toString('base64')}`,
    );
    expect(err.message).not.toContain('pw-in-url');
    expect(err.message).not.toContain('query-token');
  });

  it('rejects bad configuration at construction', () => {
    expect(() => connector({ url: 'not a url' })).toThrow(/valid URL/);
    expect(() => connector({ url: 'ftp://example.com/x' })).toThrow(/http/);
    expect(() => connector({ secret: '' })).toThrow(/secret/);
    expect(() => connector({ timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('signing', () => {
  const now = new Date('2026-11-23T09:00:00Z');
  const ts = String(now.getTime() / 1000);
  const body = JSON.stringify(event);

  it('is HMAC-SHA256 over "<timestamp>.<body>"', () => {
    // echo -n '1.{}' | openssl dgst -sha256 -hmac k
    expect(signBody('k', '1', '{}')).toBe(
      'sha256=3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158',
    );
  });

  it('accepts a fresh, correct signature (also in upper case)', () => {
    const sig = signBody(SECRET, ts, body);
    expect(verifySignature(SECRET, ts, body, sig, now)).toBe(true);
    expect(verifySignature(SECRET, ts, body, `sha256=${sig.slice(7).toUpperCase()}`, now)).toBe(true);
  });

  it('rejects another secret, a changed body or a changed timestamp', () => {
    const sig = signBody(SECRET, ts, body);
    expect(verifySignature('other', ts, body, sig, now)).toBe(false);
    expect(verifySignature(SECRET, ts, body.replace('Ada', 'Eve'), sig, now)).toBe(false);
    expect(verifySignature(SECRET, String(Number(ts) + 1), body, sig, now)).toBe(false);
  });

  it('rejects timestamps outside the tolerance, in both directions', () => {
    const sig = signBody(SECRET, ts, body);
    expect(verifySignature(SECRET, ts, body, sig, new Date(now.getTime() + 300_000))).toBe(true);
    expect(verifySignature(SECRET, ts, body, sig, new Date(now.getTime() + 301_000))).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig, new Date(now.getTime() - 301_000))).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig, new Date(now.getTime() + 30_000), 10)).toBe(false);
  });

  it('rejects malformed input without throwing', () => {
    const sig = signBody(SECRET, ts, body);
    expect(verifySignature(SECRET, ts, body, sig.slice(7), now)).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig.slice(0, -2), now)).toBe(false);
    expect(verifySignature(SECRET, ts, body, '', now)).toBe(false);
    expect(verifySignature(SECRET, 'abc', body, sig, now)).toBe(false);
    expect(verifySignature(SECRET, '', body, sig, now)).toBe(false);
    expect(verifySignature(SECRET, `${ts}.5`, body, sig, now)).toBe(false);
  });
});
