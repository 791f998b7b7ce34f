/**
 * Shutting down with work in flight: the whole app (Agenda on the mongoose store, the webhook
 * connector, the fake Slack) on a manual clock, stopped by the same `shutdown` that SIGTERM runs
 * in src/main.ts, while a connector call hangs. Then started again over the same database.
 *
 * 1. Always, on the driver-level mingo stand-in (not MongoDB).
 * 2. On a real MongoDB whenever one is reachable; skipped, saying so, otherwise.
 */
import mongoose from 'mongoose';
import { describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../src/config.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { Grant } from '../../src/domain/model.js';
import { parseAccessConfig } from '../../src/domain/policy.js';
import { createAgendaRunner, JOBS_COLLECTION } from '../../src/jobs/agenda.js';
import { createLogger } from '../../src/log.js';
import { drainTimeoutMs, shutdown } from '../../src/shutdown.js';
import type { Store } from '../../src/store/index.js';
import { openMongoStore } from '../../src/store/mongo/connect.js';
import { type RunningSystem, startSystem } from '../../src/system.js';
import { startFakeSlack } from '../support/fake-slack.js';
import { MingoClient } from '../support/mingo-db.js';
import { connectTestMongoStore, describeMongo, uniqueDbName } from '../support/mongo.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

const HOOK_SECRET = 'shutdown-test-secret';

const POLICY = `
resources:
  - id: prod
    name: Production
    approvers: [alice@example.com]
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET, timeoutMs: 50000 }
`;

describe('shutdown timing', () => {
  it('gives running jobs half the shutdown timeout, so the default ends well within 25 s of SIGTERM', () => {
    expect(DEFAULT_SHUTDOWN_TIMEOUT_MS).toBeLessThan(25_000);
    expect(drainTimeoutMs(DEFAULT_SHUTDOWN_TIMEOUT_MS)).toBe(10_000);
  });

  it('stops the system, then the store, then the embedded MongoDB, and exits 0', async () => {
    const order: string[] = [];
    const exits: number[] = [];
    await shutdown(
      {
        system: {
          stop: async (options) => {
            order.push(
              `system (deadline in ~${Math.round(((options?.deadline ?? 0) - Date.now()) / 100) * 100} ms)`,
            );
          },
        },
        store: { close: async () => void order.push('store') },
        stopEmbedded: async () => void order.push('mongod'),
        log: createLogger('silent'),
        timeoutMs: 4_000,
        exit: (code) => void exits.push(code),
      },
      'SIGINT',
    );
    expect(order).toEqual(['system (deadline in ~2000 ms)', 'store', 'mongod']);
    expect(exits).toEqual([0]);
  });

  it('exits 1 at the timeout when something hangs after the drain', async () => {
    const exits: number[] = [];
    const before = Date.now();
    const done = shutdown(
      {
        system: { stop: async () => {} },
        store: { close: () => new Promise<void>(() => {}) },
        log: createLogger('silent'),
        timeoutMs: 300,
        exit: (code) => void exits.push(code),
      },
      'SIGTERM',
    );
    await vi.waitFor(() => expect(exits).toEqual([1]), { timeout: 2_000, interval: 10 });
    expect(Date.now() - before).toBeGreaterThanOrEqual(290);
    void done;
  });
});

describe('SIGTERM while a connector hangs, on a mingo stand-in for MongoDB (not a real server)', () => {
  hangingConnectorTests(async () => {
    const client = await new MingoClient(uniqueDbName('shutdown')).connect();
    const store = await openMongoStore(mongoose.createConnection().setClient(client));
    return { store, dispose: () => store.close() };
  });
});

describeMongo('SIGTERM while a connector hangs, on MongoDB', () => {
  hangingConnectorTests(async () => {
    const store = await connectTestMongoStore('shutdown');
    return { store, dispose: () => store.close() }; // drops the test database
  });
});

/** `database()` gives a store on a fresh database; every start in the test runs on it. */
function hangingConnectorTests(database: () => Promise<{ store: Store; dispose(): Promise<void> }>): void {
  it('exits within the drain deadline, leaves the job to its lock, and the next start revokes the grant', async () => {
    const { store, dispose } = await database();
    const db = store.db;
    if (!db) throw new Error('no db');
    const clock = new ManualClock(new Date());
    const hooks = await startWebhookReceiver({ secret: HOOK_SECRET, now: () => clock.now() });
    hooks.setDelay(10 * 60_000); // the target accepts the connection and never answers
    const fake = await startFakeSlack({
      users: [{ id: 'UALICE', name: 'alice', realName: 'Alice', email: 'alice@example.com', tz: 'UTC' }],
    });
    const access = parseAccessConfig(parseYaml(POLICY.replace('{{HOOK}}', hooks.url)));
    const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
    const systems: RunningSystem[] = [];
    const boot = async (store: Store, lockLifetimeMs?: number) => {
      if (!store.db) throw new Error('no db');
      const runner = createAgendaRunner({
        db: store.db,
        logger: log,
        ...(lockLifetimeMs ? { lockLifetimeMs } : {}),
      });
      const system = await startSystem({
        access,
        store,
        runner,
        clock,
        log,
        http: { port: 0 },
        slack: { botToken: fake.botToken, signingSecret: 'signing-secret', apiUrl: fake.apiUrl },
        secretFor: () => HOOK_SECRET,
      });
      systems.push(system);
      return { system, runner };
    };
    try {
      const first = await boot(store);
      // An active grant whose time is up; its grant.expire job runs now and calls the target.
      const now = clock.now();
      const grant: Grant = {
        id: 'grant-1',
        requestId: 'req-1',
        resourceId: 'prod',
        holder: { email: 'bob@example.com', name: 'Bob' },
        duration: 'PT1H',
        justification: 'incident',
        status: 'active',
        createdAt: new Date(now.getTime() - 3_600_000),
        startsAt: new Date(now.getTime() - 3_600_000),
        expiresAt: new Date(now.getTime() - 1_000),
        attempts: 0,
      };
      await store.repos.grants.insert(grant);
      await first.runner.schedule('grant.expire', new Date(), { id: grant.id });
      await vi.waitFor(() => expect(hooks.calls).toHaveLength(1), { timeout: 5_000, interval: 25 });

      // SIGTERM: the same shutdown as src/main.ts, with a 3 s timeout (1.5 s for the drain).
      const exits: number[] = [];
      const signalled = Date.now();
      await shutdown(
        {
          system: first.system,
          store: { close: async () => {} }, // kept open: the next start uses the same database
          log,
          timeoutMs: 3_000,
          exit: (code) => void exits.push(code),
        },
        'SIGTERM',
      );
      const took = Date.now() - signalled;
      expect(exits).toEqual([0]);
      expect(took).toBeLessThan(3_000);
      expect(took).toBeGreaterThanOrEqual(1_400);
      expect((await store.repos.grants.get(grant.id))?.status).toBe('revoking');
      const job = await db.collection(JOBS_COLLECTION).findOne({ name: 'grant.expire', 'data.id': grant.id });
      expect(job?.lockedAt).toBeInstanceOf(Date); // left to its lock, not orphaned

      // The next start, once the connector call's lease (60 s) has run out: its start-up sweep, or
      // the old job taken over once its lock ran out, revokes the grant (once: the other finds the
      // connector call leased, or the grant ended).
      hooks.setDelay(0);
      clock.advance(61_000);
      await boot(store, 1_000);
      await vi.waitFor(async () => expect((await store.repos.grants.get(grant.id))?.status).toBe('expired'), {
        timeout: 5_000,
        interval: 25,
      });
      const revoked = hooks.calls.filter((c) => (c.body as { event?: string }).event === 'grant.revoked');
      expect(revoked.length).toBe(2); // the hung call, and the one that went through
      await vi.waitFor(
        async () =>
          expect(await db.collection(JOBS_COLLECTION).countDocuments({ name: 'grant.expire' })).toBe(0),
        { timeout: 5_000, interval: 50 },
      );
      expect(hooks.calls).toHaveLength(2);
    } finally {
      for (const system of systems.splice(0).reverse()) await system.stop({ deadline: Date.now() + 500 });
      await hooks.close();
      await fake.close();
      await dispose();
    }
  }, 30_000);
}
