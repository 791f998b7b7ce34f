/**
 * A scheduler held in memory, driven by an injected clock.
 *
 * - With a `ManualClock` (tests) nothing runs by itself: `runDue()` runs what is due now and
 *   `advance(ms)` moves the clock from one due time to the next, so every handler sees `now` equal
 *   to its due time and reminders, expiries and revocations happen in order, without sleeping.
 * - With any other clock (the demo, on `systemClock`) `start()` arms one timer for the earliest due
 *   job (re-armed on every schedule and cancel) and one interval per periodic task.
 *
 * Due jobs start earliest first (ties in scheduling order). With a manual clock they run one at a
 * time; on real timers up to `concurrency` at once (`IN_PROCESS_CONCURRENCY`: 32 of a kind and 64
 * in all, since nearly every job waits on a chat API or the connector), so that a slow connector or chat API does not hold up every other job, and a
 * backlog of thousands (10,000 grants expiring in the same minute) drains at the rate the work
 * allows. Two runs of the same job (name and id) never overlap. Nothing survives a restart: the
 * periodic sweep, run at start, picks up whatever was due.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Clock, ManualClock } from '../domain/clock.js';
import type { Log } from '../domain/events.js';
import type { JobData, JobName } from '../domain/ports.js';
import { JobQueue, type QueuedJob } from './job-queue.js';
import {
  assertValidDate,
  assertValidInterval,
  IN_PROCESS_CONCURRENCY,
  JOB_PRIORITY,
  type JobConcurrency,
  type JobControl,
  type JobHandler,
  type JobRunner,
  type PeriodicHandler,
  type PeriodicTaskName,
  type RetryPolicy,
  retryDelayMs,
  retryPolicy,
  type StopOptions,
  silentLog,
} from './runner.js';

export interface InProcessRunnerOptions {
  clock: Clock;
  logger?: Log;
  retry?: Partial<RetryPolicy>;
  /** Run jobs from real timers after start(). Default: yes, unless the clock is a `ManualClock`. */
  timers?: boolean;
  /**
   * Without timers (a manual clock): still run, by themselves, the jobs that are due at the
   * clock's current time (what a click or a job schedules for "now"), as soon as they are
   * scheduled. Time itself still moves only through `advance()`. Default: no.
   */
  runDueJobs?: boolean;
  /**
   * How many jobs run at once: of one name, and in all. Default: one at a time with a manual
   * clock (tests see a strict order), `IN_PROCESS_CONCURRENCY` on real timers.
   */
  concurrency?: Partial<JobConcurrency>;
  /**
   * Start due jobs by `JOB_PRIORITY` first (a job of a lower priority starts only while none of a
   * higher one is due), then earliest first. Default: on with real timers, off with a manual clock
   * (tests see jobs in time order).
   */
  priorities?: boolean;
}

export interface PendingJob {
  name: JobName;
  id: string;
  at: Date;
}

type Entry = QueuedJob;

interface Periodic {
  name: PeriodicTaskName;
  intervalMs: number;
  handler: PeriodicHandler;
  /** Manual mode: when it is next due. */
  nextAt: number;
  seq: number;
  running?: Promise<void>;
  interval?: NodeJS.Timeout;
}

type Due = { kind: 'job'; entry: Entry } | { kind: 'periodic'; task: Periodic };

/** Longest delay setTimeout accepts; a later job gets a timer that re-arms itself. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/**
 * A handler that keeps scheduling itself (or a chain of jobs each scheduling the next) for a time
 * already due would otherwise spin runDue() forever. Counted along the chain, not per drain, so a
 * backlog of any size drains.
 */
const MAX_CHAINED_RUNS = 1_000;
/** How soon a pending expiry counts as under way for `JobConcurrency.duringExpiries`. */
const EXPIRY_HORIZON_MS = 1_000;

/** The chain length of the job whose handler is running in this async context. */
const runningChain = new AsyncLocalStorage<number>();

const keyOf = (name: string, id: string) => `${name}\u0000${id}`;

export class InProcessRunner implements JobRunner {
  private readonly clock: Clock;
  private readonly log: Log;
  private readonly retry: RetryPolicy;
  private readonly useTimers: boolean;
  private readonly runDueJobs: boolean;
  private readonly concurrency: Required<JobConcurrency>;
  private readonly priorities: boolean;
  private dueSoon: NodeJS.Immediate | undefined;

