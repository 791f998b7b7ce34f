/**
 * The transport under the Slack Web API clients (src/bot/slack/http-fetch.ts), against a real local
 * HTTP server: calls share kept-alive connections, a call that gets no answer fails at its deadline,
 * statuses and headers (a 429's Retry-After) come back as they were sent, a redirect is refused as
 * `redirect: 'error'` asks, and a multipart body still goes through the global fetch. (Through
 * WebClient and the whole app: test/e2e/delivery-faults.test.ts, test/faults/chat-faults.test.ts.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepAliveFetch } from '../../../src/bot/slack/http-fetch.js';

let server: Server;
let base = '';
let connections = 0;
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;

beforeEach(async () => {
  connections = 0;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('keepAliveFetch', () => {
  it('posts the body with its headers and reads the answer, over one connection for calls in a row', async () => {
    handler = (req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-oauth-scopes': 'chat:write' });
      res.end(
        JSON.stringify({
          ok: true,
          body,
          auth: req.headers.authorization,
          length: req.headers['content-length'],
        }),
      );
    };
    const fetch = keepAliveFetch({ timeoutMs: 5_000 });
    for (const text of ['hello', 'grüezi']) {
      const res = await fetch(`${base}/api/chat.postMessage`, {
        method: 'POST',
        headers: { Authorization: 'Bearer xoxb-1', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `text=${text}`,
      });
      expect(res.status).toBe(200);
      expect(res.ok).toBe(true);
      expect(res.headers.get('X-OAuth-Scopes')).toBe('chat:write');
      expect(res.headers.get('retry-after')).toBeNull();
      expect(await res.json()).toEqual({
        ok: true,
        body: `text=${text}`,
        auth: 'Bearer xoxb-1',
        length: String(Buffer.byteLength(`text=${text}`)),
      });
    }
    expect(connections).toBe(1);
  });

  it('hands back a 429 with its Retry-After, and any other status, as it came', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'retry-after': '20', 'content-type': 'application/json' });
      res.end('{"ok":false,"error":"ratelimited"}');
    };
    const res = await keepAliveFetch({ timeoutMs: 5_000 })(`${base}/api/chat.postMessage`, {
      method: 'POST',
      body: '',
    });
    expect(res.status).toBe(429);
    expect(res.ok).toBe(false);
    expect(res.headers.get('Retry-After')).toBe('20');
    expect(Object.fromEntries(res.headers.entries())).toMatchObject({ 'retry-after': '20' });
    expect(await res.text()).toBe('{"ok":false,"error":"ratelimited"}');
  });

  it('fails a call that gets no answer once its deadline has passed', async () => {
    handler = () => {}; // never answers
    const started = Date.now();
    await expect(
      keepAliveFetch({ timeoutMs: 200 })(`${base}/api/users.info`, { method: 'POST', body: 'user=U1' }),
    ).rejects.toMatchObject({ name: 'TimeoutError', message: expect.stringContaining('/api/users.info') });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("refuses a redirect when asked to (redirect: 'error'), as fetch does", async () => {
    handler = (_req, res) => {
      res.writeHead(302, { location: 'https://elsewhere.example/' });
      res.end();
    };
    await expect(
      keepAliveFetch({ timeoutMs: 5_000 })(`${base}/api/auth.test`, {
        method: 'POST',
        body: '',
        redirect: 'error',
      }),
    ).rejects.toThrow(/redirected/);
  });

  it('fails a call to a server that is not there', async () => {
    handler = () => {};
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await expect(
      keepAliveFetch({ timeoutMs: 5_000 })(`${base}/api/auth.test`, { method: 'POST', body: '' }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    server.listen(0); // for afterEach
  });

  it('sends a multipart body (a file upload) through the global fetch', async () => {
    handler = (req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: req.headers['content-type'], body }));
    };
    const form = new FormData();
    form.append('file', new Blob(['a,b\n1,2\n']), 'report.csv');
    const res = await keepAliveFetch({ timeoutMs: 5_000 })(`${base}/upload`, { method: 'POST', body: form });
    const answer = (await res.json()) as { type: string; body: string };
    expect(answer.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(answer.body).toContain('a,b\n1,2\n');
  });
});
