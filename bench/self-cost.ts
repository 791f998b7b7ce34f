/**
 * The bench's own CPU per flow (load generator, fake Slack Web API, webhook receiver), counted
 * over a fixed number of flows rather than a fixed time: `BENCH_SELF_FLOWS` (default 1,500) flows by
 * 48 people at once, after 400 to warm up, from a quiet app to a quiet app again (each flow's
 * trailing work included, nothing of the flows before). Prints the bench process's and the app's
 * CPU per flow and the bench's garbage collection per flow, for each of `BENCH_SELF_ROUNDS`
 * (default 2) rounds. Not part of `npm run bench`; a tool for cutting the bench's own costs.
 *
 *   npm run build && npx tsx bench/self-cost.ts
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { email, startEnv, userId, users } from './lib/env.js';
import { runFlow } from './lib/flow.js';

const FLOWS = Number(process.env.BENCH_SELF_FLOWS ?? 1_500);
const ROUNDS = Number(process.env.BENCH_SELF_ROUNDS ?? 2);
const PEOPLE = 48;
const APPROVERS = 8;
const WARMUP = 400;
const REQUESTERS = 30_000;

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });
const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const approvers = users('sa', APPROVERS);
const env = await startEnv({
  users: [...users('s', REQUESTERS), ...approvers],
  approvers: approvers.map((a) => a.email),
});
let next = 0;
async function flows(count: number): Promise<number> {
  const stop = next + count;
  let failed = 0;
  await Promise.all(
    Array.from({ length: PEOPLE }, async (_, w) => {
      const approver = { id: userId('sa', w % APPROVERS), email: email('sa', w % APPROVERS) };
      while (next < stop) {
        const i = next++;
        await runFlow(env, { id: userId('s', i), email: email('s', i) }, approver).catch(() => failed++);
      }
    }),
  );
  return failed;
}
try {
  await env.app.call('seedFlows', { from: 0, count: 200, prefix: 'seeded' });
  await flows(WARMUP);
  for (let round = 1; round <= ROUNDS; round++) {
    await env.app.settle();
    const app0 = await env.app.call<number>('cpu');
    const own0 = ownCpuMs();
    const gc0 = gcMs;
    const t0 = performance.now();
    const failed = await flows(FLOWS);
    const wall = performance.now() - t0;
    await env.app.settle();
    const app = (await env.app.call<number>('cpu')) - app0;
    const own = ownCpuMs() - own0;
    const n = FLOWS - failed;
    // With --expose-gc, the heap after a full collection: what the bench keeps, not its garbage.
    (globalThis as { gc?: () => void }).gc?.();
    process.stdout.write(
      `round ${round}: ${n} flows (${failed} failed) in ${(wall / 1000).toFixed(1)} s, ${((n / wall) * 1000).toFixed(0)}/s; ` +
        `bench CPU ${(own / n).toFixed(2)} ms a flow (GC ${((gcMs - gc0) / n).toFixed(2)} ms), app CPU ${(app / n).toFixed(2)} ms a flow; bench heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB\n`,
    );
  }
} finally {
  await env.close();
}
