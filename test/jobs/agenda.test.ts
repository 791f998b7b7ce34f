/**
 * The Agenda runner, twice:
 *
 * 1. Always, on a mingo-backed stand-in for the driver's `Db` (test/support/mingo-db.ts). This is
 *    not MongoDB: it runs Agenda's MongoBackend and src/jobs/agenda.ts for real (their filters,
 *    updates, upserts, locking and timing) where no server can be had.
 * 2. Against a real MongoDB whenever one is reachable; skipped, saying so, otherwise.
 */
import { type Db, MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AgendaRunnerOptions,
  createAgendaRunner,
  JOBS_COLLECTION,
  LOCK_LIFETIME_MS,
  PER_KIND_LOCK_LIMIT,
} from '../../src/jobs/agenda.js';
import { SWEEP_BUDGET_MS } from '../../src/jobs/handlers.js';
import type { JobHandler, JobRunner, PeriodicHandler } from '../../src/jobs/runner.js';
import { createMingoDb } from '../support/mingo-db.js';
import { describeMongo, mongoUri, uniqueDbName } from '../support/mongo.js';
import { runRunnerContract } from './runner-contract.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('Agenda runner on a mingo stand-in for MongoDB (not a real server)', () => {
  let db: Db;
  beforeAll(() => {
    db = createMingoDb(uniqueDbName('jobs'));
  });
  agendaRunnerTests('Agenda on a mingo stand-in for MongoDB', () => db);
});

describeMongo('Agenda job runner', () => {
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    const uri = mongoUri();
    if (!uri) throw new Error('describeMongo runs this suite only with a MongoDB');
    client = await MongoClient.connect(uri);
    db = client.db(uniqueDbName('jobs'));
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  agendaRunnerTests('Agenda on MongoDB', () => db);
});

