/**
 * The scheduler behind the domain's `Scheduler` port, with the two things the process needs on top:
 * handlers and the periodic sweep. Two implementations: `InProcessRunner` (tests, demo) and
 * `createAgendaRunner` (production, MongoDB).
 */
import { exponentialBackoff } from '../domain/backoff.js';
import type { Log } from '../domain/events.js';
import type { JobData, JobName, Scheduler } from '../domain/ports.js';

/**
 * What a running job may ask of its runner. A handler that loops over many items (the sweep, an
 * outbox lane) calls `touch()` between items, so that a run longer than the job's lock lifetime is
 * not taken for a dead worker's and run a second time beside it, and stops at the next item once
 * `shouldStop()` says so.
 */
export interface JobControl {
  /** Renews the job's lock (cheap: at most one write per few seconds). Throws when the lock was lost. */
  touch(): Promise<void>;
  /** True once the runner is stopping: finish the item at hand and return, the rest is picked up later. */
  shouldStop(): boolean;
}

export type JobHandler = (data: JobData, control: JobControl) => Promise<void>;
export type PeriodicHandler = (control: JobControl) => Promise<void>;

/** The only periodic task there is. */
export type PeriodicTaskName = 'grants.sweep';

/** How many jobs a worker runs at once: of one name, and in all. */
export interface JobConcurrency {
  perKind: number;
  total: number;
  /**
   * In-process runner, with priorities: how many of the `total` slots only the most urgent jobs
   * (`JOB_PRIORITY` 0: revocations, provisioning) may take, so a due revocation never waits for a
   * slot behind the messages and home refreshes the burst before it caused. Default 0.
   */
  reserved?: number;
  /**
   * In-process runner, with priorities: while `grant.expire` jobs run or are due within a second,
   * at most this many jobs of lower priority run at once (messages, home refreshes, reminders).
   * Default: no limit beyond the others.
   */
  duringExpiries?: number;
}

/**
 * Both runners' default: five of a kind and twenty in all, so a slow connector (one kind) cannot
 * take every slot, and a backlog drains in parallel rather than one job at a time.
 */
export const JOB_CONCURRENCY: Readonly<JobConcurrency> = { perKind: 5, total: 20 };

/**
 * The in-process runner's default on real timers. One process takes no locks that another worker
 * waits for, so here the limits only bound the work in flight, and nearly every job waits on I/O
 * (a chat API, the connector) far longer than it uses the CPU: with Agenda's 5 of a kind, a burst of
 * messages or expiries queued behind five round trips at a time while the process sat idle (the
 * throughput bench's card took 0.3-2.5 s to post at 40 % CPU). Still fewer of a kind than in all,
 * and 16 of the 64 kept for revocations and provisioning: messages and home refreshes together take
 * at most 48; and at most 8 while expiries run or are due within a second, so that in a burst of
 * expiries each revocation's steps do not queue on the event loop behind the chat calls of the
 * messages the revocations before it caused (those go out in order, as the burst leaves room).
 */
export const IN_PROCESS_CONCURRENCY: Readonly<JobConcurrency> = {
  perKind: 32,
  total: 64,
  reserved: 16,
  duringExpiries: 8,
};

/**
 * Which jobs go first when more are due than can run (lower first): taking access away and
 * finishing grants before deadlines and reminders, and those before messages. Under a burst (10,000
 * grants expiring in one minute) revocations are not queued behind the messages they cause; the
 * messages follow as soon as the burst leaves room.
 */
export const JOB_PRIORITY: Readonly<Record<JobName, number>> = {
  'grant.expire': 0,
  'grant.retry': 0,
  'resource.window_end': 0,
  'request.expire': 1,
  'grant.remind': 1,
  'outbox.deliver': 2,
  'home.refresh': 3,
};

export interface StopOptions {
  /**
   * Wait for running jobs until this time (epoch ms) at most. Jobs still running then keep their
   * locks, so another worker takes them over once the lock runs out. Default: wait for them all.
   */
  deadline?: number;
}

export interface JobRunner extends Scheduler {
  define(name: JobName, handler: JobHandler): void;
  /**
   * A periodic task (the sweep). Runs once right at start() too, so overdue work after downtime
   * happens on start-up (Agenda: unless another worker is running it at that moment).
   */
  every(name: PeriodicTaskName, intervalMs: number, handler: PeriodicHandler): void;
  start(): Promise<void>;
  /** Stop taking work, let running jobs finish (drain, until `deadline` at most), then resolve. */
  stop(options?: StopOptions): Promise<void>;
  ready(): boolean;
}

/**
 * What happens when a job handler throws: it runs again after `baseDelayMs`, then twice that, and
 * so on (capped at `maxDelayMs`), at most `retries` more times. Then the error is logged and the job
 * is dropped: the sweep still finds whatever the job should have done. Periodic tasks are not
 * retried; their next run is the retry.
 */
export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 3, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 };

export function retryPolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
  return { ...defaultRetryPolicy, ...overrides };
}

/** Delay before retry number `attempt` (1-based), or null when the retries are used up. */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number | null {
  if (attempt < 1 || attempt > policy.retries) return null;
  return exponentialBackoff({ baseMs: policy.baseDelayMs, maxMs: policy.maxDelayMs, attempt });
}

export function assertValidDate(at: Date, what: string): number {
  const time = at instanceof Date ? at.getTime() : Number.NaN;
  if (!Number.isFinite(time)) throw new TypeError(`${what}: invalid date`);
  return time;
}

export function assertValidInterval(intervalMs: number): void {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`every(): interval must be a positive number of milliseconds, got ${intervalMs}`);
  }
}

/** A logger that says nothing, for runners built without one. */
export const silentLog: Log = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child: () => silentLog,
};
