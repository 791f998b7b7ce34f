/**
 * The production scheduler: Agenda 6 on the application's MongoDB database, collection `jobs`.
 *
 * One pending job per (name, id). `schedule` upserts on the unclaimed job of that name and id
 * (`lockedAt: null`) that is not finished, so scheduling again moves the pending job rather than
 * adding one. Finished means run to success: Agenda saves such a job (`nextRunAt: null`, no
 * `failCount`) and then deletes it, so a schedule that matched it in between would be deleted with
 * it. A job whose retries ran out (`failCount > 0`) stays, and scheduling starts it afresh.
 * A job that a worker has already claimed (locked: running, or queued to run within
 * `processEvery`) is left alone and a new pending job is added next to it, because Agenda rewrites a claimed job's `nextRunAt` when it runs; that
 * is what keeps a handler's own rescheduling (`grant.retry` rescheduling itself) from being lost.
 * When a claimed job comes to run while a pending job of the same name and id exists, it was
 * superseded: its handler is skipped and the pending one runs at its time.
 *
 * A job whose handler throws is retried with exponential backoff (`retryDelayMs`, the in-process
 * runner's too, given to Agenda as its `backoff`). The periodic sweep is one repeating Agenda job
 * shared by all workers, and also runs once at every start(), under the same shared lock (skipped
 * when another worker runs it right now). Defining it never resets that lock.
 *
 * Limits. A worker locks at most `PER_KIND_LOCK_LIMIT` jobs of a kind and `TOTAL_LOCK_LIMIT` in all,
 * so after downtime the due jobs spread over the workers instead of queueing behind one.
 *
 * Shutdown. stop() drains until its deadline; a job still running then keeps its lock (the next
 * worker takes it over), jobs queued and not started are released, and a job that comes to run
 * while draining is handed back, due now.
 *
 * Locks. A worker that dies holding a job loses it once the lock is older than the job kind's lock
 * lifetime (`LOCK_LIFETIME_MS`); another worker then takes it. Agenda also cancels a job of its own
 * whose lock outlives that lifetime while the handler keeps running, so each kind's lifetime is
 * above its worst case, and handlers that loop (the sweep, an outbox lane) renew the lock between
 * items (`JobControl.touch`). A run is therefore never taken for a dead worker's and run twice.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda, type AgendaBackend, type Job, type JobWithId } from 'agenda';
import { type Db, ObjectId } from 'mongodb';
import type { Log } from '../domain/events.js';
import type { JobData, JobName } from '../domain/ports.js';
import { createIndexKeepingExisting } from '../store/mongo/create-index.js';
import {
  assertValidDate,
  assertValidInterval,
  JOB_CONCURRENCY,
  JOB_PRIORITY,
  type JobControl,
  type JobHandler,
  type JobRunner,
  type PeriodicHandler,
  type PeriodicTaskName,
  type RetryPolicy,
  retryDelayMs,
  retryPolicy,
  type StopOptions,
} from './runner.js';

export const JOBS_COLLECTION = 'jobs';

type JobKind = JobName | PeriodicTaskName;

/**
 * The indexes of `jobs`: the one Agenda's MongoBackend creates itself (same name and keys), made by
 * start() instead so that a failure surfaces there rather than as an unhandled rejection in
 * Agenda's constructor, and the one `schedule` and `cancel` look jobs up by.
 */
export const JOB_INDEXES: ReadonlyArray<{ name: string; key: Record<string, 1 | -1> }> = [
  { name: 'findAndLockNextJobIndex', key: { name: 1, nextRunAt: 1, priority: -1, lockedAt: 1, disabled: 1 } },
  { name: 'name_data_id', key: { name: 1, 'data.id': 1 } },
];

/**
 * How long a worker's lock on a job of each kind holds before the job is taken for abandoned, chosen
 * above each kind's worst case (the connector timeout is at most 50 s, policy-schema.ts; a chat
 * call at most 10 s, each outbox run sends at most 5 messages, outbox.ts; the sweep stops taking
 * items after `SWEEP_BUDGET_MS`, handlers.ts). The kinds that loop also renew their lock after each
 * item, so these bound one item, not a whole run.
 */
