/**
 * The app's own HTTP server: one port for Slack, health, readiness and metrics, with room for
 * Teams (`POST /api/messages`) and the HTTP API (`/api/v1`), which answer 404 until they exist.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

const url = (path: string) => `http://127.0.0.1:${t.system.port}${path}`;

describe('the app’s HTTP server', () => {
  it('answers health and readiness on the same port as Slack', async () => {
    const live = await fetch(url('/healthz'));
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ ok: true });
    const ready = await fetch(url('/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true });
  });

  it('serves Prometheus metrics, the outbox depth among them', async () => {
    t.fake.setOutage({ error: 'service_unavailable', status: 503, methods: ['chat.postMessage'] });
    await requestAccess(t, USERS.carol, { approvers: [USERS.alice.email] });
    const text = await (async () => {
      for (let i = 0; i < 100; i++) {
        const body = await (await fetch(url('/metrics'))).text();
        if (/jit_outbox_messages\{status="pending",app="jit-access-bot"\} [1-9]/.test(body)) return body;
        await new Promise((r) => setTimeout(r, 20));
      }
      return (await fetch(url('/metrics'))).text();
    })();
    expect(text).toMatch(/jit_outbox_messages\{status="pending",app="jit-access-bot"\} 2/);
    expect(text).toContain('process_resident_memory_bytes');
    t.fake.setOutage(null);
    await t.runner.advance(60_000);
    await waitForDm(t, USERS.alice, 'Approve');
  });

  it('answers unknown paths with 404 and a wrong method with 405, as JSON', async () => {
    for (const path of ['/api/messages', '/api/v1/grants', '/nope']) {
      const res = await fetch(url(path), { method: 'POST', body: '{}' });
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({ error: 'not_found' });
    }
    const wrong = await fetch(url('/slack/events'));
    expect(wrong.status).toBe(405);
    expect((await fetch(url('/healthz'), { method: 'POST' })).status).toBe(405);
  });

  it('stops answering health checks as live once stopping, and refuses new connections after stop', async () => {
    await t.system.stop();
    await expect(fetch(url('/healthz'))).rejects.toThrow();
    await t.restart();
    expect((await fetch(url('/healthz'))).status).toBe(200);
  });
});

describe('Slack unreachable at start-up', () => {
  it('starts anyway and serves Slack once it is back, instead of dying on the failed auth.test', async () => {
    await t.close();
    t = await startTestSystem({
      beforeStart: (fake) =>
        fake.setOutage({ error: 'service_unavailable', status: 503, methods: ['auth.test'] }),
    });
    expect((await fetch(url('/healthz'))).status).toBe(200);
    expect(t.fake.callsTo('auth.test').map((c) => c.status)).toContain(503);
    t.fake.setOutage(null);
    await requestAccess(t, USERS.carol, { approvers: [USERS.alice.email] });
    await waitForDm(t, USERS.alice, 'Approve');
  });
});

describe('stopping', () => {
  it('waits for work begun after an acknowledgement before it resolves', async () => {
    // Slack is slow to open the form: the command is acknowledged at once, the work goes on after.
    t.fake.setLatency(400, 'views.open');
    const res = await t.slack.slashCommand({ command: '/request-access', userId: USERS.carol.id });
    expect(res.status).toBe(200);
    await t.fake.waitFor('users.info');
    expect(t.fake.callsTo('views.open')).toHaveLength(0);
    await t.system.stop();
    // The form was opened before stop() returned, not dropped half-way.
    expect(t.fake.callsTo('views.open')).toHaveLength(1);
  });
});
