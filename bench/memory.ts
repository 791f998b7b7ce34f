/**
 * (4) Memory: the resident memory of the running app (its own process, compiled as in production)
 * with 10,000 active grants and 10,000 pending requests stored, as their flows would have left
 * them (lib/seed.ts), and again with 5,000 more of each (scaled to 10,000). Each figure at rest:
 * after a full garbage collection and a few idle seconds, in which V8's memory reducer compacts
 * the heap that storing thousands of records at once left fragmented; the figure right after
 * storing (full GC only) is reported beside it. The empty app is also measured under tsx.
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
    return (await env.app.call<NodeJS.MemoryUsage>('memory', { atRest: true })).rss / MB;
  } finally {
    await env.close();
  }
}

export async function memoryBench(report: Report): Promise<void> {
  const compiled = appRuntime().entry !== TSX_RUNTIME.entry;
  const tsxEmpty = compiled ? await emptyUnderTsx() : null;
  const env = await startEnv({ users: [], approvers: ['approver@bench.example'] });
  try {
    /** After a full collection; `atRest`: once the app has been idle and V8 has compacted its heap. */
    const measure = async (what: string, atRest: boolean) => {
      const u = await env.app.call<NodeJS.MemoryUsage>('memory', { atRest });
      const mb = (n: number) => `${(n / MB).toFixed(0)} MB`;
      progress(
        `(4) ${what}, ${atRest ? 'at rest' : 'right after'}: rss ${mb(u.rss)}, heap used ${mb(u.heapUsed)} of ${mb(u.heapTotal)}`,
      );
      return { rss: u.rss / MB, heap: u.heapUsed / MB };
    };
    const empty = await measure('nothing stored', true);
    const seed = async (from: number, count: number) => {
      await env.app.call('seedFlows', { from, count, prefix: 'held' });
      await env.app.call('seedPending', { from, count, prefix: 'waiting' });
    };
    progress(`(4) storing ${STEP} active grants and ${STEP} pending requests`);
    await seed(0, STEP);
    const busy10k = await measure('10k of each', false);
    const at10k = await measure('10k of each', true);
    progress(`(4) storing ${EXTRA} more of each`);
    await seed(STEP, EXTRA);
    const busyMore = await measure(`${(STEP + EXTRA) / 1000}k of each`, false);
    const atMore = await measure(`${(STEP + EXTRA) / 1000}k of each`, true);
    const perStep = ((atMore.rss - at10k.rss) * STEP) / EXTRA;
    const heapPerStep = ((atMore.heap - at10k.heap) * STEP) / EXTRA;
    report.row(
      '(4) RSS, nothing stored',
      `${empty.rss.toFixed(0)} MB`,
      `the app at rest after start, under ${appRuntime().name}${tsxEmpty === null ? '' : ` (under tsx: ${tsxEmpty.toFixed(0)} MB)`}`,
    );
    report.row(
      `(4) RSS, ${STEP / 1000}k grants + ${STEP / 1000}k pending`,
      `${at10k.rss.toFixed(0)} MB`,
      `memory store, every record in the process; at rest (idle until V8 compacted its heap); ${busy10k.rss.toFixed(0)} MB right after storing them (full GC); live heap ${at10k.heap.toFixed(0)} MB`,
      '< 300 MB',
    );
    report.row(
      `(4) RSS per extra ${STEP / 1000}k of each`,
      `+${perStep.toFixed(0)} MB`,
      `${atMore.rss.toFixed(0)} MB at rest with ${(STEP + EXTRA) / 1000}k of each (${busyMore.rss.toFixed(0)} MB right after; measured over ${EXTRA / 1000}k more, scaled); live heap +${heapPerStep.toFixed(0)} MB per 10k`,
    );
    report.set({
      rss_mb_empty: round(empty.rss, 1),
      rss_mb_empty_tsx: round(tsxEmpty ?? empty.rss, 1),
      rss_mb_10k: round(at10k.rss, 1),
      rss_mb_10k_right_after: round(busy10k.rss, 1),
      heap_mb_10k: round(at10k.heap, 1),
      rss_mb_after_extra: round(atMore.rss, 1),
      rss_mb_after_extra_right_after: round(busyMore.rss, 1),
      rss_extra_records: EXTRA,
      rss_mb_per_10k: round(perStep, 1),
      heap_mb_per_10k: round(heapPerStep, 1),
    });
  } finally {
    await env.close();
  }
}
