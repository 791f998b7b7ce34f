/**
 * (2) Throughput: complete flows (lib/flow.ts: slash command → form → submission → card →
 * Approve → connector told `grant.activated`) per second through the running app, first with 200
 * earlier flows stored and then with 2,000 more: flat means the store's size does not slow anyone
 * down. At each stage two phases: enough people at once to keep the app busy (flows per second is
 * what the app sustains at saturation, with its CPU time per flow), then 8 people at once (how
 * long one flow takes when the app is not saturated).
 */
import { type Env, email, startEnv, userId, users } from './lib/env.js';
import { FLOW_STEPS, type FlowStep, runFlow } from './lib/flow.js';
import type { Report } from './lib/report.js';
import { median, ms, progress, round, summarize } from './lib/stats.js';

/** People at once in the saturation phase (BENCH_FLOW_PEOPLE); the approvers are the same 8 as below. */
const SATURATING = Number(process.env.BENCH_FLOW_PEOPLE ?? 48);
/** People at once in the latency phase, each with an approver of their own. */
const FEW = 8;
const SATURATION_MS = 10_000;
const LATENCY_MS = 8_000;
const REQUESTERS = 30_000;
const STAGES = [200, 2_000] as const;

interface Phase {
  stored: number;
  people: number;
  flows: number;
  perSecond: number;
  /** completed flows in each whole second of the phase */
  windows: number[];
  latency: ReturnType<typeof summarize>;
  /** each step's time in every flow */
  steps: Record<FlowStep, number[]>;
  errors: number;
  /**
   * CPU time of the app process per completed flow, ms: from the app settled before the phase to
   * the app settled after it (AppProcess.settle), so each flow's trailing work (its last messages,
   * the home refreshes it planned) counts here and nothing left over from the phase before does.
   */
  appCpuPerFlow: number;
  /** The app's CPU time while flows ran over the phase's wall time: its share of one core. */
  appBusy: number;
  /** CPU time of the bench's own process (load generator, fake Slack, webhook receiver) per flow, ms, counted as the app's */
  benchCpuPerFlow: number;
}

