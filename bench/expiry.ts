/**
 * (3) Expiry precision: 10,000 active grants (already reminded) whose `expiresAt` are spread evenly
 * over one minute, starting 20 s after they are stored. For each, the revocation lag: when the
 * revocation was confirmed (the grant stored as expired after the connector's target answered)
 * minus its `expiresAt`; and the time from the first expiry until all are revoked. Each ended grant
 * also sends its holder a message, through the fake Slack, as in production.
 */
import type { FakeSlack, FakeSlackUser } from '../test/support/fake-slack.js';
import { startEnv, users } from './lib/env.js';
import type { Report } from './lib/report.js';
import { ms, progress, round, sleep, summarize } from './lib/stats.js';

const GRANTS = Number(process.env.BENCH_EXPIRY_GRANTS ?? 10_000);
const LEAD_MS = 20_000;
const WINDOW_MS = 60_000;
/** Give up waiting this long after the last expiry. */
const PATIENCE_MS = 60_000;
const SWEEP_INTERVAL_MS = 30_000;

export async function expiryBench(report: Report): Promise<void> {
  const holders = users('h', GRANTS);
  const approvers = users('ha', 1);
  const env = await startEnv({ users: [...holders, ...approvers], approvers: approvers.map((a) => a.email) });
  try {
    progress(`(3) posting the ${GRANTS} holders' "Access granted" messages to the fake Slack`);
    const addresses = await grantedMessages(env.fake, holders);
    progress(`(3) storing ${GRANTS} active grants expiring over one minute`);
    const first = Date.now() + LEAD_MS;
    const expiresAt = holders.map((_, i) => first + Math.floor((i * WINDOW_MS) / GRANTS));
    const batch = 1000;
    for (let i = 0; i < GRANTS; i += batch) {
      await env.app.call('seedExpiring', {
        holders: holders.slice(i, i + batch).map((h) => h.email),
        expiresAt: expiresAt.slice(i, i + batch),
        addresses: addresses.slice(i, i + batch),
        append: i > 0,
      });
    }
    // The holders' notices ("your access has ended"), as the fake Slack receives them.
    const told = { count: 0, last: 0 };
    const offCalls = env.fake.onCall((call) => {
      if (call.method === 'chat.postMessage' && call.response.ok) {
        told.count++;
        told.last = call.at.getTime();
      }
    });
    const stored = Date.now();
    const cpu0 = await env.app.call<number>('cpu');
    if (stored > first)
      progress(`(3) storing took ${stored - first + LEAD_MS} ms: the first grants were overdue when stored`);
    const last = first + WINDOW_MS;
    let lags: number[] = [];
    let starts: number[] = [];
    let lastAt = 0;
    while (Date.now() < last + PATIENCE_MS) {
      await sleep(2000);
      ({
        lags,
        starts,
        last: lastAt,
      } = await env.app.call<{ lags: number[]; starts: number[]; last: number }>('revocations'));
      progress(`(3) ${lags.length} of ${GRANTS} revoked`);
      if (lags.length >= GRANTS) break;
    }
    const doneAt = Date.now();
    const cpuPerRevocation = ((await env.app.call<number>('cpu')) - cpu0) / Math.max(1, lags.length);
    // The notices may run later than the revocations (lower priority): wait for them, not forever.
    const noticesBy = Date.now() + PATIENCE_MS;
    while (told.count < lags.length && Date.now() < noticesBy) await sleep(500);
    offCalls();
    const cpuWithNotices = ((await env.app.call<number>('cpu')) - cpu0) / Math.max(1, lags.length);
    const s = summarize(lags);
    const missing = GRANTS - lags.length;
    report.row(
      `(3) revocation lag, ${GRANTS} grants in one minute`,
      `${ms(s.p50)} / ${ms(s.p99)}`,
      'median / p99 of (revocation confirmed − expiresAt)',
      'p99 < 100 ms',
    );
    const started = summarize(starts);
    report.row(
      '(3) expiry job start lag',
      `${ms(started.p50)} / ${ms(started.p99)}`,
      `median / p99 of (the grant.expire job stored the grant as revoking − expiresAt): waiting to start; the rest of the lag is the revocation itself (connector call, store writes); max ${ms(started.max)}`,
    );
    report.row(
      '(3) latest revocation',
      ms(s.max),
      `the worst lag${missing > 0 ? `; ${missing} not revoked within ${PATIENCE_MS / 1000} s of the last expiry` : ''}`,
      `< sweep interval (${SWEEP_INTERVAL_MS / 1000} s)`,
    );
    report.row(
      '(3) app CPU per revocation',
      ms(cpuPerRevocation),
      "the app process's user + system CPU time from storing the grants until all were revoked / revocations (connector call, store writes, and the holders' messages sent by then)",
    );
    report.row(
      '(3) app CPU per revocation, notices included',
      ms(cpuWithNotices),
      "the same until the holders' notices were all sent too (they run at a lower priority, partly after the revocations)",
    );
    const allDone = (missing === 0 ? lastAt : doneAt) - first;
    report.row(
      '(3) all revoked',
      `${(allDone / 1000).toFixed(1)} s`,
      `from the first expiry until the last revocation (the expiries span ${WINDOW_MS / 1000} s)`,
    );
    report.row(
      "(3) holders' notices",
      `${told.count} of ${lags.length}, the last ${(Math.max(0, told.last - last) / 1000).toFixed(1)} s after the last expiry`,
      'the "access ended" DM each holder is sent, through the outbox at a lower priority than revocations (each exactly once)',
    );
    report.set({
      revocation_notices: told.count,
      revocation_notices_last_s: round(Math.max(0, told.last - last) / 1000, 1),
      revocation_lag_p50_ms: round(s.p50),
      revocation_lag_p99_ms: round(s.p99),
      revocation_lag_max_ms: round(s.max),
      revocation_all_done_s: round(allDone / 1000, 1),
      revocations_missing: missing,
      revocation_app_cpu_ms: round(cpuPerRevocation),
      revocation_app_cpu_with_notices_ms: round(cpuWithNotices),
      expiry_start_lag_p50_ms: round(started.p50),
      expiry_start_lag_p99_ms: round(started.p99),
    });
  } finally {
    await env.close();
  }
}

/**
 * Each holder's "Access granted" DM, posted as the app would have posted it when the grant began,
 * so that ending the grant edits a message that exists (as in production) instead of failing with
 * `channel_not_found` and retrying for a day while the holder's notice waits behind it in its lane.
 * Returns each message's address as the app records it.
 */
async function grantedMessages(fake: FakeSlack, holders: FakeSlackUser[]): Promise<string[]> {
  const addresses: string[] = [];
  const parallel = 50;
  for (let i = 0; i < holders.length; i += parallel) {
    const posted = await Promise.all(
      holders.slice(i, i + parallel).map(async (h) => {
        const res = await fetch(`${fake.apiUrl}chat.postMessage`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${fake.botToken}` },
          body: JSON.stringify({ channel: h.id, text: 'Access granted (seeded by the benchmark)' }),
        });
        const body = (await res.json()) as { ok: boolean; channel?: string; ts?: string; error?: string };
        if (!body.ok || !body.channel || !body.ts) throw new Error(`chat.postMessage: ${body.error}`);
        return JSON.stringify({ channel: body.channel, ts: body.ts });
      }),
    );
    addresses.push(...posted);
  }
  return addresses;
}
