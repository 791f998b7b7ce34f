/**
 * The system under test, in a process of its own (forked by ./app.ts), so that the load generator,
 * the fake Slack Web API and the webhook receiver in the parent do not share its event loop.
 *
 * - `app`: the product as src/main.ts wires it (startSystem: the one HTTP server, Bolt's HTTP
 *   receiver, the outbox, the webhook connector), on the memory store and the in-process runner
 *   on the real clock; with MONGODB_URI set, on MongoDB and Agenda instead.
 * - `bare`: a bare Bolt app on the same HTTPReceiver that only acknowledges, the yardstick.
 *
 * The parent drives it over IPC: start, seed records, submit, read counts and memory. For the
 * expiry figures it records, for each grant, when its revocation was confirmed (the grant stored
 * as expired after the connector answered) against its `expiresAt`.
 */
import { randomUUID } from 'node:crypto';
import { App, HTTPReceiver } from '@slack/bolt';
import { parse as parseYaml } from 'yaml';
import { systemClock } from '../../src/domain/clock.js';
import { parseAccessConfig } from '../../src/domain/policy.js';
import type { SubmitInput } from '../../src/domain/service.js';
import { InProcessRunner } from '../../src/jobs/in-process.js';
import type { JobRunner } from '../../src/jobs/runner.js';
import { createLogger } from '../../src/log.js';
import { connectMongo, createMemoryStore, type Store } from '../../src/store/index.js';
import { type RunningSystem, startSystem } from '../../src/system.js';
import { person, type SeedOptions, seedActiveGrant, seedPendingRequest } from './seed.js';

export interface StartArgs {
  mode: 'app' | 'bare';
  policy: string;
  apiUrl: string;
  botToken: string;
  signingSecret: string;
  hookSecret: string;
}

type Message = { id: number; cmd: string; args?: unknown };

let system: RunningSystem | null = null;
let store: Store | null = null;
let runner: JobRunner | null = null;
let bare: App | null = null;
let resource = { id: 'bench', name: 'Benchmark resource' };
let approvers: string[] = [];
/** grant id → when its revocation was confirmed, and that minus its expiresAt (ms) */
const lags = new Map<string, { at: number; lag: number }>();
/** grant id → when its expiry job began (stored it as revoking) minus its expiresAt (ms) */
const starts = new Map<string, number>();

/** `<repo>.<method>`, `job:<name>` (runs), `schedule:<name>` → calls, with BENCH_COUNT_OPS=1 (bench/flow-count.ts). */
const opCounts = new Map<string, number>();
const countOp = (key: string) => opCounts.set(key, (opCounts.get(key) ?? 0) + 1);

function countStoreOps(s: Store, r: JobRunner): void {
  for (const [repoName, repo] of Object.entries(s.repos) as Array<[string, Record<string, unknown>]>) {
    const proto = Object.getPrototypeOf(repo) as object;
    const names = new Set([...Object.keys(repo), ...Object.getOwnPropertyNames(proto)]);
    for (const name of names) {
      const fn = repo[name];
      if (name === 'constructor' || typeof fn !== 'function') continue;
      repo[name] = (...a: unknown[]) => {
        countOp(`${repoName}.${name}`);
        return (fn as (...x: unknown[]) => unknown).apply(repo, a);
      };
    }
  }
  const define = r.define.bind(r);
  r.define = (name, handler) =>
    define(name, (data, control) => {
      countOp(`job:${name}`);
      return handler(data, control);
    });
  const schedule = r.schedule.bind(r);
  r.schedule = (name, at, data) => {
    countOp(`schedule:${name}`);
    return schedule(name, at, data);
  };
}

function instrumentRevocations(s: Store): void {
  const update = s.repos.grants.update.bind(s.repos.grants);
  s.repos.grants.update = async (id, guard, change) => {
    const after = await update(id, guard, change);
    if (after?.expiresAt && change.set?.status === 'revoking' && change.set.endReason === 'expired') {
      starts.set(id, Date.now() - after.expiresAt.getTime());
    }
    if (after?.status === 'expired' && change.set?.status === 'expired' && after.expiresAt) {
      const at = Date.now();
      lags.set(id, { at, lag: at - after.expiresAt.getTime() });
    }
    return after;
  };
}

async function start(args: StartArgs): Promise<{ port: number; store: string }> {
  const log = createLogger(process.env.BENCH_LOG_LEVEL ?? 'info');
  if (args.mode === 'bare') {
    const receiver = new HTTPReceiver({ signingSecret: args.signingSecret, processBeforeResponse: false });
    bare = new App({
      receiver,
      authorize: async () => ({ botToken: args.botToken, botId: 'BBENCH', botUserId: 'UBENCH' }),
      clientOptions: { slackApiUrl: args.apiUrl },
    });
    bare.command(/.*/, async ({ ack }) => ack());
    bare.action(/.*/, async ({ ack }) => ack());
    bare.view(/.*/, async ({ ack }) => ack());
    const server = (await bare.start(0)) as unknown as import('node:http').Server;
    const address = server.address();
    return { port: typeof address === 'object' && address ? address.port : 0, store: 'none' };
  }
  const access = parseAccessConfig(parseYaml(args.policy));
  const first = access.resources[0];
  if (first) {
    resource = { id: first.id, name: first.name };
    approvers = first.approvers;
  }
  const uri = process.env.MONGODB_URI;
  if (uri) {
    store = await connectMongo(uri, { log });
    if (!store.db) throw new Error('MongoDB store without a database');
    // Loaded only here, as src/main.ts does: the memory-store app never loads Agenda.
    const { createAgendaRunner } = await import('../../src/jobs/agenda.js');
    runner = createAgendaRunner({ db: store.db, logger: log });
  } else {
    store = createMemoryStore();
    runner = new InProcessRunner({ clock: systemClock, logger: log });
  }
  instrumentRevocations(store);
  if (process.env.BENCH_COUNT_OPS === '1') countStoreOps(store, runner);
  system = await startSystem({
    access,
    store,
    runner,
    clock: systemClock,
    log,
    http: { port: 0, host: '127.0.0.1' },
    slack: { botToken: args.botToken, signingSecret: args.signingSecret, apiUrl: args.apiUrl },
    secretFor: () => args.hookSecret,
  });
  return { port: system.port, store: store.kind };
}