export const LOCK_LIFETIME_MS: Readonly<Record<JobKind, number>> = {
  // store writes and queued messages only
  'request.expire': 60_000,
  'grant.remind': 60_000,
  // store writes; the revocations it starts run as grant.retry jobs
  'resource.window_end': 60_000,
  // one connector call (at most 50 s) and store writes
  'grant.expire': 2 * 60_000,
  'grant.retry': 2 * 60_000,
  // one message per renewal: a few chat calls of at most 10 s each
  'outbox.deliver': 2 * 60_000,
  // one person's home: a few store reads and one chat call of at most 10 s
  'home.refresh': 60_000,
  // one item per renewal, and a run stops taking items after 2 minutes
  'grants.sweep': 5 * 60_000,
};

export interface AgendaRunnerOptions {
  db: Db;
  /** A pino logger (or anything with the same methods). */
  logger: Log;
  /** How often to look for due jobs. Default 1 second. */
  processEvery?: string | number;
  /**
   * A job locked for longer than this is taken over by another worker: one value for every kind, or
   * some kinds' own. Default `LOCK_LIFETIME_MS`.
   */
  lockLifetimeMs?: number | Partial<Record<JobKind, number>>;
  retry?: Partial<RetryPolicy>;
  /** This worker's name in `lastModifiedBy`. Default: host, pid and a random suffix. */
  workerName?: string;
  /**
   * How many jobs this worker locks at once: of each kind (also how many of a kind run at once,
   * default `PER_KIND_LOCK_LIMIT`) and in all (default `TOTAL_LOCK_LIMIT`). What is due beyond that
   * stays unlocked for other workers, rather than waiting in this worker's queue with its lock ageing.
   */
  lockLimit?: { perKind?: number; total?: number };
}

/** Jobs of one kind a worker locks, and runs, at once. The sweep: one. */
export const PER_KIND_LOCK_LIMIT = JOB_CONCURRENCY.perKind;
/** Jobs a worker locks at once in all: as many as Agenda runs at once (its `maxConcurrency`). */
export const TOTAL_LOCK_LIMIT = JOB_CONCURRENCY.total;

interface Periodic {
  name: PeriodicTaskName;
  intervalMs: number;
  handler: PeriodicHandler;
}

export function createAgendaRunner(options: AgendaRunnerOptions): JobRunner {
  return new AgendaRunner(options);
}

class AgendaRunner implements JobRunner {
  private readonly agenda: Agenda;
  private readonly db: Db;
  private readonly log: Log;
  private readonly workerName: string;
  private readonly retry: RetryPolicy;
  private readonly lockLifetimes: Readonly<Record<JobKind, number>>;
  private readonly perKindLockLimit: number;
  private readonly periodic = new Map<PeriodicTaskName, Periodic>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Ids of the jobs whose handlers run in this worker now: their locks are never released here. */
  private readonly running = new Set<string>();
  private state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' = 'idle';
  private starting: Promise<void> | undefined;

  constructor(options: AgendaRunnerOptions) {
    this.db = options.db;
    this.log = options.logger;
    this.retry = retryPolicy(options.retry);
    const lifetimes = options.lockLifetimeMs;
    this.lockLifetimes =
      typeof lifetimes === 'number'
        ? (Object.fromEntries(Object.keys(LOCK_LIFETIME_MS).map((k) => [k, lifetimes])) as Record<
            JobKind,
            number
          >)
        : { ...LOCK_LIFETIME_MS, ...lifetimes };
    this.workerName = options.workerName ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.perKindLockLimit = options.lockLimit?.perKind ?? PER_KIND_LOCK_LIMIT;
    const totalLockLimit = options.lockLimit?.total ?? TOTAL_LOCK_LIMIT;
    this.agenda = new Agenda({
      backend: storageOnly(
        new MongoBackend({ mongo: options.db, collection: JOBS_COLLECTION, ensureIndex: false }),
      ),
      name: this.workerName,
      processEvery: options.processEvery ?? '1 second',
      // Every kind is defined with its own; this is only Agenda's fallback.
      defaultLockLifetime: LOCK_LIFETIME_MS['request.expire'],
      // Without limits one worker locks every due job after downtime, and most wait in its queue.
      maxConcurrency: totalLockLimit,
      lockLimit: totalLockLimit,
      // Finished one-off jobs leave the collection; failed ones stay (failReason) until rescheduled.
      removeOnComplete: true,
    });
    this.agenda.on('fail', (error: Error, job: JobWithId) => {
      this.log.warn({ err: error, ...jobFields(job), failCount: job.attrs.failCount }, 'job.failed');
    });
    this.agenda.on('retry exhausted', (error: Error, job: JobWithId) => {
      this.log.error(
        { err: error, ...jobFields(job), failCount: job.attrs.failCount },
        'job.retries_exhausted',
      );
    });
    // Agenda reports lock and processing errors here; without a listener they would crash the process.
    this.agenda.on('error', (error: Error) => this.log.error({ err: error }, 'jobs.error'));
  }

