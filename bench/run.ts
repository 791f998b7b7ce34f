/**
 * `npm run bench`: how fast the core is with the memory store and the in-process scheduler.
 *
 *   (a) submit → approve → activate through `AccessService`, log connector, no chat platform
 *   (b) `checkSubmission`, the dry run every form submission goes through
 *   (c) one sweep over 10 000 active grants of which 1 % are past their expiry
 *   (d) Approve clicks against the real Bolt app over HTTP (signed), with the fake Slack Web API
 *   (e) a catalogue of 5 000 resources: loading and checking its policy file, and the type-ahead
 *       (`resourceOptions`, what every keystroke in the resource menu asks) over random queries
 *
 * Numbers are printed, never asserted: they depend on the machine. The memory store is the demo
 * store, so its numbers say how far a demo goes, not how MongoDB behaves.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadAccessConfig } from '../src/config.js';
import { createConnectorRegistry } from '../src/connectors/registry.js';
import { PICKER_LIST_MAX, resourceOptions } from '../src/core/forms/pickers.js';
import { systemClock } from '../src/domain/clock.js';
import type { Notifier } from '../src/domain/events.js';
import type { Grant, Person } from '../src/domain/model.js';
import { parseAccessConfig } from '../src/domain/policy.js';
import { PolicySource } from '../src/domain/policy-source.js';
import { AccessService, type SubmitInput } from '../src/domain/service.js';
import { ActionId } from '../src/domain/views/model.js';
import { registerJobs } from '../src/jobs/handlers.js';
import { InProcessRunner } from '../src/jobs/in-process.js';
import { createLogger } from '../src/log.js';
import { createMemoryStore, type Store } from '../src/store/index.js';
import { largeCatalog } from '../test/core/large-catalog.js';
import { findElement, type JsonObject } from '../test/support/fake-slack.js';
import { startTestSystem, USERS } from '../test/support/system.js';

const LIFECYCLE_N = 2000;
const CHECK_N = 20_000;
const SWEEP_GRANTS = 10_000;
const SWEEP_OVERDUE_SHARE = 0.01;
const CLICKS = 200;
const CATALOG_RESOURCES = 5000;
const CATALOG_LOADS = 10;
const TYPE_AHEAD_QUERIES = 200;

const POLICY = `
defaults:
  approvalWindow: PT1H
  durations: [PT4H, PT8H, P1D]
  custom: { min: PT1H, max: P7D }
resources:
  - id: bench
    name: Benchmark resource
    approvers: [approver@example.com]
    connector: { type: log }
`;

const REQUESTER: Person = { email: 'requester@example.com', name: 'Requester' };
const APPROVER: Person = { email: 'approver@example.com', name: 'Approver' };

/** A notifier that sends nothing: (a)–(c) measure the core, not a chat platform. */
const silentNotifier: Notifier = { notify: async () => {} };

// ------------------------------------------------------------------------------------------ helpers

interface Row {
  what: string;
  value: string;
  meaning: string;
}

const rows: Row[] = [];

function row(what: string, value: string, meaning: string): void {
  rows.push({ what, value, meaning });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function summary(samplesMs: number[]): { p50: number; p95: number; p99: number; max: number; mean: number } {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean,
  };
}

const ms = (v: number) =>
  v >= 100 ? `${v.toFixed(0)} ms` : v >= 1 ? `${v.toFixed(2)} ms` : `${(v * 1000).toFixed(1)} µs`;
