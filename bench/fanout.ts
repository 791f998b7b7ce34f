/**
 * (5) Fan-out: a request naming 20 approvers, with the fake Slack enforcing Slack's published rate
 * limits (test/support/slack-rate-limits.ts: tiers per minute, chat.postMessage one per second per
 * channel, 429 with Retry-After). Several such requests in a row, from different people to the
 * same 20 approvers: the time from submitting until every approver's card is posted, and how many
 * cards never arrive.
 */
import { ActionId } from '../src/domain/views/model.js';
import { findElement, type JsonObject } from '../test/support/fake-slack.js';
import { email, startEnv, users } from './lib/env.js';
import type { Report } from './lib/report.js';
import { ms, progress, round, summarize } from './lib/stats.js';

const APPROVERS = 20;
const RUNS = 6;
const RUN_TIMEOUT_MS = 70_000;
const TOTAL_BUDGET_MS = 90_000;

export async function fanoutBench(report: Report): Promise<void> {
  const approvers = users('f', APPROVERS);
  const env = await startEnv({
    users: [...approvers, ...users('fr', RUNS)],
    approvers: approvers.map((a) => a.email),
    rateLimits: true,
  });
  try {
    const channelOf = new Map(approvers.map((a) => [env.fake.dmChannelFor(a.id), a.email]));
    const cards = new Map<string, Set<string>>();
    let refused = 0;
    const off = env.fake.onCall((call) => {
      if (call.status === 429) refused++;
      if (call.method !== 'chat.postMessage' || call.response.ok !== true) return;
      const button = findElement((call.args.blocks as JsonObject[]) ?? [], ActionId.approve)?.element;
      const approver = channelOf.get(String(call.args.channel));
      if (typeof button?.value !== 'string' || !approver) return;
      let got = cards.get(button.value);
      if (!got) {
        got = new Set();
        cards.set(button.value, got);
      }
      got.add(approver);
    });
    const times: number[] = [];
    let lost = 0;
    let runs = 0;
    const started = Date.now();
    for (let r = 0; r < RUNS && Date.now() - started < TOTAL_BUDGET_MS; r++) {
      const t0 = performance.now();
      const id = await env.app.call<string>('submit', {
        requester: { email: email('fr', r), name: `FR ${r}` },
        resourceId: 'bench',
        approvers: approvers.map((a) => a.email),
        duration: 'PT4H',
        justification: 'Fan-out benchmark',
        submissionKey: `fanout-${r}`,
      });
      const deadline = Date.now() + RUN_TIMEOUT_MS;
      while ((cards.get(id)?.size ?? 0) < APPROVERS && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const got = cards.get(id)?.size ?? 0;
      runs++;
      lost += APPROVERS - got;
      if (got === APPROVERS) times.push(performance.now() - t0);
      progress(
        `(5) request ${r + 1}: ${got} of ${APPROVERS} cards in ${ms(performance.now() - t0)}; ${refused} calls refused with 429 so far`,
      );
    }
    off();
    const s = summarize(times);
    report.row(
      `(5) fan-out to ${APPROVERS} approvers, rate-limited`,
      `${ms(s.p50)} / ${ms(s.max)}`,
      `median / worst over ${runs} requests in a row, submit → last card posted; ${refused} Slack calls answered 429`,
    );
    report.row(
      '(5) cards lost',
      String(lost),
      `of ${runs * APPROVERS}, not posted within ${RUN_TIMEOUT_MS / 1000} s`,
      '0',
    );
    report.set({
      fanout_20_ms: round(s.p50),
      fanout_20_max_ms: round(s.max),
      fanout_lost: lost,
      fanout_runs: runs,
      fanout_429s: refused,
    });
  } finally {
    await env.close();
  }
}