  private get jobs() {
    return this.db.collection(JOBS_COLLECTION);
  }

  // ------------------------------------------------------------------ Scheduler

  async schedule(name: JobName, at: Date, data: JobData): Promise<void> {
    assertValidDate(at, `schedule(${name})`);
    await this.agenda
      .create<JobData>(name, { id: data.id, ...(data.reqId ? { reqId: data.reqId } : {}) })
      .unique({
        'data.id': data.id,
        lockedAt: null,
        $or: [{ nextRunAt: { $ne: null } }, { failCount: { $gt: 0 } }],
      })
      .schedule(at)
      .save();
  }

  async cancel(name: JobName, id: string): Promise<void> {
    // Removes claimed copies too: a queued one then fails to save its state and never runs; a
    // running one finishes, and its retry (if it throws) is lost with the document.
    await this.agenda.cancel({ name, data: { id } });
  }

  // ------------------------------------------------------------------ JobRunner

  define(name: JobName, handler: JobHandler): void {
    const retry = this.retry;
    this.agenda.define<JobData>(
      name,
      async (job: Job<JobData>) => {
        const id = (job.attrs.data as Partial<JobData> | null | undefined)?.id;
        const reqId = (job.attrs.data as Partial<JobData> | null | undefined)?.reqId;
        if (typeof id !== 'string') {
          this.log.error({ job: name, jobId: job.attrs._id }, 'job.bad_data');
          return;
        }
        if (await this.superseded(job, id)) {
          this.log.debug({ job: name, id }, 'job.superseded');
          return;
        }
        if (this.stopping()) {
          // Taken from the queue while this worker drains: handed back, due now, for another worker.
          job.attrs.nextRunAt = new Date();
          this.log.debug({ job: name, id }, 'job.handed_back');
          return;
        }
        await this.whileRunning(job, () =>
          handler({ id, ...(typeof reqId === 'string' ? { reqId } : {}) }, this.control(name, job)),
        );
      },
      {
        lockLifetime: this.lockLifetimes[name],
        // Agenda's priority (higher first) from JOB_PRIORITY (lower first). Agenda orders its queue by
        // due time and breaks ties by priority, so among jobs due at the same moment revocations start
        // before reminders and deadlines, and those before messages and home refreshes.
        priority: agendaPriority(name),
        concurrency: this.perKindLockLimit,
        lockLimit: this.perKindLockLimit,
        // The same delays as the in-process runner (runner.ts); null: retries used up.
        backoff: ({ attempt }) => retryDelayMs(retry, attempt),
      },
    );
  }

  every(name: PeriodicTaskName, intervalMs: number, handler: PeriodicHandler): void {
    assertValidInterval(intervalMs);
    if (this.state !== 'idle') throw new Error('every() must be called before start()');
    this.periodic.set(name, { name, intervalMs, handler });
    // One run at a time per worker; not retried, the next interval is the retry.
    // Not started while this worker drains: the next interval (Agenda set it already) is soon enough.
    const run = async (job: Job) => {
      if (!this.stopping()) await this.runPeriodic(name, handler, this.control(name, job));
    };
    this.agenda.define(name, (job: Job) => this.whileRunning(job, () => run(job)), {
      concurrency: 1,
      lockLimit: 1,
      lockLifetime: this.lockLifetimes[name],
    });
  }

  start(): Promise<void> {
    if (this.state === 'running') return Promise.resolve();
    if (this.state === 'starting' && this.starting) return this.starting;
    if (this.state !== 'idle') return Promise.reject(new Error('the job runner was stopped; make a new one'));
    this.state = 'starting';
    this.starting = this.track(this.doStart());
    return this.starting;
  }

  private async doStart(): Promise<void> {
    try {
      await this.ensureIndexes();
      for (const task of this.periodic.values()) {
        // One shared document per task; its first run is an interval from now, because...
        await this.definePeriodicJob(task);
      }
      if (this.state !== 'starting') return; // stop() was called meanwhile: take no work
      await this.agenda.start();
      // ...every worker runs the periodic tasks once at start, so work overdue after downtime happens now.
      await Promise.all([...this.periodic.values()].map((task) => this.runPeriodicAtStart(task)));
    } catch (error) {
      if (this.state === 'starting') this.state = 'idle';
      await this.agenda.drain({ closeConnection: false, timeout: 0 }).catch(() => undefined);
      await this.releaseQueuedLocks();
      throw error;
    }
    if (this.state === 'starting') this.state = 'running';
  }