  private readonly handlers = new Map<JobName, JobHandler>();
  private readonly jobs = new JobQueue();
  /** Due jobs taken off the queue while a run of the same job was still going: back once it ends. */
  private readonly parked = new Map<string, Entry>();
  private readonly runningByName = new Map<JobName, number>();
  /** Running jobs of a priority below the most urgent (messages, home refreshes, reminders …). */
  private runningFollowUps = 0;
  /** Wakes a drain waiting for its next event: a job ended, or one was scheduled or fell due. */
  private wakeDrain: (() => void) | undefined;
  /** A drain is under way: it keeps its own timer for the next due job, so `arm()` need not. */
  private draining = false;
  private readonly periodic = new Map<PeriodicTaskName, Periodic>();
  /** Keys of jobs whose handler is running; set to true when the job is scheduled or cancelled meanwhile. */
  private readonly running = new Map<string, { touched: boolean }>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' = 'idle';
  private seq = 0;
  /** runDue() and advance() take turns. */
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;

  constructor(options: InProcessRunnerOptions) {
    this.clock = options.clock;
    this.log = options.logger ?? silentLog;
    this.retry = retryPolicy(options.retry);
    this.useTimers = options.timers ?? !(options.clock instanceof ManualClock);
    this.runDueJobs = options.runDueJobs ?? false;
    const serial = !this.useTimers;
    this.priorities = options.priorities ?? !serial;
    const total = Math.max(1, options.concurrency?.total ?? (serial ? 1 : IN_PROCESS_CONCURRENCY.total));
    this.concurrency = {
      perKind: Math.max(1, options.concurrency?.perKind ?? (serial ? 1 : IN_PROCESS_CONCURRENCY.perKind)),
      total,
      duringExpiries: Math.max(
        1,
        options.concurrency?.duringExpiries ??
          (serial || options.concurrency ? total : (IN_PROCESS_CONCURRENCY.duringExpiries ?? total)),
      ),
      reserved: Math.min(
        total - 1,
        // Limits given without a reserve keep none; the default limits keep the default reserve.
        Math.max(
          0,
          options.concurrency?.reserved ??
            (serial || options.concurrency ? 0 : (IN_PROCESS_CONCURRENCY.reserved ?? 0)),
        ),
      ),
    };
  }

  // ------------------------------------------------------------------ Scheduler

  async schedule(name: JobName, at: Date, data: JobData): Promise<void> {
    const time = assertValidDate(at, `schedule(${name})`);
    const key = keyOf(name, data.id);
    const parent = runningChain.getStore();
    const chain = parent !== undefined && time <= this.clock.now().getTime() ? parent + 1 : 0;
    this.jobs.set({
      key,
      name,
      id: data.id,
      at: time,
      seq: ++this.seq,
      failures: 0,
      chain,
      ...(data.reqId ? { reqId: data.reqId } : {}),
    });
    this.touch(key);
    this.arm();
    this.wakeDrain?.();
  }

  async cancel(name: JobName, id: string): Promise<void> {
    const key = keyOf(name, id);
    this.jobs.delete(key);
    this.parked.delete(key);
    this.touch(key);
    this.arm();
  }

  // ------------------------------------------------------------------ JobRunner

  define(name: JobName, handler: JobHandler): void {
    this.handlers.set(name, handler);
    this.arm();
  }

  every(name: PeriodicTaskName, intervalMs: number, handler: PeriodicHandler): void {
    assertValidInterval(intervalMs);
    if (this.state !== 'idle') throw new Error('every() must be called before start()');
    this.periodic.set(name, { name, intervalMs, handler, nextAt: Number.POSITIVE_INFINITY, seq: 0 });
  }

  async start(): Promise<void> {
    if (this.state === 'starting' || this.state === 'running') return;
    if (this.state !== 'idle') throw new Error('the job runner was stopped; make a new one');
    this.state = 'starting';
    const startedAt = this.clock.now().getTime();
    for (const task of this.periodic.values()) {
      task.nextAt = startedAt + task.intervalMs;
      task.seq = ++this.seq;
    }
    // Overdue work after downtime happens now, before start() resolves.
    await Promise.all([...this.periodic.values()].map((task) => this.runPeriodic(task)));
    if (this.state !== 'starting') return; // stop() was called meanwhile
    if (this.useTimers) {
      for (const task of this.periodic.values()) {
        task.interval = setInterval(() => void this.runPeriodic(task), task.intervalMs);
        task.interval.unref();
      }
    }
    this.state = 'running';
    this.arm();
  }

