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
import { type AgendaRunnerOptions, createAgendaRunner, JOBS_COLLECTION } from '../../src/jobs/agenda.js';
import type { JobRunner } from '../../src/jobs/runner.js';
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