  /**
   * Stops taking work and lets running jobs finish, until `options.deadline` at most: handlers that
   * loop see `shouldStop()` and return at their next item. A job still running at the deadline
   * keeps its lock, and another worker takes it over once the lock runs out (every job is
   * idempotent); the queued ones are released at once.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.state === 'stopped') return;
    const wasStarted = this.state !== 'idle';
    this.state = 'stopping';
    const { deadline } = options;
    const left = () => (deadline === undefined ? undefined : Math.max(0, deadline - Date.now()));
    if (this.starting)
      await within(
        this.starting.catch(() => undefined),
        left(),
      );
    if (wasStarted) {
      // Stops polling and waits for running jobs; the database connection is not ours to close.
      const timeout = left();
      const result = await this.agenda.drain({
        closeConnection: false,
        ...(timeout === undefined ? {} : { timeout }),
      });
      if (result.timedOut) {
        this.log.warn({ completed: result.completed, running: result.running }, 'jobs.drain_timeout');
      } else {
        this.log.info({ completed: result.completed }, 'jobs.drained');
      }
    }
    while (this.inFlight.size > 0) {
      if (!(await within(Promise.allSettled([...this.inFlight]), left()))) {
        this.log.warn({ running: this.inFlight.size }, 'jobs.drain_timeout');
        break;
      }
    }
    if (wasStarted) await this.releaseQueuedLocks();
    this.state = 'stopped';
  }

  ready(): boolean {
    return this.state === 'running';
  }

  // ------------------------------------------------------------------ internals

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = () => this.inFlight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /**
   * What a running job of `kind` may ask: `touch()` renews the job's lock in Agenda (in memory, which
   * Agenda's own expiry check reads, and in the database), at most once per sixth of its lifetime.
   * Without a job (the start-up run of a periodic task) there is no lock to renew.
   */
  private control(kind: JobKind, job: Job | undefined): JobControl {
    const every = this.lockLifetimes[kind] / 6;
    let renewed = Date.now();
    return {
      touch: async () => {
        if (!job || Date.now() - renewed < every) return;
        renewed = Date.now();
        await job.touch();
      },
      shouldStop: () => this.stopping(),
    };
  }

  /**
   * The shared document of a periodic task, as Agenda's `every()` makes it (type `single`, one per
   * name) but without what `every()` also does on every start: set `lockedAt: null`, which during a
   * rolling restart releases a sweep another worker is running, so that it can be started again
   * beside itself. A live lock is left alone; the interval is brought up to date, and the next run
   * moved earlier if the interval got shorter.
   */
  private async definePeriodicJob(task: Periodic): Promise<void> {
    await this.jobs.updateOne(
      { name: task.name, type: 'single' },
      {
        $setOnInsert: {
          data: null,
          priority: 0,
          lockedAt: null,
          lastRunAt: null,
          lastFinishedAt: null,
          disabled: null,
          lastModifiedBy: this.workerName,
        },
        $set: { repeatInterval: task.intervalMs, repeatTimezone: null },
        $min: { nextRunAt: new Date(Date.now() + task.intervalMs) },
      },
      { upsert: true },
    );
  }

  /**
   * The run of a periodic task at start, under the task's shared lock, as Agenda would take it: if
   * another worker (or this one's Agenda) runs the task right now, it is not started beside it.
   */
  private async runPeriodicAtStart(task: Periodic): Promise<void> {
    const lifetime = this.lockLifetimes[task.name];
    const lockedAt = new Date();
    const doc = await this.jobs.findOneAndUpdate(
      {
        name: task.name,
        type: 'single',
        disabled: { $ne: true },
        $or: [{ lockedAt: null }, { lockedAt: { $lte: new Date(lockedAt.getTime() - lifetime) } }],
      },
      { $set: { lockedAt, lastModifiedBy: this.workerName } },
      { returnDocument: 'after', projection: { _id: 1 } },
    );
    if (!doc) {
      this.log.info({ task: task.name }, 'periodic.running_elsewhere');
      return;
    }
    const id = String(doc._id);
    let held = lockedAt;
    const control: JobControl = {
      touch: async () => {
        if (Date.now() - held.getTime() < lifetime / 6) return;
        const renewed = new Date();
        const result = await this.jobs.updateOne(
          { _id: doc._id, lockedAt: held },
          { $set: { lockedAt: renewed } },
        );
        if (result.matchedCount !== 1) throw new Error(`${task.name}: the lock was lost`);
        held = renewed;
      },
      shouldStop: () => this.stopping(),
    };
    this.running.add(id);
    try {
      await this.runPeriodic(task.name, task.handler, control);
    } finally {
      this.running.delete(id);
      await this.jobs
        .updateOne({ _id: doc._id, lockedAt: held }, { $set: { lockedAt: null } })
        .catch((error: unknown) => this.log.warn({ err: error, task: task.name }, 'periodic.unlock_failed'));
    }
  }

