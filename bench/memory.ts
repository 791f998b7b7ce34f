/**
 * (4) Memory: the resident memory of the running app (its own process, after a full garbage
 * collection) with 10,000 active grants and 10,000 pending requests stored, as their flows would
 * have left them (lib/seed.ts), and again with 10,000 more of each.
 */
import { appRuntime, TSX_RUNTIME } from './lib/app-launch.js';
import { startEnv } from './lib/env.js';
import type { Report } from './lib/report.js';
import { progress, round } from './lib/stats.js';

const STEP = 10_000;
/** The extra records are measured in a smaller step and scaled to 10,000 (growth is linear). */
const EXTRA = 5_000;
const MB = 2 ** 20;

/** RSS of the app right after start under `tsx` (what the bench used before it ran `dist/`). */
async function emptyUnderTsx(): Promise<number> {
  const env = await startEnv({ users: [], approvers: ['approver@bench.example'], runtime: TSX_RUNTIME });
  try {
    return (await env.app.call<NodeJS.MemoryUsage>('memory')).rss / MB;
  } finally {
    await env.close();
  }
}

export async function memoryBench(report: Report): Promise<void> {
  const compiled = appRuntime().entry !== TSX_RUNTIME.entry;
  const tsxEmpty = compiled ? await emptyUnderTsx() : null;
  const env = await startEnv({ users: [], approvers: ['approver@bench.example'] });
  try {
    const usage = async () => {
      const u = await env.app.call<NodeJS.MemoryUsage>('memory');
      const mb = (n: number) => `${(n / MB).toFixed(0)} MB`;
      progress(
        `(4) rss ${mb(u.rss)}, heap used ${mb(u.heapUsed)} of ${mb(u.heapTotal)}, external ${mb(u.external)}`,
      );
      return u;
    };
    const rss = async () => (await usage()).rss / MB;
    const empty = await rss();
    const seed = async (from: number, count: number) => {
      await env.app.call('seedFlows', { from, count, prefix: 'held' });
      await env.app.call('seedPending', { from, count, prefix: 'waiting' });
    };
    progress(`(4) storing ${STEP} active grants and ${STEP} pending requests`);
    await seed(0, STEP);
    const heap10k = (await usage()).heapUsed / MB;
    const at10k = await rss();
    progress(`(4) storing ${EXTRA} more of each`);
    await seed(STEP, EXTRA);
    const atMore = await rss();
    const perStep = ((atMore - at10k) * STEP) / EXTRA;
    // RSS grows in steps as V8 takes memory from the system; the live heap shows the records' own cost.
    const heapPerStep = (((await usage()).heapUsed / MB - heap10k) * STEP) / EXTRA;
    report.row(
      '(4) RSS, nothing stored',
      `${empty.toFixed(0)} MB`,
      `the running app right after start, under ${appRuntime().name}${tsxEmpty === null ? '' : ` (under tsx: ${tsxEmpty.toFixed(0)} MB)`}`,
    );
    report.row(
      `(4) RSS, ${STEP / 1000}k grants + ${STEP / 1000}k pending`,
      `${at10k.toFixed(0)} MB`,
      'memory store: every record, its audit events, outbox items and message records in the process',
      '< 300 MB',
    );
    report.row(
      `(4) RSS per extra ${STEP / 1000}k of each`,
      `+${perStep.toFixed(0)} MB`,
      `${atMore.toFixed(0)} MB with ${(STEP + EXTRA) / 1000}k of each (measured over ${EXTRA / 1000}k more, scaled); live heap +${heapPerStep.toFixed(0)} MB per 10k`,
    );
    report.set({
      rss_mb_empty: round(empty, 1),
      rss_mb_empty_tsx: tsxEmpty === null ? round(empty, 1) : round(tsxEmpty, 1),
      rss_mb_10k: round(at10k, 1),
      rss_mb_after_extra: round(atMore, 1),
      rss_extra_records: EXTRA,
      rss_mb_per_10k: round(perStep, 1),
      heap_mb_per_10k: round(heapPerStep, 1),
    });
  } finally {
    await env.close();
  }
}
