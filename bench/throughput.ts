/**
 * (2) Throughput: complete flows (lib/flow.ts: slash command → form → submission → card →
 * Approve → connector told `grant.activated`) per second through the running app, with several
 * people at once, first with 200 earlier flows stored and then with 2,000 more: flat means the
 * store's size does not slow anyone down.
 */
import { type Env, email, startEnv, userId, users } from './lib/env.js';
import { runFlow } from './lib/flow.js';
import type { Report } from './lib/report.js';
import { median, ms, progress, round, summarize } from './lib/stats.js';

/** People running flows at once, each with an approver of their own. */
const WORKERS = 8;
const PHASE_MS = 12_000;
const REQUESTERS = 8_000;
const STAGES = [200, 2_000] as const;

interface Phase {
  stored: number;
  flows: number;
  perSecond: number;
  /** completed flows in each whole second of the phase */
  windows: number[];
  latency: ReturnType<typeof summarize>;
  errors: number;
}

async function phase(env: Env, stored: number, next: { i: number }): Promise<Phase> {
  const latencies: number[] = [];
  const doneAt: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const t0 = performance.now();
  const end = t0 + PHASE_MS;
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      const approver = { id: userId('ta', w), email: email('ta', w) };
      while (performance.now() < end && next.i < REQUESTERS) {
        const i = next.i++;
        try {
          const times = await runFlow(env, { id: userId('t', i), email: email('t', i) }, approver);
          latencies.push(times.total);
          doneAt.push(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  const elapsed = performance.now() - t0;
  if (latencies.length === 0) throw firstError ?? new Error('no flow completed');
  const windows = Array.from(
    { length: Math.floor(PHASE_MS / 1000) },
    (_, s) => doneAt.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length,
  );
  if (firstError) progress(`(2) ${errors} flows failed, the first: ${String(firstError).slice(0, 200)}`);
  return {
    stored,
    flows: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
    windows,
    latency: summarize(latencies),
    errors,
  };
}

export async function throughputBench(report: Report): Promise<void> {
  const approvers = users('ta', WORKERS);
  const env = await startEnv({
    users: [...users('t', REQUESTERS), ...approvers],
    approvers: approvers.map((a) => a.email),
  });
  try {
    const next = { i: 0 };
    let seeded = 0;
    const phases: Phase[] = [];
    for (const stored of STAGES) {
      progress(
        `(2) storing ${stored - seeded} more earlier flows, then ${PHASE_MS / 1000} s of flows by ${WORKERS} people`,
      );
      await env.app.call('seedFlows', { from: seeded, count: stored - seeded, prefix: 'seeded' });
      seeded = stored;
      // Warm-up: one flow per worker's approver, not counted.
      if (phases.length === 0) await phase(env, stored, next).catch(() => undefined);
      phases.push(await phase(env, stored, next));
    }
    for (const p of phases) {
      report.row(
        `(2) flows/s, ${p.stored}+ stored flows`,
        `${p.perSecond.toFixed(0)}/s`,
        `${p.flows} flows by ${WORKERS} people in ${PHASE_MS / 1000} s; per second median ${median(p.windows)}, worst ${Math.min(...p.windows)}${p.errors ? `; ${p.errors} failed` : ''}`,
        p === phases[phases.length - 1] ? '200/s' : undefined,
      );
      report.row(
        `(2) one flow, ${p.stored}+ stored`,
        `${ms(p.latency.p50)} / ${ms(p.latency.p99)}`,
        'median / p99, slash command → connector told grant.activated (4 requests in, ~12 Slack calls out)',
      );
    }
    const [small, large] = phases as [Phase, Phase];
    report.row(
      '(2) slowdown 200 → 2,000+ stored',
      `${(large.latency.p50 / small.latency.p50).toFixed(2)}x`,
      'median flow time with 2,000+ stored flows over that with 200',
      'flat (≈1x)',
    );
    report.set({
      flows_per_s: round(large.perSecond, 1),
      flows_per_s_at_200: round(small.perSecond, 1),
      flows_per_s_at_2000: round(large.perSecond, 1),
      flow_p50_ms_at_200: round(small.latency.p50),
      flow_p99_ms_at_200: round(small.latency.p99),
      flow_p50_ms_at_2000: round(large.latency.p50),
      flow_p99_ms_at_2000: round(large.latency.p99),
      flow_slowdown: round(large.latency.p50 / small.latency.p50),
      flows_failed: small.errors + large.errors,
    });
  } finally {
    await env.close();
  }
}