/** The tests of both suites, on the database `getDb()` returns once `beforeAll` has run. */
function agendaRunnerTests(contractName: string, getDb: () => Db): void {
  const runners: JobRunner[] = [];

  beforeEach(async () => {
    await getDb().collection(JOBS_COLLECTION).deleteMany({});
  });

  afterEach(async () => {
    for (const runner of runners.splice(0)) await runner.stop();
  });

  const make = (options: Partial<Omit<AgendaRunnerOptions, 'db'>> = {}) => {
    const runner = createAgendaRunner({
      db: getDb(),
      logger: pino({ level: 'silent' }),
      processEvery: 200,
      ...options,
    });
    runners.push(runner);
    return runner;
  };
  const jobs = () => getDb().collection(JOBS_COLLECTION);

  runRunnerContract(contractName, async ({ retry }) => make({ retry }));

  // Not a measure of speed: the deadline only tells the runner's 1 s polling interval from Agenda's
  // own 5 s default (a job scheduled after start() would wait for the next poll, 5 s later).
  it('runs a job scheduled 1 s ahead, not before its time, with the default polling interval', async () => {
    const runner = make({ processEvery: undefined });
    const ran: number[] = [];
    runner.define('grant.expire', async () => {
      ran.push(Date.now());
    });
    await runner.start();
    const scheduledAt = Date.now();
    await runner.schedule('grant.expire', new Date(scheduledAt + 1_000), { id: 'g1' });
    await vi.waitFor(() => expect(ran).toHaveLength(1), { timeout: 4_000, interval: 25 });
    expect((ran[0] ?? 0) - scheduledAt).toBeGreaterThanOrEqual(980);
  });

  it("stores each job with its kind's priority, revocations highest and home refreshes lowest", async () => {
    const runner = make();
    for (const name of ['grant.expire', 'grant.remind', 'outbox.deliver', 'home.refresh'] as const) {
      runner.define(name, async () => {});
    }
    await runner.start();
    const at = new Date(Date.now() + 60_000);
    for (const name of ['grant.expire', 'grant.remind', 'outbox.deliver', 'home.refresh'] as const) {
      await runner.schedule(name, at, { id: 'x' });
    }
    const stored = await jobs().find({ 'data.id': 'x' }).toArray();
    expect(Object.fromEntries(stored.map((d) => [d.name, d.priority]))).toEqual({
      'grant.expire': 20,
      'grant.remind': 10,
      'outbox.deliver': 0,
      'home.refresh': -10,
    });
  });

  it('keeps one document per name and id in `jobs`: scheduling again moves it', async () => {
    const runner = make();
    const inOneHour = new Date(Date.now() + 3_600_000);
    const inTwoHours = new Date(Date.now() + 7_200_000);
    await runner.schedule('grant.expire', inOneHour, { id: 'g1' });
    await runner.schedule('grant.expire', inTwoHours, { id: 'g1' });
    await runner.schedule('grant.remind', inOneHour, { id: 'g1' });
    await runner.schedule('grant.expire', inOneHour, { id: 'g2' });
    const docs = await jobs().find({ name: 'grant.expire', 'data.id': 'g1' }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.nextRunAt).toEqual(inTwoHours);
    expect(docs[0]?.data).toEqual({ id: 'g1' });
    expect(await jobs().countDocuments({})).toBe(3);
  });

  it('cancel removes the document, and only that one', async () => {
    const runner = make();
    const later = new Date(Date.now() + 3_600_000);
    await runner.schedule('grant.expire', later, { id: 'g1' });
    await runner.schedule('grant.remind', later, { id: 'g1' });
    await runner.schedule('grant.expire', later, { id: 'g2' });
    await runner.cancel('grant.expire', 'g1');
    await runner.cancel('grant.expire', 'unknown');
    expect(await jobs().countDocuments({ name: 'grant.expire', 'data.id': 'g1' })).toBe(0);
    expect(await jobs().countDocuments({})).toBe(2);
  });

  it('removes a one-off job once it has run', async () => {
    const runner = make();
    let ran = 0;
    runner.define('grant.remind', async () => {
      ran++;
    });
    await runner.start();
    await runner.schedule('grant.remind', new Date(), { id: 'g1' });
    await vi.waitFor(async () => expect(await jobs().countDocuments({ name: 'grant.remind' })).toBe(0), {
      timeout: 3_000,
      interval: 50,
    });
    expect(ran).toBe(1);
  });

  it('stores the sweep as one repeating job shared by workers, and runs it at every start', async () => {
    let runs = 0;
    const sweep = async () => {
      runs++;
    };
    const first = make();
    first.every('grants.sweep', 60_000, sweep);
    await first.start();
    expect(runs).toBe(1);
    const second = make();
    second.every('grants.sweep', 60_000, sweep);
    await second.start();
    expect(runs).toBe(2);
    const docs = await jobs().find({ name: 'grants.sweep' }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.type).toBe('single');
    expect(docs[0]?.repeatInterval).toBe(60_000);
    expect((docs[0]?.nextRunAt as Date | undefined)?.getTime()).toBeGreaterThan(Date.now() + 50_000);
  });

  it('runs the sweep again at its interval', async () => {
    const runner = make();
    let runs = 0;
    runner.every('grants.sweep', 400, async () => {
      runs++;
    });
    await runner.start();
    expect(runs).toBe(1);
    await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(3), { timeout: 3_000, interval: 25 });
  });

  it('records a job whose retries ran out, and scheduling it again starts afresh', async () => {
    const runner = make({ retry: { retries: 1, baseDelayMs: 100, maxDelayMs: 100 } });
    let calls = 0;
    runner.define('grant.retry', async () => {
      calls++;
      throw new Error('always down');
    });
    await runner.start();
    await runner.schedule('grant.retry', new Date(), { id: 'g1' });
    await vi.waitFor(
      async () => {
        const doc = await jobs().findOne({ name: 'grant.retry', 'data.id': 'g1' });
        expect(doc?.failCount).toBe(2);
        expect(doc?.lockedAt).toBeNull();
      },
      { timeout: 3_000, interval: 50 },
    );
    expect(calls).toBe(2);
    const doc = await jobs().findOne({ name: 'grant.retry', 'data.id': 'g1' });
    expect(doc?.failReason).toBe('always down');
    expect(doc?.nextRunAt).toBeNull();
    const later = new Date(Date.now() + 3_600_000);
    await runner.schedule('grant.retry', later, { id: 'g1' });
    const docs = await jobs().find({ name: 'grant.retry', 'data.id': 'g1' }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.nextRunAt).toEqual(later);
  });

  it('takes over a job whose worker died, once its lock is older than the lock lifetime', async () => {
    const runner = make({ lockLifetimeMs: 2_000 });
    const ran: string[] = [];
    runner.define('grant.expire', async ({ id }) => {
      ran.push(id);
    });
    await runner.schedule('grant.expire', new Date(Date.now() - 1_000), { id: 'stale' });
    await runner.schedule('grant.expire', new Date(Date.now() - 1_000), { id: 'fresh' });
    await jobs().updateOne({ 'data.id': 'stale' }, { $set: { lockedAt: new Date(Date.now() - 5_000) } });
    await jobs().updateOne({ 'data.id': 'fresh' }, { $set: { lockedAt: new Date() } });
    await runner.start();
    await vi.waitFor(() => expect(ran).toEqual(['stale']), { timeout: 3_000, interval: 25 });
    await sleep(500);
    expect(ran).toEqual(['stale']); // the other one is still locked by its worker...
    // ...until its lock is older than the lock lifetime too.
    await vi.waitFor(() => expect(ran).toEqual(['stale', 'fresh']), { timeout: 3_000, interval: 25 });
  });

  it('runs a job that outlives its lock lifetime once across two workers, because it renews its lock', async () => {
    const lifetime = { 'outbox.deliver': 1_000 };
    const a = make({ lockLifetimeMs: lifetime });
    const b = make({ lockLifetimeMs: lifetime });
    let runs = 0;
    let finished = 0;
    const lockedAt: number[] = [];
    const slowLane: JobHandler = async ({ id }, control) => {
      runs++;
      // 2.5 s of work, item by item, renewing the lock after each: more than twice the lifetime.
      for (let i = 0; i < 25; i++) {
        await sleep(100);
        await control.touch();
        const doc = await jobs().findOne({ name: 'outbox.deliver', 'data.id': id });
        if (doc?.lockedAt instanceof Date) lockedAt.push(doc.lockedAt.getTime());
      }
      finished++;
    };
    a.define('outbox.deliver', slowLane);
    b.define('outbox.deliver', slowLane);
    await a.start();
    await b.start();
    await a.schedule('outbox.deliver', new Date(), { id: 'lane-1' });
    await vi.waitFor(() => expect(finished).toBe(1), { timeout: 8_000, interval: 25 });
    await sleep(1_500); // long enough for a takeover, had the lock run out
    expect(runs).toBe(1);
    expect(finished).toBe(1);
    // The lock moved forward while it ran, and was never older than the lifetime.
    const first = lockedAt[0] ?? 0;
    expect((lockedAt.at(-1) ?? 0) - first).toBeGreaterThan(1_500);
    expect(await jobs().countDocuments({ name: 'outbox.deliver' })).toBe(0);
  });

  it('without renewing its lock, the same long job is taken over and run a second time (what touch() prevents)', async () => {
    const lifetime = { 'outbox.deliver': 1_000 };
    const a = make({ lockLifetimeMs: lifetime });
    const b = make({ lockLifetimeMs: lifetime });
    let runs = 0;
    const slowLane: JobHandler = async () => {
      runs++;
      await sleep(2_500);
    };
    a.define('outbox.deliver', slowLane);
    b.define('outbox.deliver', slowLane);
    await a.start();
    await b.start();
    await a.schedule('outbox.deliver', new Date(), { id: 'lane-1' });
    await vi.waitFor(() => expect(runs).toBe(2), { timeout: 5_000, interval: 25 });
  });

  it('gives each job kind its own lock lifetime, above its worst case', () => {
    // A connector call may take 50 s (policy-schema.ts); a lock must outlast one, with room to spare.
    expect(LOCK_LIFETIME_MS['grant.expire']).toBeGreaterThanOrEqual(2 * 50_000);
    expect(LOCK_LIFETIME_MS['grant.retry']).toBeGreaterThanOrEqual(2 * 50_000);
    // An outbox run renews its lock after each message (a few chat calls of 10 s each).
    expect(LOCK_LIFETIME_MS['outbox.deliver']).toBeGreaterThanOrEqual(2 * 50_000);
    // The sweep stops taking items after its budget; one more item (a connector call) must still fit.
    expect(SWEEP_BUDGET_MS + 50_000).toBeLessThan(LOCK_LIFETIME_MS['grants.sweep']);
  });

  it('the sweep, running longer than its lock lifetime, renews its lock and never runs on two workers at once', async () => {
    const lifetime = { 'grants.sweep': 1_000 };
    let long = false;
    let running = 0;
    let most = 0;
    let runs = 0;
    const sweep: PeriodicHandler = async (control) => {
      if (!long) return; // the start-up runs are quick
      running++;
      runs++;
      most = Math.max(most, running);
      try {
        for (let i = 0; i < 20; i++) {
          await sleep(100);
          await control.touch();
        }
      } finally {
        running--;
      }
    };
    const a = make({ lockLifetimeMs: lifetime });
    const b = make({ lockLifetimeMs: lifetime });
    a.every('grants.sweep', 300, sweep);
    b.every('grants.sweep', 300, sweep);
    await a.start();
    await b.start();
    long = true;
    await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(2), { timeout: 8_000, interval: 25 });
    long = false;
    expect(most).toBe(1);
  });

  it('a worker starting while another runs the sweep leaves that sweep locked and does not start it again', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let hanging = false;
    let release = () => {};
    const hang = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sweep: PeriodicHandler = async () => {
      running++;
      runs++;
      most = Math.max(most, running);
      try {
        if (hanging) await hang;
      } finally {
        running--;
      }
    };
    const a = make({ workerName: 'worker-a' });
    a.every('grants.sweep', 300, sweep);
    await a.start();
    hanging = true;
    await vi.waitFor(() => expect(running).toBe(1), { timeout: 3_000, interval: 10 });
    const locked = await jobs().findOne({ name: 'grants.sweep' });
    expect(locked?.lockedAt).toBeInstanceOf(Date);
    // A rolling restart: worker B starts (defines the sweep, runs it at start) while A runs it.
    const b = make({ workerName: 'worker-b' });
    b.every('grants.sweep', 300, sweep);
    await b.start();
    await sleep(800); // several intervals
    const still = await jobs().findOne({ name: 'grants.sweep' });
    expect(still?.lockedAt).toEqual(locked?.lockedAt);
    expect(still?.lastModifiedBy).toBe('worker-a');
    expect(most).toBe(1);
    const before = runs;
    release();
    await vi.waitFor(() => expect(runs).toBeGreaterThan(before), { timeout: 3_000, interval: 25 });
    expect(most).toBe(1);
    expect(await jobs().countDocuments({ name: 'grants.sweep' })).toBe(1);
  });

  it('locks at most its limit of due jobs, leaving the rest to other workers', async () => {
    let release = () => {};
    const hang = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler: JobHandler = async () => {
      await hang;
    };
    const a = make({ workerName: 'worker-a' });
    a.define('grant.expire', handler);
    // Downtime: thirty jobs are due at once.
    for (let i = 0; i < 30; i++)
      await a.schedule('grant.expire', new Date(Date.now() - 1_000), { id: `g${i}` });
    await a.start();
    const lockedBy = (worker: string) =>
      jobs().countDocuments({ lastModifiedBy: worker, lockedAt: { $ne: null } });
    await vi.waitFor(async () => expect(await lockedBy('worker-a')).toBe(PER_KIND_LOCK_LIMIT), {
      timeout: 3_000,
      interval: 25,
    });
    await sleep(600); // a few more polls
    expect(await lockedBy('worker-a')).toBe(PER_KIND_LOCK_LIMIT);
    const b = make({ workerName: 'worker-b' });
    b.define('grant.expire', handler);
    await b.start();
    await vi.waitFor(async () => expect(await lockedBy('worker-b')).toBe(PER_KIND_LOCK_LIMIT), {
      timeout: 3_000,
      interval: 25,
    });
    release();
  });

  it('a claimed job that was rescheduled meanwhile does not run at its old time', async () => {
    const runner = make();
    const ran: string[] = [];
    runner.define('grant.remind', async ({ id }) => {
      ran.push(id);
    });
    // Claimed by a worker that died (lock older than the lock lifetime), due now...
    await runner.schedule('grant.remind', new Date(Date.now() - 1_000), { id: 'g1' });
    await jobs().updateOne({ 'data.id': 'g1' }, { $set: { lockedAt: new Date(Date.now() - 120_000) } });
    // ...and moved to later while it was claimed: a new pending job is added beside it.
    const later = new Date(Date.now() + 3_600_000);
    await runner.schedule('grant.remind', later, { id: 'g1' });
    expect(await jobs().countDocuments({ name: 'grant.remind', 'data.id': 'g1' })).toBe(2);
    await runner.start();
    await vi.waitFor(
      async () => expect(await jobs().countDocuments({ name: 'grant.remind', 'data.id': 'g1' })).toBe(1),
      { timeout: 3_000, interval: 50 },
    );
    expect(ran).toEqual([]);
    const left = await jobs().findOne({ name: 'grant.remind', 'data.id': 'g1' });
    expect(left?.nextRunAt).toEqual(later);
  });

  it('keeps a schedule made while the same job finishes (between Agenda saving it finished and deleting it)', async () => {
    // Agenda saves a finished job, then deletes it: the schedule lands in between, every time.
    let between: (() => Promise<void>) | undefined;
    const db = beforeDelete(getDb(), JOBS_COLLECTION, async () => {
      const schedule = between;
      between = undefined;
      await schedule?.();
    });
    const runner = createAgendaRunner({ db, logger: pino({ level: 'silent' }), processEvery: 200 });
    runners.push(runner);
    let runs = 0;
    runner.define('grant.remind', async () => {
      runs++;
    });
    const later = new Date(Date.now() + 3_600_000);
    between = () => runner.schedule('grant.remind', later, { id: 'g1' });
    await runner.start();
    await runner.schedule('grant.remind', new Date(), { id: 'g1' });
    await vi.waitFor(() => expect(between).toBeUndefined(), { timeout: 3_000, interval: 25 });
    await sleep(300);
    expect(runs).toBe(1);
    const docs = await jobs().find({ name: 'grant.remind', 'data.id': 'g1' }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.nextRunAt).toEqual(later);
    expect(docs[0]?.lockedAt).toBeNull();
  });

  it('shutdown leaves no orphaned job: a started one-off keeps its lock for the next worker, a queued one is released', async () => {
    const worker = 'worker-a';
    const a = make({ workerName: worker });
    a.define('grant.expire', async () => {});
    // What the database holds for worker A at shutdown: a one-off it started (Agenda cleared its
    // nextRunAt when the run began) whose handler is still going, and one it queued for later.
    const lockedAt = new Date();
    await a.schedule('grant.expire', new Date(Date.now() - 1_000), { id: 'started' });
    await a.schedule('grant.expire', new Date(Date.now() + 60_000), { id: 'queued' });
    await jobs().updateOne(
      { 'data.id': 'started' },
      { $set: { lockedAt, nextRunAt: null, lastRunAt: lockedAt, lastModifiedBy: worker } },
    );
    await jobs().updateOne({ 'data.id': 'queued' }, { $set: { lockedAt, lastModifiedBy: worker } });
    await a.start();
    await a.stop();
    const started = await jobs().findOne({ 'data.id': 'started' });
    const queued = await jobs().findOne({ 'data.id': 'queued' });
    expect(started?.lockedAt).toEqual(lockedAt); // unlocked, it would never match a lock query again
    expect(queued?.lockedAt).toBeNull();
    // The next worker takes the started one over once its lock runs out, and runs it.
    const b = make({ lockLifetimeMs: 1_500 });
    const ran: string[] = [];
    b.define('grant.expire', async ({ id }) => {
      ran.push(id);
    });
    await b.start();
    await vi.waitFor(() => expect(ran).toEqual(['started']), { timeout: 4_000, interval: 25 });
    expect(await jobs().countDocuments({ 'data.id': 'started' })).toBe(0);
  });

  it('stop() with a deadline leaves a hanging job locked, and the next worker runs it once the lock runs out', async () => {
    const a = make();
    let release = () => {};
    const hang = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    a.define('grant.expire', async () => {
      started = true;
      await hang; // a connector call that does not answer
    });
    await a.start();
    await a.schedule('grant.expire', new Date(), { id: 'g1' });
    await vi.waitFor(() => expect(started).toBe(true), { timeout: 3_000, interval: 25 });
    const before = Date.now();
    await a.stop({ deadline: before + 300 });
    expect(Date.now() - before).toBeLessThan(1_500);
    const left = await jobs().findOne({ name: 'grant.expire', 'data.id': 'g1' });
    expect(left?.lockedAt).toBeInstanceOf(Date);
    const b = make({ lockLifetimeMs: 1_000 });
    const ran: string[] = [];
    b.define('grant.expire', async ({ id }) => {
      ran.push(id);
    });
    await b.start();
    await vi.waitFor(() => expect(ran).toEqual(['g1']), { timeout: 4_000, interval: 25 });
    release();
  });

  it('a sweep still running at the drain deadline keeps its lock, so no other worker starts it meanwhile', async () => {
    const a = make({ workerName: 'worker-a' });
    let hanging = false;
    let inside = false;
    let release = () => {};
    const hang = new Promise<void>((resolve) => {
      release = resolve;
    });
    a.every('grants.sweep', 300, async () => {
      if (!hanging) return; // the start-up run is quick
      inside = true;
      await hang;
    });
    await a.start();
    hanging = true;
    await vi.waitFor(() => expect(inside).toBe(true), { timeout: 3_000, interval: 25 });
    await a.stop({ deadline: Date.now() + 200 });
    const doc = await jobs().findOne({ name: 'grants.sweep' });
    expect(doc?.lockedAt).toBeInstanceOf(Date);
    expect(doc?.lastModifiedBy).toBe('worker-a');
    expect(doc?.nextRunAt).toBeInstanceOf(Date); // a repeating job keeps its next run while it runs
    release();
  });

  it('hands a job back, due now, when it comes to run while the worker drains', async () => {
    const a = make({ processEvery: 2_000 });
    const ran: string[] = [];
    let release = () => {};
    const hang = new Promise<void>((resolve) => {
      release = resolve;
    });
    a.define('grant.expire', async ({ id }) => {
      ran.push(id);
      if (id === 'first') await hang;
    });
    // At start the first runs (and hangs) and the second is taken, queued for 1 s from now.
    await a.schedule('grant.expire', new Date(), { id: 'first' });
    await a.schedule('grant.expire', new Date(Date.now() + 1_000), { id: 'second' });
    await a.start();
    await vi.waitFor(() => expect(ran).toEqual(['first']), { timeout: 900, interval: 10 });
    expect((await jobs().findOne({ 'data.id': 'second' }))?.lockedAt).toBeInstanceOf(Date);
    await a.stop({ deadline: Date.now() + 1_500 });
    expect(ran).toEqual(['first']);
    const second = await jobs().findOne({ name: 'grant.expire', 'data.id': 'second' });
    expect(second?.lockedAt ?? null).toBeNull();
    expect(second?.nextRunAt).toBeInstanceOf(Date);
    const b = make();
    b.define('grant.expire', async ({ id }) => {
      ran.push(id);
    });
    await b.start();
    await vi.waitFor(() => expect(ran).toEqual(['first', 'second']), { timeout: 3_000, interval: 25 });
    release();
  });

  it('stop() lets a running job finish (drain) and leaves it removed, not locked', async () => {
    const runner = make();
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    let finished = false;
    runner.define('grant.expire', async () => {
      started = true;
      await gate;
      finished = true;
    });
    await runner.start();
    await runner.schedule('grant.expire', new Date(), { id: 'g1' });
    await vi.waitFor(() => expect(started).toBe(true), { timeout: 3_000, interval: 25 });
    const stopping = runner.stop();
    await sleep(200);
    expect(finished).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(runner.ready()).toBe(false);
    expect(await jobs().countDocuments({ name: 'grant.expire' })).toBe(0);
  });
}

/**
 * `db` whose collection `name` runs `hook` before each deleteMany (and otherwise is the same
 * collection): a way to act at an exact point of Agenda's work, on the stand-in and on MongoDB alike.
 */
function beforeDelete(db: Db, name: string, hook: () => Promise<void>): Db {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(target, prop, receiver);
      return (collectionName: string, ...rest: unknown[]) => {
        const collection = (target.collection as (n: string, ...r: unknown[]) => object)(
          collectionName,
          ...rest,
        );
        if (collectionName !== name) return collection;
        return new Proxy(collection, {
          get(c, key) {
            const value: unknown = Reflect.get(c, key, c);
            if (typeof value !== 'function') return value;
            if (key !== 'deleteMany') return value.bind(c);
            return async (...args: unknown[]) => {
              await hook();
              return value.apply(c, args);
            };
          },
        });
      };
    },
  });
}
