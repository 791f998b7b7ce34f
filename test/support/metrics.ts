/** Reads the running app's `GET /metrics` and picks out one sample. */

/** The Prometheus text exposition of the app at `port`. */
export async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/**
 * The value of `name` with exactly these labels (besides `app`), or 0 when there is no such sample
 * (a counter that never moved has no sample for its labels).
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = { ...labels, app: 'jit-access-bot' };
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    const same =
      Object.keys(got).length === Object.keys(want).length &&
      Object.entries(want).every(([k, v]) => got[k] === v);
    if (same) return Number(match[3]);
  }
  return 0;
}