function seedOptions(): SeedOptions {
  if (!store || !runner) throw new Error('the app has not started');
  return { repos: store.repos, scheduler: runner, resource, approvers, now: new Date() };
}

const commands: Record<string, (args: never) => Promise<unknown>> = {
  start,
  /** Earlier flows: approved requests with active grants (holders `<prefix><i>@bench.example`). */
  async seedFlows({ from, count, prefix }: { from: number; count: number; prefix: string }) {
    const opts = seedOptions();
    for (let i = from; i < from + count; i++) await seedActiveGrant(opts, `${prefix}${i}@bench.example`);
    return count;
  },
  async seedPending({ from, count, prefix }: { from: number; count: number; prefix: string }) {
    const opts = seedOptions();
    for (let i = from; i < from + count; i++) await seedPendingRequest(opts, `${prefix}${i}@bench.example`);
    return count;
  },
  /** Active grants, already reminded, expiring at the given times (epoch ms), one per holder. */
  async seedExpiring({
    holders,
    expiresAt,
    addresses,
    append,
  }: {
    holders: string[];
    expiresAt: number[];
    /** Where each holder's "Access granted" message is in the fake Slack. */
    addresses?: string[];
    append?: boolean;
  }) {
    const opts = seedOptions();
    if (!append) {
      lags.clear();
      starts.clear();
    }
    for (let i = 0; i < holders.length; i++) {
      const address = addresses?.[i];
      await seedActiveGrant(opts, holders[i] as string, {
        expiresAt: new Date(expiresAt[i] as number),
        reminded: true,
        ...(address ? { grantStatusAddress: address } : {}),
      });
    }
    return holders.length;
  },
  async revocations() {
    const all = [...lags.values()];
    return {
      lags: all.map((l) => l.lag),
      starts: [...starts.values()],
      last: Math.max(0, ...all.map((l) => l.at)),
    };
  },
  async submit(input: SubmitInput & { requester: { email: string } }) {
    if (!system) throw new Error('the app has not started');
    const request = await system.service.submit({
      ...input,
      requester: person(input.requester.email),
      submissionKey: input.submissionKey || randomUUID(),
    });
    return request.id;
  },
  async activeGrants() {
    if (!store) throw new Error('the app has not started');
    return (await store.repos.grants.list({ status: 'active', limit: 100_000 })).length;
  },
  /** Store calls, job runs and schedules counted since the last call (BENCH_COUNT_OPS=1), then reset. */
  async opCounts() {
    const counts = Object.fromEntries(opCounts);
    opCounts.clear();
    return counts;
  },
  /** The app process's CPU time so far, user + system, in ms (for CPU per flow and per revocation). */
  async cpu() {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
  /**
   * Resident memory after a full collection (the child runs with --expose-gc). With `atRest`, then
   * as the process is once it has been idle a while: V8's memory reducer compacts the heap and
   * returns what a burst of work left free to the system after several seconds without allocation
   * (which forced collections do not do; it starts about 8 s after the last collection). Waits
   * 12 s, then until the heap has not changed for 4 s, at most 45 s in all.
   */
  async memory({ atRest = false }: { atRest?: boolean } = {}) {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 3; i++) gc?.();
    if (!atRest) return process.memoryUsage();
    const started = Date.now();
    let last = process.memoryUsage().heapTotal;
    let stableSince = Date.now();
    while (
      Date.now() - started < 45_000 &&
      (Date.now() - started < 12_000 || Date.now() - stableSince < 4_000)
    ) {
      await new Promise((r) => setTimeout(r, 500));
      const total = process.memoryUsage().heapTotal;
      if (total !== last) stableSince = Date.now();
      last = total;
    }
    return process.memoryUsage();
  },
  async stop() {
    await system?.stop();
    await store?.close();
    await bare?.stop();
    // Exit on our own (rather than be killed), so that a --cpu-prof profile is written.
    setTimeout(() => process.exit(0), 50);
    return true;
  },
};

process.on('message', (message: Message) => {
  const command = commands[message.cmd];
  const run = command ? command(message.args as never) : Promise.reject(new Error(`unknown ${message.cmd}`));
  run.then(
    (value) => process.send?.({ id: message.id, ok: true, value }),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  );
});
process.send?.({ id: 0, ok: true, value: 'ready' });
