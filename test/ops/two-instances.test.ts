/**
 * Two real processes (`node dist/cli.js start`) on one MongoDB, behind no balancer but the test,
 * which sends every other request to the other one: each grant is provisioned once, reminded once
 * and revoked once (so each job ran once under Agenda's locks), and no message went to Slack twice.
 * Needs a `mongod` (MONGODB_URI, or mongodb-memory-server with its binary); skipped otherwise,
 * saying why.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { connectMongo } from '../../src/store/mongo/connect.js';
import { type FakeSlack, type FakeView, startFakeSlack } from '../support/fake-slack.js';
import { formAction, openForm, submitForm } from '../support/flows.js';
import { describeMongo, mongoUri, uniqueDbName } from '../support/mongo.js';
import { createSlackSender } from '../support/slack-requests.js';
import { HOOK_SECRET, SIGNING_SECRET, type TestSystem, USERS } from '../support/system.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const POLICY = `
defaults:
  approvalWindow: PT1H
  remindBefore: PT10S
resources:
  - id: box
    name: Shared box
    approvers: [alice@example.com]
    policy: { approval: auto, durations: [PT30S] }
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describeMongo('two instances on one MongoDB', () => {
  let fake: FakeSlack;
  let hooks: WebhookReceiver;
  let dir: string;
  let store: Store;
  const children: ChildProcess[] = [];
  const ports: number[] = [];

  beforeAll(async () => {
    fake = await startFakeSlack({ users: Object.values(USERS) });
    hooks = await startWebhookReceiver({ secret: HOOK_SECRET, now: () => new Date() });
    dir = await mkdtemp(path.join(tmpdir(), 'jit-two-'));
    const policy = path.join(dir, 'access.yaml');
    await writeFile(policy, POLICY.replaceAll('{{HOOK}}', hooks.url));
    const base = new URL(mongoUri() ?? '');
    base.pathname = `/${uniqueDbName('two_instances')}`;
    const uri = base.toString();
    store = await connectMongo(uri);
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      ports.push(port);
      const child = spawn(process.execPath, [path.join('dist', 'cli.js'), 'start'], {
        env: {
          PATH: process.env.PATH ?? '',
          PORT: String(port),
          ACCESS_CONFIG: policy,
          MONGODB_URI: uri,
          SLACK_API_URL: fake.apiUrl,
          SLACK_BOT_TOKEN: fake.botToken,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          HOOK_SECRET,
          LOG_LEVEL: 'warn',
        },
        stdio: 'ignore',
      });
      children.push(child);
    }
    for (const port of ports) {
      await waitFor(`instance on ${port} ready`, async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
        return res?.status === 200;
      });
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await store?.db?.dropDatabase().catch(() => {});
    await store?.close();
    await hooks?.close();
    await fake?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('provisions, reminds and revokes each grant once and sends each message once, whichever instance takes the request', async () => {
    const requesters = [USERS.bob, USERS.carol, USERS.erin, USERS.dave];
    for (const [i, user] of requesters.entries()) {
      const port = ports[i % 2]!;
      const slack = createSlackSender({
        url: `http://127.0.0.1:${port}/slack/events`,
        signingSecret: SIGNING_SECRET,
        users: Object.values(USERS),
        issueTriggerId: (userId) => fake.issueTriggerId(userId),
        issueResponseUrl: (ctx) => fake.issueResponseUrl(ctx),
      });
      const t = { slack, fake } as unknown as TestSystem;
      let view: FakeView = await openForm(t, user, 'box');
      const durations = view.blocks.find((b) => b.block_id === 'durations');
      const [first] = (durations?.elements ?? []) as Array<{ action_id: string }>;
      if (!first) throw new Error('the form shows no quick duration');
      const quick = first.action_id;
      view = await formAction(t, user, view, quick);
      const res = await submitForm(t, user, view, { 'jit.form.justification': `Check ${user.name}` });
      expect(res.status).toBe(200);
    }

    const grants = () => store.repos.grants.list({ limit: 100 });
    await waitFor(
      'every grant to expire and be revoked',
      async () => {
        const all = await grants();
        return all.length === requesters.length && all.every((g) => g.status === 'expired');
      },
      120_000,
    );
    await waitFor(
      'the outbox to drain',
      async () => (await store.repos.outbox.count({ status: 'pending' })) === 0,
    );

    // The connector: one activation and one revocation per grant, nothing twice.
    const keys = hooks.calls.map((c) => String(c.headers['x-jit-idempotency-key']));
    expect(keys.length).toBe(new Set(keys).size);
    for (const g of await grants()) {
      expect(keys.filter((k) => k === `${g.id}:activated`)).toHaveLength(1);
      expect(keys.filter((k) => k === `${g.id}:revoked`)).toHaveLength(1);
    }
    // The audit trail: each grant reminded once and expired once.
    const trail = await store.repos.audit.list({ limit: 10_000 });
    for (const type of ['grant.activated', 'grant.reminded', 'grant.expired'] as const) {
      expect(
        trail.filter((e) => e.type === type),
        type,
      ).toHaveLength(requesters.length);
    }
    // Slack: every message posted once.
    const posts = fake
      .callsTo('chat.postMessage')
      .filter((c) => c.response.ok)
      .map((c) => `${String(c.args.channel)} ${String(c.args.text)}`);
    expect(posts.length).toBe(new Set(posts).size);
    const sent = await store.repos.outbox.list({ status: 'sent', limit: 10_000 });
    expect(posts).toHaveLength(sent.filter((i) => i.mode === 'send').length);
  }, 240_000);
});