const rate = (count: number, elapsedMs: number) => `${((count / elapsedMs) * 1000).toFixed(0)}/s`;

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once `count()` has not changed for `quietMs`. */
async function quiet(count: () => number, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`bench: traffic did not settle within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** The service wired as src/system.ts wires it, minus Slack: memory store, in-process runner, log connector. */
function buildCore(store: Store, access = parseAccessConfig(parseYaml(POLICY))) {
  const log = createLogger('silent');
  const runner = new InProcessRunner({ clock: systemClock, logger: log });
  const service = new AccessService({
    policy: new PolicySource(access, store.repos.settings),
    repos: store.repos,
    scheduler: runner,
    connectors: createConnectorRegistry({
      resources: access.resources,
      secretFor: () => {
        throw new Error('the benchmark policy has no webhook');
      },
      clock: systemClock,
      logger: log,
    }),
    notifier: silentNotifier,
    clock: systemClock,
    log,
    newId: randomUUID,
    backoffMs: () => 1000,
    reportAfterAttempts: 3,
  });
  registerJobs(runner, service);
  return { service, runner };
}

function submission(key: string, overrides: Partial<SubmitInput> = {}): SubmitInput {
  return {
    requester: REQUESTER,
    resourceId: 'bench',
    approvers: [APPROVER.email],
    duration: 'PT4H',
    justification: 'Benchmark run',
    submissionKey: key,
    ...overrides,
  };
}

// ------------------------------------------------------------------------------------------ (a)

async function lifecycleThroughput(): Promise<void> {
  progress(`(a) ${LIFECYCLE_N} × submit → approve → activate`);
  const store = createMemoryStore();
  const { service, runner } = buildCore(store);
  await runner.start();
  const perRequest: number[] = [];
  const started = performance.now();
  for (let i = 0; i < LIFECYCLE_N; i++) {
    const t0 = performance.now();
    // a different requester each time: one person holds one grant of a resource at a time
    const request = await service.submit(
      submission(`bench-a-${i}`, {
        requester: { email: `requester-${i}@example.com`, name: `Requester ${i}` },
      }),
    );
    await service.decide(request.id, APPROVER, 'approve');
    // Provisioning runs as a job once the decision is stored: this request counts when it is active.
    await runner.runDue();
    perRequest.push(performance.now() - t0);
  }
  const elapsed = performance.now() - started;
  const active = await store.repos.grants.list({ status: 'active', limit: LIFECYCLE_N + 1 });
  await runner.stop();
  if (active.length !== LIFECYCLE_N) {
    throw new Error(`bench (a): expected ${LIFECYCLE_N} active grants, found ${active.length}`);
  }
  const s = summary(perRequest);
  const first = summary(perRequest.slice(0, 200));
  const last = summary(perRequest.slice(-200));
  row(
    `(a) lifecycle, ${LIFECYCLE_N} requests`,
    rate(LIFECYCLE_N, elapsed),
    `requests taken from submit to an active grant per second, one after another (total ${ms(elapsed)})`,
  );
  row('(a) per request p50 / p95', `${ms(s.p50)} / ${ms(s.p95)}`, 'time for one submit + approve + activate');
  row(
    '(a) first 200 vs last 200 (mean)',
    `${ms(first.mean)} → ${ms(last.mean)}`,
    'growth with the number of stored records (the memory store scans its collections)',
  );
}

// ------------------------------------------------------------------------------------------ (b)

async function checkSubmissionLatency(): Promise<void> {
  progress(`(b) ${CHECK_N} × checkSubmission`);
  const store = createMemoryStore();
  const { service } = buildCore(store);
  const inputs = {
    valid: submission('bench-b'),
    refused: submission('bench-b', { duration: 'P30D', justification: ' ', approvers: [] }),
  };
  for (const [label, input] of Object.entries(inputs)) {
    for (let i = 0; i < 1000; i++) await service.checkSubmission(input); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < CHECK_N; i++) {
      const t0 = performance.now();
      const errors = await service.checkSubmission(input);
      samples.push(performance.now() - t0);
      if ((errors.length === 0) !== (label === 'valid'))
        throw new Error(`bench (b): ${label} input misjudged`);
    }
    const s = summary(samples);
    row(
      `(b) checkSubmission, ${label}`,
      `${ms(s.p50)} / ${ms(s.p99)}`,
      `p50 / p99 of the dry run for a ${label === 'valid' ? 'valid submission' : 'submission with three field errors'}`,
    );
  }
}

// ------------------------------------------------------------------------------------------ (c)

async function sweepOverGrants(): Promise<void> {
  const overdue = Math.round(SWEEP_GRANTS * SWEEP_OVERDUE_SHARE);
  progress(`(c) loading ${SWEEP_GRANTS} grants (${overdue} overdue) into the memory store`);
  const store = createMemoryStore();
  const { service } = buildCore(store);
  const now = systemClock.now().getTime();
  const loadStarted = performance.now();
  for (let i = 0; i < SWEEP_GRANTS; i++) {
    const late = i % Math.round(1 / SWEEP_OVERDUE_SHARE) === 0;
    const startsAt = new Date(now - 2 * 3600_000);
    const grant: Grant = {
      id: randomUUID(),
      requestId: randomUUID(),
      resourceId: 'bench',
      holder: { email: `holder${i}@example.com`, name: `Holder ${i}` },
      duration: 'PT4H',
      justification: 'Benchmark run',
      status: 'active',
      createdAt: startsAt,
      startsAt,
      expiresAt: new Date(late ? now - 60_000 : now + 2 * 3600_000),
      attempts: 0,
    };
    await store.repos.grants.insert(grant);
  }
  const loadMs = performance.now() - loadStarted;
  progress(`(c) sweeping`);
  const t0 = performance.now();
  const handled = await service.sweep();
  const sweepMs = performance.now() - t0;
  const t1 = performance.now();
  const second = await service.sweep();
  const idleMs = performance.now() - t1;
  const expired = await store.repos.grants.list({ status: 'expired', limit: SWEEP_GRANTS });
  if (handled !== overdue || expired.length !== overdue || second !== 0) {
    throw new Error(
      `bench (c): swept ${handled}, ${expired.length} expired, second sweep ${second}; expected ${overdue}, ${overdue}, 0`,
    );
  }
  row(
    `(c) sweep, ${SWEEP_GRANTS} grants, ${overdue} overdue`,
    ms(sweepMs),
    `one sweep that finds and revokes the ${overdue} overdue grants (${ms(sweepMs / overdue)} each)`,
  );
  row(
    '(c) sweep with nothing due',
    ms(idleMs),
    'the periodic sweep (every 30 s) when there is nothing to do',
  );
  row(
    `(c) loading ${SWEEP_GRANTS} grants`,
    ms(loadMs),
    'set-up only: one insert at a time through the grant repository',
  );
}

// ------------------------------------------------------------------------------------------ (d)

async function approveClicksOverHttp(): Promise<void> {
  progress(`(d) ${CLICKS} Approve clicks over HTTP`);
  // Everyone may request this resource, so each click approves a different person's request.
  const t = await startTestSystem({
    policy: `
resources:
  - id: bench
    name: Benchmark resource
    approvers: [alice@example.com]
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
`,
  });
  try {
    const alice = USERS.alice;
    const ids: string[] = [];
    for (let i = 0; i < CLICKS; i++) {
      const request = await t.system.service.submit({
        requester: { email: `requester-${i}@example.com`, name: `Requester ${i}` },
        resourceId: 'bench',
        approvers: [alice.email],
        duration: 'PT4H',
        justification: 'Benchmark run',
        submissionKey: `bench-d-${i}`,
      });
      ids.push(request.id);
    }
    const dm = t.fake.dmChannelFor(alice.id);
    const cards = new Map<string, JsonObject>();
    await until(
      'approval cards',
      () => {
        for (const message of t.fake.messagesIn(dm)) {
          const button = findElement(message.blocks, ActionId.approve)?.element;
          if (typeof button?.value === 'string') cards.set(button.value, message);
        }
        return ids.every((id) => cards.has(id));
      },
      30_000,
    );

    const acks: number[] = [];
    const started = performance.now();
    for (const id of ids) {
      const message = cards.get(id);
      if (!message) throw new Error(`bench (d): no card for ${id}`);
      const t0 = performance.now();
      const res = await t.slack.blockAction({ userId: alice.id, actionId: ActionId.approve, message });
      acks.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`bench (d): click answered ${res.status}: ${res.text}`);
    }
    const clicked = performance.now() - started;
    await until(
      'every grant active',
      async () =>
        (await t.store.repos.grants.list({ status: 'active', limit: CLICKS + 1 })).length === CLICKS,
      30_000,
    );
    const allActive = performance.now() - started;
    // Cards are still being updated in place after the last grant turned active; let that
    // traffic finish, or the Web API client retries against a closed fake for minutes.
    await quiet(() => t.fake.checkpoint() + t.hooks.calls.length, 300, 30_000);
    const s = summary(acks);
    row(
      `(d) Approve click ack, ${CLICKS} clicks`,
      `${ms(s.p50)} / ${ms(s.p95)}`,
      "p50 / p95 from sending a signed click to Bolt's HTTP answer (Slack allows 3 s)",
    );
    row('(d) slowest ack', ms(s.max), 'the worst of the clicks, one after another');
    row(
      '(d) all clicks → all grants active',
      `${ms(clicked)} → ${ms(allActive)}`,
      'when the last click was acknowledged → when the last webhook-confirmed grant became active',
    );
  } finally {
    await t.close();
  }
}

// ------------------------------------------------------------------------------------------ (e)

/** A small deterministic generator (mulberry32), so every run asks the same queries. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function largeCatalogue(): Promise<void> {
  progress(
    `(e) a policy of ${CATALOG_RESOURCES} resources: ${CATALOG_LOADS} loads, ${TYPE_AHEAD_QUERIES} type-ahead queries`,
  );
  const catalog = largeCatalog({ resources: CATALOG_RESOURCES, groups: 40 });
  const dir = mkdtempSync(path.join(tmpdir(), 'jit-bench-'));
  const file = path.join(dir, 'access.yaml');
  writeFileSync(file, catalog.yaml);
  try {
    // Load + parse: read the file, parse the YAML, check the policy (what `start` and `check-config` do).
    const loads: number[] = [];
    let access = loadAccessConfig(file, {});
    for (let i = 0; i < CATALOG_LOADS; i++) {
      const t0 = performance.now();
      access = loadAccessConfig(file, {});
      loads.push(performance.now() - t0);
    }
    if (access.resources.length !== CATALOG_RESOURCES) {
      throw new Error(
        `bench (e): loaded ${access.resources.length} resources, expected ${CATALOG_RESOURCES}`,
      );
    }
    const l = summary(loads);
    row(
      `(e) load + parse, ${CATALOG_RESOURCES} resources`,
      `${ms(l.p50)} / ${ms(l.max)}`,
      `median / worst of ${CATALOG_LOADS} loads of a ${(catalog.yaml.length / 1024).toFixed(0)} KiB policy file (read, YAML, checks)`,
    );

    const { service } = buildCore(createMemoryStore(), access);
    // Erin may request all but one group: every search also filters by who may request what.
    const viewer = { email: 'erin@example.com', name: 'Erin' };
    const t0 = performance.now();
    resourceOptions(service, viewer, '', PICKER_LIST_MAX);
    const firstMs = performance.now() - t0;

    const random = seeded(42);
    const pickOne = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const queries: string[] = [];
    for (let i = 0; i < TYPE_AHEAD_QUERIES; i++) {
      const r = pickOne(catalog.resources);
      const kind = random();
      if (kind < 0.25) queries.push(r.id);
      else if (kind < 0.5) queries.push(r.name);
      else if (kind < 0.75) {
        // A few words of its name, cut short, in a random order: what people type.
        const words = r.name.split(' ').filter(() => random() < 0.6);
        const cut = (words.length ? words : [r.name]).map((w) => w.slice(0, 2 + Math.floor(random() * 4)));
        queries.push(cut.sort(() => random() - 0.5).join(' '));
      } else if (kind < 0.9) queries.push(r.group);
      else
        queries.push(
          'abcdefghijklmnopqrstuvwxyz'
            .slice(Math.floor(random() * 24))
            .slice(0, 1 + Math.floor(random() * 3)),
        );
    }
    const samples: number[] = [];
    let shown = 0;
    for (const query of queries) {
      const q0 = performance.now();
      const found = resourceOptions(service, viewer, query, PICKER_LIST_MAX);
      samples.push(performance.now() - q0);
      shown += found.groups.reduce((n, g) => n + g.options.length, 0);
    }
    if (shown === 0) throw new Error('bench (e): no query found anything');
    const s = summary(samples);
    row(
      `(e) type-ahead, ${CATALOG_RESOURCES} resources`,
      `${ms(s.p50)} / ${ms(s.p99)}`,
      `p50 / p99 of resourceOptions over ${TYPE_AHEAD_QUERIES} random queries (ids, names, partial words, groups, letters)`,
    );
    row(
      '(e) first type-ahead query',
      ms(firstMs),
      'the first search after a (re)load, which also builds the search index',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------ main

function printTable(): void {
  const widths = [
    Math.max(...rows.map((r) => r.what.length), 'measure'.length),
    Math.max(...rows.map((r) => r.value.length), 'result'.length),
  ];
  const line = (a: string, b: string, c: string) =>
    `${a.padEnd(widths[0] ?? 0)}  ${b.padStart(widths[1] ?? 0)}  ${c}`;
  const out = [
    line('measure', 'result', 'what it means'),
    line('-'.repeat(widths[0] ?? 0), '-'.repeat(widths[1] ?? 0), '-------------'),
    ...rows.map((r) => line(r.what, r.value, r.meaning)),
  ];
  process.stdout.write(`\n${out.join('\n')}\n`);
}

async function main(): Promise<void> {
  const started = performance.now();
  await lifecycleThroughput();
  await checkSubmissionLatency();
  await sweepOverGrants();
  await approveClicksOverHttp();
  await largeCatalogue();
  printTable();
  process.stdout.write(
    `\nmemory store + in-process scheduler, Node ${process.version}, ${ms(performance.now() - started)} in all. ` +
      'Timings vary by machine; nothing here is a pass/fail threshold.\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
