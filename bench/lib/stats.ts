/** Percentiles, formatting and the rows of the table `npm run bench` prints. */

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const mean = samples.reduce((s, v) => s + v, 0) / Math.max(1, samples.length);
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples.length ? Math.max(...samples) : Number.NaN,
    mean,
  };
}

/** The median of several runs' figures (each run a figure such as flows per second). */
export const median = (values: readonly number[]) => percentile(values, 50);

export const round = (v: number, digits = 2) =>
  Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : null;

export const ms = (v: number) =>
  !Number.isFinite(v)
    ? 'n/a'
    : v >= 100
      ? `${v.toFixed(0)} ms`
      : v >= 1
        ? `${v.toFixed(2)} ms`
        : `${(v * 1000).toFixed(0)} µs`;

export const pctOf = (s: Summary) => `${ms(s.p50)} / ${ms(s.p99)}`;

export function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `check()` is true; throws after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  pollMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

/** A small deterministic generator (mulberry32), so every run makes the same choices. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
