/** The parent's handle on a process running the system under test (./app-child.ts). */
import { type ChildProcess, fork } from 'node:child_process';
import { openSync } from 'node:fs';
import { HOME_REFRESH_DELAY_MS } from '../../src/core/home.js';
import type { StartArgs } from './app-child.js';
import { type AppRuntime, appRuntime } from './app-launch.js';

export class AppProcess {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  readonly #ready: Promise<void>;
  port = 0;
  store = '';

  /** @param runtime how the child runs (default: compiled dist/ under node, see ./app-launch.ts) */
  constructor(readonly runtime: AppRuntime = appRuntime()) {
    this.#child = fork(runtime.entry, [], {
      ...(runtime.execPath ? { execPath: runtime.execPath } : {}),
      execArgv: [
        ...runtime.execArgv,
        '--expose-gc',
        // BENCH_CPU_PROF=<dir>: a CPU profile of the app for each run, to find where its time goes.
        ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      ],
      // BENCH_APP_LOG=<file>: the app's log lines (JSON, at BENCH_LOG_LEVEL, default info) go there.
      stdio: [
        'ignore',
        process.env.BENCH_APP_LOG ? openSync(process.env.BENCH_APP_LOG, 'a') : 'ignore',
        'inherit',
        'ipc',
      ],
    });
    this.#ready = new Promise((resolve, reject) => {
      this.#waiting.set(0, { resolve: () => resolve(), reject });
    });
    this.#child.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const waiter = this.#waiting.get(m.id);
      if (!waiter) return;
      this.#waiting.delete(m.id);
      if (m.ok) waiter.resolve(m.value);
      else waiter.reject(new Error(`app process: ${m.error}`));
    });
    // A send to a process that has gone: the call is rejected below, not the whole run.
    this.#child.on('error', () => {});
    this.#child.on('exit', (code, signal) => {
      for (const w of this.#waiting.values()) w.reject(new Error(`app process exited (${code ?? signal})`));
      this.#waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  async call<T>(cmd: string, args?: unknown): Promise<T> {
    await this.#ready;
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      if (!this.#child.connected) {
        reject(new Error(`app process is gone (${cmd})`));
        return;
      }
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ id, cmd, args });
    });
  }

  /**
   * Resolves once the app has finished the work it had left: at least `minMs` from now (the home
   * refreshes a flow plans run 2 s after it, HOME_REFRESH_DELAY_MS), then until it has used under
   * 2 ms of CPU in 250 ms; at most `maxMs` in all. The CPU figures of the benchmarks are read
   * between two settled points, so that each flow's trailing work counts to its own phase.
   */
  async settle({ minMs = HOME_REFRESH_DELAY_MS + 500, maxMs = 8_000 } = {}): Promise<void> {
    const started = Date.now();
    await new Promise((r) => setTimeout(r, minMs));
    let last = await this.call<number>('cpu');
    while (Date.now() - started < maxMs) {
      await new Promise((r) => setTimeout(r, 250));
      const now = await this.call<number>('cpu');
      if (now - last < 2) return;
      last = now;
    }
  }

  async start(args: StartArgs): Promise<this> {
    const started = await this.call<{ port: number; store: string }>('start', args);
    this.port = started.port;
    this.store = started.store;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/slack/events`;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => {
      if (this.#child.exitCode !== null) resolve(undefined);
      else this.#child.once('exit', resolve);
    });
    try {
      await Promise.race([this.call('stop'), new Promise((r) => setTimeout(r, 10_000))]);
    } catch {
      // gone already
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    this.#child.kill();
  }
}
