/**
 * A connector that times out, or refuses connections, and then recovers (500s are in
 * test/e2e/connector-failures.test.ts): provisioning is retried with backoff, the grant stays
 * pending (never shown active before the target confirmed), the approvers are told after repeated
 * failure, and it converges once the target answers, with one idempotency key throughout.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { collectText } from '../support/fake-slack.js';
import { click, dmContaining, eventually, requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, TEST_POLICY, type TestSystem, USERS } from '../support/system.js';

const { alice, carol } = USERS;
const SEC = 1000;

let t: TestSystem;
let gates: Gate[] = [];
afterEach(async () => {
  for (const g of gates) await g.close();
  gates = [];
  await t.close();
});

/** A forwarder to the webhook receiver on a port of its own that can stop taking connections. */
interface Gate {
  url: string;
  /** Where it forwards to (the test system's receiver, once that exists). */
  target: string;
  open(): Promise<void>;
  shut(): Promise<void>;
  close(): Promise<void>;
}

async function startGate(): Promise<Gate> {
  let server: Server | null = null;
  let port = 0;
  const open = async () => {
    const s = createServer((req, res) => {
      const upstream = request(gate.target, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const shut = async () => {
    const s = server;
    server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await open();
  const gate: Gate = { url: `http://127.0.0.1:${port}/hooks/jit`, target: '', open, shut, close: shut };
  return gate;
}

async function approveCarolsRequest() {
  await requestAccess(t, carol, { approvers: [alice.email] });
  const card = await waitForDm(t, alice, 'Approve');
  await click(t, alice, card, 'jit.request.approve');
  return eventually(async () => {
    const [g] = await t.store.repos.grants.list({});
    expect(g?.attempts).toBeGreaterThan(0);
    return g!;
  });
}

describe('a connector that does not answer', () => {
  it('times out, is retried, stays pending, and activates once the target answers in time', async () => {
    const policy = TEST_POLICY.replace(
      'connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }',
      'connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET, timeoutMs: 300 }',
    );
    t = await startTestSystem({ policy });
    t.hooks.setDelay(2000);
    const g = await approveCarolsRequest();
    expect(g).toMatchObject({ status: 'provisioning', attempts: 1 });
    expect(g.lastError).toMatch(/timed out after 300 ms/);
    await waitForDm(t, carol, 'Access pending');
    expect(dmContaining(t, carol, 'is active until')).toBeUndefined();

    t.hooks.setDelay(0);
    await t.runner.advance(10 * SEC);
    await waitForDm(t, carol, 'is active until');
    const active = (await t.store.repos.grants.list({}))[0]!;
    expect(active.status).toBe('active');
    expect(active.startsAt).toEqual(t.clock.now());
    const keys = new Set(t.hooks.calls.map((c) => c.headers['x-jit-idempotency-key']));
    expect(keys).toEqual(new Set([`${g.id}:activated`]));
  });
});

describe('a connector that refuses connections', () => {
  it('is retried with backoff, reported to the approvers after the 5th failure, and converges once it listens again', async () => {
    const gate = await startGate();
    gates.push(gate);
    t = await startTestSystem({ policy: TEST_POLICY.replaceAll('{{HOOK}}', gate.url) });
    gate.target = t.hooks.url;
    await gate.shut();

    // Nothing listens: every attempt is refused.
    const g = await approveCarolsRequest();
    expect(g.lastError).toMatch(/unreachable/);
    await t.runner.advance(150 * SEC); // attempts at +10, +30, +70, +150 s
    expect((await t.store.repos.grants.get(g.id))?.attempts).toBe(5);
    const report = await waitForDm(t, alice, 'keeps failing');
    expect(collectText(report.blocks)).toContain(g.id);
    expect(dmContaining(t, carol, 'is active until')).toBeUndefined();

    await gate.open();
    await t.runner.advance(160 * SEC);
    await waitForDm(t, carol, 'is active until');
    expect((await t.store.repos.grants.get(g.id))?.status).toBe('active');
    expect(t.hooks.calls.map((c) => c.headers['x-jit-idempotency-key'])).toEqual([`${g.id}:activated`]);
  });
});
