/**
 * What one complete flow (lib/flow.ts) does, counted rather than timed: inbound requests, Slack Web
 * API calls by method, connector calls, store calls by repository method, jobs scheduled and run.
 * Runs a few flows to warm up, then `BENCH_COUNT_FLOWS` (default 20) one after another, and prints
 * each count divided by the number of flows. Not part of `npm run bench`; a tool for finding work
 * that need not be done.
 *
 *   npm run build && BENCH_COUNT_OPS=1 npx tsx bench/flow-count.ts
 */
import { email, startEnv, userId, users } from './lib/env.js';
import { runFlow } from './lib/flow.js';

process.env.BENCH_COUNT_OPS = '1';
const FLOWS = Number(process.env.BENCH_COUNT_FLOWS ?? 20);
const WARMUP = 3;
const APPROVERS = 2;

const approvers = users('ca', APPROVERS);
const env = await startEnv({
  users: [...users('c', FLOWS + WARMUP), ...approvers],
  approvers: approvers.map((a) => a.email),
  // BENCH_COUNT_SHOW=1 prints the last calls from fake.calls
  recordCalls: process.env.BENCH_COUNT_SHOW === '1',
});
const slackCalls = new Map<string, number>();
const inbound = new Map<string, number>();
const off = env.fake.onCall((c) => slackCalls.set(c.method, (slackCalls.get(c.method) ?? 0) + 1));
for (const kind of ['slashCommand', 'blockAction', 'viewSubmission'] as const) {
  const send = env.slack[kind].bind(env.slack) as (...a: unknown[]) => Promise<unknown>;
  (env.slack as unknown as Record<string, unknown>)[kind] = (...a: unknown[]) => {
    inbound.set(kind, (inbound.get(kind) ?? 0) + 1);
    return send(...a);
  };
}
const flow = (i: number) =>
  runFlow(
    env,
    { id: userId('c', i), email: email('c', i) },
    { id: userId('ca', i % APPROVERS), email: email('ca', i % APPROVERS) },
  );
try {
  for (let i = 0; i < WARMUP; i++) await flow(i);
  if (process.env.BENCH_COUNT_SHOW === '1') {
    // What the last warm-up flow sent, in order: method and the message's text.
    for (const c of env.fake.calls.slice(-24)) {
      const text = String(c.args.text ?? c.args.user ?? c.args.email ?? c.args.users ?? '').slice(0, 90);
      process.stdout.write(`  ${c.method.padEnd(22)} ${String(c.args.channel ?? '').padEnd(10)} ${text}\n`);
    }
  }
  // Let the warm-up's trailing work (App Home refreshes, message compaction) finish.
  await new Promise((r) => setTimeout(r, 1_500));
  slackCalls.clear();
  inbound.clear();
  await env.app.call('opCounts');
  const hooks0 = env.hooks.count;
  for (let i = WARMUP; i < WARMUP + FLOWS; i++) await flow(i);
  await new Promise((r) => setTimeout(r, 1_500));
  const ops = await env.app.call<Record<string, number>>('opCounts');
  const print = (title: string, counts: Map<string, number> | Record<string, number>) => {
    const rows = [...(counts instanceof Map ? counts : Object.entries(counts))].sort((a, b) => b[1] - a[1]);
    const total = rows.reduce((n, [, v]) => n + v, 0);
    process.stdout.write(`\n${title}: ${(total / FLOWS).toFixed(1)} a flow\n`);
    for (const [k, v] of rows) process.stdout.write(`  ${(v / FLOWS).toFixed(2).padStart(6)}  ${k}\n`);
  };
  process.stdout.write(`${FLOWS} flows after ${WARMUP} to warm up; counts per flow\n`);
  print('inbound requests', inbound);
  print('Slack Web API calls', slackCalls);
  process.stdout.write(`\nconnector calls: ${((env.hooks.count - hooks0) / FLOWS).toFixed(2)} a flow\n`);
  const pick = (f: (k: string) => boolean) => Object.fromEntries(Object.entries(ops).filter(([k]) => f(k)));
  print(
    'store calls',
    pick((k) => !k.includes(':')),
  );
  print(
    'jobs scheduled',
    pick((k) => k.startsWith('schedule:')),
  );
  print(
    'jobs run',
    pick((k) => k.startsWith('job:')),
  );
} finally {
  off();
  await env.close();
}