const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function phase(
  env: Env,
  stored: number,
  people: number,
  durationMs: number,
  next: { i: number },
): Promise<Phase> {
  const latencies: number[] = [];
  const steps = Object.fromEntries(FLOW_STEPS.map((s) => [s, [] as number[]])) as Record<FlowStep, number[]>;
  const doneAt: number[] = [];
  let errors = 0;
  let firstError: unknown;
  await env.app.settle();
  const cpu0 = await env.app.call<number>('cpu');
  const own0 = ownCpuMs();
  const t0 = performance.now();
  const end = t0 + durationMs;
  await Promise.all(
    Array.from({ length: people }, async (_, w) => {
      const approver = { id: userId('ta', w % FEW), email: email('ta', w % FEW) };
      while (performance.now() < end && next.i < REQUESTERS) {
        const i = next.i++;
        try {
          const times = await runFlow(env, { id: userId('t', i), email: email('t', i) }, approver);
          latencies.push(times.total);
          for (const s of FLOW_STEPS) steps[s].push(times.steps[s]);
          doneAt.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const appCpuRunning = (await env.app.call<number>('cpu')) - cpu0;
  await env.app.settle();
  const appCpu = (await env.app.call<number>('cpu')) - cpu0;
  const ownCpu = ownCpuMs() - own0;
  if (latencies.length === 0) throw firstError ?? new Error('no flow completed');
  const windows = Array.from(
    { length: Math.floor(durationMs / 1000) },
    (_, s) => doneAt.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length,
  );
  if (firstError) progress(`(2) ${errors} flows failed, the first: ${String(firstError).slice(0, 200)}`);
  if (env.hooks.invalid > 0)
    progress(`(2) the connector's target refused ${env.hooks.invalid} calls so far: bad signature`);
  return {
    stored,
    people,
    flows: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
    windows,
    latency: summarize(latencies),
    steps,
    errors,
    appCpuPerFlow: appCpu / latencies.length,
    appBusy: appCpuRunning / elapsed,
    benchCpuPerFlow: ownCpu / latencies.length,
  };
}

const stepMedians = (p: Phase) => FLOW_STEPS.map((s) => median(p.steps[s]).toFixed(0)).join(' / ');

export async function throughputBench(report: Report): Promise<void> {
  const approvers = users('ta', FEW);
  const env = await startEnv({
    users: [...users('t', REQUESTERS), ...approvers],
    approvers: approvers.map((a) => a.email),
  });
  try {
    const next = { i: 0 };
    let seeded = 0;
    const stages: Array<{ busy: Phase; few: Phase }> = [];
    for (const stored of STAGES) {
      progress(
        `(2) storing ${stored - seeded} more earlier flows, then ${SATURATION_MS / 1000} s of flows by ${SATURATING} people and ${LATENCY_MS / 1000} s by ${FEW}`,
      );
      await env.app.call('seedFlows', { from: seeded, count: stored - seeded, prefix: 'seeded' });
      seeded = stored;
      // Warm-up: every approver's first card (their DM opened), not counted.
      if (stages.length === 0) await phase(env, stored, SATURATING, 3_000, next).catch(() => undefined);
      const busy = await phase(env, stored, SATURATING, SATURATION_MS, next);
      const few = await phase(env, stored, FEW, LATENCY_MS, next);
      stages.push({ busy, few });
    }
    for (const { busy, few } of stages) {
      const last = busy === stages[stages.length - 1]?.busy;
      report.row(
        `(2) flows/s at saturation, ${busy.stored}+ stored`,
        `${busy.perSecond.toFixed(0)}/s`,
        `${busy.flows} flows by ${busy.people} people at once in ${SATURATION_MS / 1000} s; per second median ${median(busy.windows)}, worst ${Math.min(...busy.windows)}; app CPU busy ${(busy.appBusy * 100).toFixed(0)} % of one core${busy.errors ? `; ${busy.errors} failed` : ''}`,
        last ? '200/s' : undefined,
      );
      report.row(
        `(2) app CPU per flow, ${busy.stored}+ stored`,
        ms(busy.appCpuPerFlow),
        `the app process's user + system CPU time / flows, from the app at rest before the saturation phase to at rest after it, each flow's trailing work included (the bench's own process: ${ms(busy.benchCpuPerFlow)} a flow)`,
      );
      report.row(
        `(2) one flow, ${FEW} people, ${few.stored}+ stored`,
        `${ms(few.latency.p50)} / ${ms(few.latency.p99)}`,
        `median / p99, slash command → connector told grant.activated (4 requests in, ~12 Slack calls out); ${few.perSecond.toFixed(0)} flows/s, app CPU ${ms(few.appCpuPerFlow)} a flow`,
      );
      report.row(
        `(2) a flow's steps, ${FEW} people, ${few.stored}+ stored`,
        stepMedians(few),
        `median ms of each step (${FEW} people): ${FLOW_STEPS.join(', ')}; at saturation: ${stepMedians(busy)}`,
      );
    }
    const [small, large] = stages as [{ busy: Phase; few: Phase }, { busy: Phase; few: Phase }];
    report.row(
      '(2) slowdown 200 → 2,000+ stored',
      `${(large.few.latency.p50 / small.few.latency.p50).toFixed(2)}x`,
      `median flow time (${FEW} people) with 2,000+ stored flows over that with 200; flows/s at saturation ${(small.busy.perSecond / large.busy.perSecond).toFixed(2)}x`,
      'flat (≈1x)',
    );
    report.set({
      flows_per_s: round(large.busy.perSecond, 1),
      flows_per_s_at_200: round(small.busy.perSecond, 1),
      flows_per_s_at_2000: round(large.busy.perSecond, 1),
      flow_people_saturating: SATURATING,
      flow_app_cpu_ms_at_200: round(small.busy.appCpuPerFlow),
      flow_app_cpu_ms_at_2000: round(large.busy.appCpuPerFlow),
      flow_app_busy_at_2000: round(large.busy.appBusy),
      flow_bench_cpu_ms_at_2000: round(large.busy.benchCpuPerFlow),
      flows_per_s_8_people_at_200: round(small.few.perSecond, 1),
      flows_per_s_8_people_at_2000: round(large.few.perSecond, 1),
      flow_p50_ms_at_200: round(small.few.latency.p50),
      flow_p99_ms_at_200: round(small.few.latency.p99),
      flow_p50_ms_at_2000: round(large.few.latency.p50),
      flow_p99_ms_at_2000: round(large.few.latency.p99),
      flow_slowdown: round(large.few.latency.p50 / small.few.latency.p50),
      flows_failed: stages.reduce((n, s) => n + s.busy.errors + s.few.errors, 0),
    });
  } finally {
    await env.close();
  }
}