  async stop(options: StopOptions = {}): Promise<void> {
    if (this.state !== 'stopped') this.state = 'stopping';
    this.disarm();
    for (const task of this.periodic.values()) {
      if (task.interval) clearInterval(task.interval);
      task.interval = undefined;
    }
    // Running handlers see shouldStop() and return at their next item; past the deadline, stop waiting.
    const { deadline } = options;
    let timer: NodeJS.Timeout | undefined;
    const late =
      deadline === undefined
        ? undefined
        : new Promise<'late'>((resolve) => {
            timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now()));
          });
    try {
      while (this.inFlight.size > 0) {
        const settled = Promise.allSettled([...this.inFlight]);
        if ((await (late ? Promise.race([settled, late]) : settled)) === 'late') {
          this.log.warn({ running: this.inFlight.size }, 'jobs.drain_timeout');
          break;
        }
      }
    } finally {
      clearTimeout(timer);
    }
    this.state = 'stopped';
  }

  ready(): boolean {
    return this.state === 'running';
  }

  // ------------------------------------------------------------------ test and demo controls

  /** True while a job runs or one is due now (tests wait for this to settle). */
  busy(): boolean {
    const now = this.clock.now().getTime();
    return (
      this.inFlight.size > 0 || [...this.jobs.values()].some((e) => e.at <= now && this.handlers.has(e.name))
    );
  }

  /** Jobs waiting to run, earliest first. */
  pending(): PendingJob[] {
    return [...this.jobs.values()]
      .sort(byTime)
      .map((entry) => ({ name: entry.name, id: entry.id, at: new Date(entry.at) }));
  }

  /**
   * Runs every job whose time is <= now, earliest first (ties in scheduling order), including jobs
   * that handlers schedule for a time that is already due, until none is due. With a manual clock
   * also runs periodic tasks that are due (once, however far behind they are). The clock does not
   * move. Returns how many jobs ran (periodic runs not counted). Jobs of a name without a handler
   * stay pending.
   */
  runDue(): Promise<number> {
    return this.exclusive(() => this.drainDue());
  }

  /**
   * ManualClock only: moves the clock forward by `ms`, stopping at each due time on the way (jobs
   * and periodic tasks, in order) so that each handler sees `now` equal to its due time. Ends with
   * the clock at the old now + `ms`. Returns how many jobs ran.
   */
  advance(ms: number): Promise<number> {
    const clock = this.clock;
    if (!(clock instanceof ManualClock)) throw new Error('advance() needs a ManualClock');
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(): bad duration ${ms}`);
    return this.exclusive(async () => {
      const end = clock.now().getTime() + ms;
      let count = 0;
      for (;;) {
        count += await this.drainDue();
        if (this.stopping()) break;
        const next = this.nextTime();
        if (next === undefined || next > end) break;
        clock.set(new Date(next));
      }
      if (clock.now().getTime() < end) clock.set(new Date(end));
      return count;
    });
  }

  // ------------------------------------------------------------------ internals

  /** Nothing to renew in memory; a running handler stops at its next item once the runner stops. */
  private readonly control: JobControl = {
    touch: async () => {},
    shouldStop: () => this.stopping(),
  };

  private stopping(): boolean {
    return this.state === 'stopping' || this.state === 'stopped';
  }

  /** Periodic tasks are due by the manual clock only when started and not driven by intervals. */
  private manualPeriodic(): boolean {
    return !this.useTimers && (this.state === 'starting' || this.state === 'running');
  }

  private touch(key: string): void {
    const run = this.running.get(key);
    if (run) run.touched = true;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = () => this.inFlight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return this.track(run);
  }

  /**
   * The earliest thing due at `now` that may start now (within the concurrency limits), taken off
   * the queue, or undefined. A due job whose previous run is still going is parked until it ends.
   */
  private takeDue(now: number, runningPeriodic: boolean, active: number): Due | undefined {
    let best: Due | undefined;
    let bestAt = Number.POSITIVE_INFINITY;
    let bestSeq = Number.POSITIVE_INFINITY;
    /** With priorities: the most urgent priority with a job due, and whether one of it can start. */
    let urgent = Number.POSITIVE_INFINITY;
    const followUps = this.followUpLimit(now, active);
    for (const name of this.jobs.names()) {
      if (!this.handlers.has(name)) continue;
      const rank = this.priorities ? JOB_PRIORITY[name] : 0;
      const full =
        (this.runningByName.get(name) ?? 0) >= this.concurrency.perKind ||
        (rank > 0 && this.runningFollowUps >= followUps);
      let entry = this.jobs.peek(name);
      while (!full && entry && entry.at <= now && this.running.has(entry.key)) {
        this.jobs.shift(name);
        this.parked.set(entry.key, entry);
        entry = this.jobs.peek(name);
      }
      if (!entry || entry.at > now) continue;
      if (rank < urgent) {
        urgent = rank;
        best = undefined;
        bestAt = Number.POSITIVE_INFINITY;
        bestSeq = Number.POSITIVE_INFINITY;
      }
      if (rank > urgent || full) continue;
      if (entry.at < bestAt || (entry.at === bestAt && entry.seq < bestSeq)) {
        best = { kind: 'job', entry };
        bestAt = entry.at;
        bestSeq = entry.seq;
      }
    }
    if (this.manualPeriodic() && !runningPeriodic) {
      for (const task of this.periodic.values()) {
        if (task.nextAt > now) continue;
        if (task.nextAt < bestAt || (task.nextAt === bestAt && task.seq < bestSeq)) {
          best = { kind: 'periodic', task };
          bestAt = task.nextAt;
          bestSeq = task.seq;
        }
      }
    }
    if (best?.kind === 'job') this.jobs.shift(best.entry.name);
    return best;
  }

  /**
   * How many jobs below the most urgent priority may run now. The last `reserved` slots are kept
   * for the most urgent jobs; and while expiries are running or fall due within
   * `EXPIRY_HORIZON_MS` (a burst: 10,000 grants can end in the same minute), at most
   * `duringExpiries`, so each revocation's few steps do not queue on the event loop behind the
   * Slack calls of the messages the revocations before it caused. Those messages wait, in order,
   * and go out as the burst leaves room and in full once it is over.
   */
  private followUpLimit(now: number, active: number): number {
    if (!this.priorities) return Number.POSITIVE_INFINITY;
    const limit = this.runningFollowUps + this.concurrency.total - this.concurrency.reserved - active;
    const expiring =
      (this.runningByName.get('grant.expire') ?? 0) > 0 ||
      (this.jobs.peek('grant.expire')?.at ?? Number.POSITIVE_INFINITY) <= now + EXPIRY_HORIZON_MS;
    return expiring ? Math.min(limit, this.concurrency.duringExpiries) : limit;
  }

  /**
   * When the next runnable job (or, in manual mode, periodic task) is due; with `after`, the next
   * due later than that (the kinds' earliest pending jobs only).
   */
  private nextTime(includePeriodic = true, after = Number.NEGATIVE_INFINITY): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const name of this.jobs.names()) {
      if (!this.handlers.has(name)) continue;
      const entry = this.jobs.peek(name);
      if (entry && entry.at < next && entry.at > after) next = entry.at;
    }
    if (includePeriodic && this.manualPeriodic()) {
      for (const task of this.periodic.values()) if (task.nextAt < next) next = task.nextAt;
    }
    return Number.isFinite(next) ? next : undefined;
  }

  /**
   * Starts what is due, up to the concurrency limits, and keeps starting what becomes due (or is
   * scheduled due) until nothing is due and nothing it started still runs.
   */
  private async drainDue(): Promise<number> {
    this.draining = true;
    try {
      return await this.drain();
    } finally {
      this.draining = false;
      this.arm();
    }
  }

  private async drain(): Promise<number> {
    let count = 0;
    let runaway: Entry | undefined;
    const active = new Set<Promise<void>>();
    let periodicRunning = false;
    const start = (work: Promise<void>) => {
      const tracked = work.finally(() => {
        active.delete(tracked);
        this.wakeDrain?.();
      });
      active.add(tracked);
    };
    while (!this.stopping() && !runaway) {
      const now = this.clock.now().getTime();
      while (active.size < this.concurrency.total) {
        const due = this.takeDue(now, periodicRunning, active.size);
        if (!due) break;
        if (due.kind === 'periodic') {
          due.task.nextAt = now + due.task.intervalMs;
          due.task.seq = ++this.seq;
          periodicRunning = true;
          start(this.runPeriodic(due.task).finally(() => (periodicRunning = false)));
          continue;
        }
        if (due.entry.chain >= MAX_CHAINED_RUNS) {
          runaway = due.entry;
          this.jobs.delete(due.entry.key);
          break;
        }
        start(this.runJob(due.entry).then(() => void count++));
      }
      if (active.size === 0) break;
      await this.nextEvent(now);
    }
    await Promise.all(active);
    if (runaway) {
      throw new Error(
        `runDue(): ${MAX_CHAINED_RUNS} jobs in a row were each scheduled for now by the one before, ` +
          `without time moving (last: ${runaway.name} ${runaway.id}); does a handler reschedule itself for now?`,
      );
    }
    return count;
  }

  /**
   * Resolves when a running job ends, a job is scheduled or (real timers) the next one falls due.
   * One waiter and one timer, whatever the number of jobs running (racing every running job's
   * promise instead left a reaction on each of them per event). Jobs due by `now` that were not
   * started are held by the concurrency limits: a job ending wakes the drain for them, not a timer
   * (which, due already, would fire again and again until then).
   */
  private nextEvent(now: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        if (this.wakeDrain === wake) this.wakeDrain = undefined;
        resolve();
      };
      this.wakeDrain = wake;
      const next = this.useTimers ? this.nextTime(false, now) : undefined;
      if (next !== undefined) {
        timer = setTimeout(wake, Math.min(Math.max(0, next - this.clock.now().getTime()), MAX_TIMEOUT_MS));
      }
    });
  }

  private async runJob(entry: Entry): Promise<void> {
    const handler = this.handlers.get(entry.name);
    if (!handler) return;
    this.jobs.delete(entry.key);
    const run = { touched: false };
    this.running.set(entry.key, run);
    this.runningByName.set(entry.name, (this.runningByName.get(entry.name) ?? 0) + 1);
    const followUp = this.priorities && JOB_PRIORITY[entry.name] > 0;
    if (followUp) this.runningFollowUps++;
    try {
      const data = { id: entry.id, ...(entry.reqId ? { reqId: entry.reqId } : {}) };
      await runningChain.run(entry.chain, () => handler(data, this.control));
    } catch (error) {
      this.failed(entry, error, run.touched);
    } finally {
      this.running.delete(entry.key);
      this.runningByName.set(entry.name, (this.runningByName.get(entry.name) ?? 1) - 1);
      if (followUp) this.runningFollowUps--;
      const parked = this.parked.get(entry.key);
      if (parked) {
        this.parked.delete(entry.key);
        this.jobs.requeue(parked);
      }
    }
  }

  private failed(entry: Entry, error: unknown, touched: boolean): void {
    const fields = { err: error, job: entry.name, id: entry.id };
    if (touched) {
      // The handler (or someone meanwhile) rescheduled or cancelled this job: that decision stands.
      this.log.warn(fields, 'job.failed');
      return;
    }
    const failures = entry.failures + 1;
    const delay = retryDelayMs(this.retry, failures);
    if (delay === null) {
      this.log.error({ ...fields, attempts: failures }, 'job.retries_exhausted');
      return;
    }
    this.log.warn({ ...fields, attempt: failures, retryInMs: delay }, 'job.failed');
    const at = this.clock.now().getTime() + delay;
    this.jobs.set({ ...entry, at, seq: ++this.seq, failures, chain: 0 });
    this.arm();
  }

  private runPeriodic(task: Periodic): Promise<void> {
    if (task.running) return task.running;
    const run = (async () => {
      try {
        await task.handler(this.control);
      } catch (error) {
        this.log.error({ err: error, task: task.name }, 'periodic.failed');
      } finally {
        task.running = undefined;
      }
    })();
    task.running = run;
    return this.track(run);
  }

  // ------------------------------------------------------------------ real-time mode

  private disarm(): void {
    if (this.dueSoon) clearImmediate(this.dueSoon);
    this.dueSoon = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }

  /** One timer, for the earliest runnable job. */
  private arm(): void {
    if (!this.useTimers) {
      this.armDue();
      return;
    }
    if (this.state !== 'running') return;
    if (this.draining) {
      // The drain under way sets its own timer for the next due job; a timer here would only queue
      // another drain behind it.
      this.disarm();
      this.wakeDrain?.();
      return;
    }
    const next = this.nextTime(false);
    if (next === this.timerAt && this.timer) return;
    this.disarm();
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next - this.clock.now().getTime()), MAX_TIMEOUT_MS);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.runDue()
        .catch((error: unknown) => this.log.error({ err: error }, 'jobs.run_failed'))
        .finally(() => this.arm());
    }, delay);
    this.timer.unref();
  }

  /** Manual clock with `runDueJobs`: runs what is due now, soon after it was scheduled. */
  private armDue(): void {
    if (!this.runDueJobs || this.state !== 'running' || this.dueSoon) return;
    const next = this.nextTime(false);
    if (next === undefined || next > this.clock.now().getTime()) return;
    this.dueSoon = setImmediate(() => {
      this.dueSoon = undefined;
      this.runDue()
        .catch((error: unknown) => this.log.error({ err: error }, 'jobs.run_failed'))
        .finally(() => this.armDue());
    });
  }
}

function byTime(a: Entry, b: Entry): number {
  return a.at - b.at || a.seq - b.seq;
}
