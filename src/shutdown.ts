/**
 * Shutting down on SIGTERM or SIGINT: stop taking work, drain running jobs until a deadline, close
 * the store, stop the embedded MongoDB last (so it outlives everything that writes to it), exit.
 * Whatever still hangs when `timeoutMs` has passed, the process ends anyway (exit 1).
 */
import type { Log } from './domain/events.js';
import type { StopOptions } from './jobs/runner.js';

/**
 * The part of the shutdown timeout that running jobs get to finish. The rest is for what follows
 * the drain: releasing job locks, closing the store and stopping the embedded `mongod`. A job still
 * running at the deadline keeps its lock and is taken over by the next worker (jobs are idempotent).
 */
export const DRAIN_SHARE = 0.5;

export interface ShutdownParts {
  system: { stop(options?: StopOptions): Promise<void> };
  store: { close(): Promise<void> };
  /** Stops the embedded `mongod`, when there is one. */
  stopEmbedded?: (() => Promise<void>) | undefined;
  log: Log;
  timeoutMs: number;
  /** `process.exit` (injectable for tests). */
  exit: (code: number) => void;
}

/** How long running jobs may take to finish during a shutdown of `timeoutMs`. */
export function drainTimeoutMs(timeoutMs: number): number {
  return Math.floor(timeoutMs * DRAIN_SHARE);
}

/** Shuts down and calls `exit` exactly once: 0 when everything stopped, 1 on a failure or the timeout. */
export async function shutdown(parts: ShutdownParts, signal: string): Promise<void> {
  const { log, timeoutMs } = parts;
  const started = Date.now();
  let exited = false;
  const exit = (code: number) => {
    if (exited) return;
    exited = true;
    parts.exit(code);
  };
  log.info({ signal, timeoutMs }, 'app.stopping');
  // Whatever hangs (a connection that never closes, a store that does not answer), the process ends.
  const timer = setTimeout(() => {
    log.error({ timeoutMs }, 'app.stop_timeout');
    exit(1);
  }, timeoutMs);
  try {
    await parts.system.stop({ deadline: started + drainTimeoutMs(timeoutMs) });
    await parts.store.close();
    await parts.stopEmbedded?.();
    if (!exited) log.info({ ms: Date.now() - started }, 'app.stopped');
    exit(0);
  } catch (error) {
    log.error({ err: error }, 'app.stop_failed');
    exit(1);
  } finally {
    clearTimeout(timer);
  }
}