  private stopping(): boolean {
    return this.state === 'stopping' || this.state === 'stopped';
  }

  private async whileRunning(job: Job, run: () => Promise<void>): Promise<void> {
    const id = String(job.attrs._id);
    this.running.add(id);
    try {
      await run();
    } finally {
      this.running.delete(id);
    }
  }

  private runPeriodic(name: PeriodicTaskName, handler: PeriodicHandler, control: JobControl): Promise<void> {
    return this.track(
      handler(control).catch((error: unknown) => {
        this.log.error({ err: error, task: name }, 'periodic.failed');
      }),
    );
  }

  /** True when another pending (unclaimed, scheduled) job of the same name and id exists. */
  private async superseded(job: Job<JobData>, id: string): Promise<boolean> {
    const own = job.attrs._id;
    if (!own) return false;
    const other = await this.jobs.findOne(
      {
        name: job.attrs.name,
        'data.id': id,
        _id: { $ne: new ObjectId(own) },
        lockedAt: null,
        nextRunAt: { $ne: null },
      },
      { projection: { _id: 1 } },
    );
    return other !== null;
  }

  private async ensureIndexes(): Promise<void> {
    // Created, never dropped: one that exists with another definition is kept and reported.
    for (const index of JOB_INDEXES) {
      await createIndexKeepingExisting(this.jobs, index.key, { name: index.name }, this.log);
    }
  }

  /**
   * drain() lets running jobs finish but keeps the locks of jobs this worker had queued and not yet
   * started; release them so another worker need not wait for the lock lifetime. Only those: a job
   * whose handler is still running here (a drain that ran out of time, or a job Agenda gave up on
   * while its handler went on) keeps its lock, so that another worker takes it over once the lock
   * runs out. A running one-off has no `nextRunAt` (Agenda clears it when the run starts); unlocked,
   * it would match no lock query again and never run. Agenda's own `unlockJob` has the same guard.
   */
  private async releaseQueuedLocks(): Promise<void> {
    try {
      const result = await this.jobs.updateMany(
        {
          lastModifiedBy: this.workerName,
          lockedAt: { $ne: null },
          nextRunAt: { $ne: null },
          _id: { $nin: [...this.running].map((id) => new ObjectId(id)) },
        },
        { $set: { lockedAt: null } },
      );
      if (result.modifiedCount > 0) this.log.info({ released: result.modifiedCount }, 'jobs.locks_released');
    } catch (error) {
      this.log.warn({ err: error }, 'jobs.release_locks_failed');
    }
  }
}

/**
 * MongoBackend without its connect-time side effects: index creation (done in start() instead) and
 * the job-event log collection (not used). Agenda connects in its constructor without handling
 * errors, so connecting must not touch the database.
 */
function storageOnly(mongo: MongoBackend): AgendaBackend {
  return {
    name: mongo.name,
    repository: mongo.repository,
    notificationChannel: undefined,
    ownsConnection: false,
    connect: () => mongo.repository.connect(),
    disconnect: async () => {},
  };
}

/** Whether `promise` settled within `ms` (always, when `ms` is undefined). */
async function within(promise: Promise<unknown>, ms: number | undefined): Promise<boolean> {
  if (ms === undefined) {
    await promise;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

function jobFields(job: Job<unknown>): { job: string; id?: unknown } {
  const data = job.attrs.data as Partial<JobData> | undefined;
  return { job: job.attrs.name, ...(data?.id ? { id: data.id } : {}) };
}

/** Agenda's priority for a job kind: JOB_PRIORITY 0 → 20 ("highest"), 1 → 10, 2 → 0 ("normal"), 3 → -10. */
export function agendaPriority(name: JobName): number {
  return 20 - 10 * JOB_PRIORITY[name];
}
