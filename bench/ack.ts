/**
 * (1) Acknowledgement: how long Slack waits for our answer to a slash command, a button click and
 * a view submission, through the whole HTTP stack (the app's server, the timestamp check, Bolt's
 * signature check, our listeners, which ack first except the submission, which is checked first),
 * side by side with a bare Bolt app that only acknowledges, on the same machine, in the same run:
 * each of our requests is followed at once by the same request to the bare app.
 */
import { createSlackSender, type SlackSender } from '../test/support/slack-requests.js';
import { AppProcess } from './lib/app.js';
import { type Env, email, keepAlivePost, SIGNING_SECRET, startEnv, userId, users } from './lib/env.js';
import { runFlow } from './lib/flow.js';
import type { Report } from './lib/report.js';
import { ms, progress, round, summarize } from './lib/stats.js';

const FLOWS = 150;
const WARM_UP = 10;

export async function ackBench(report: Report): Promise<void> {
  progress(`(1) acknowledgement: ${FLOWS} flows, each request also sent to a bare Bolt app`);
  const env: Env = await startEnv({
    users: [...users('k', FLOWS + WARM_UP), ...users('ka', 1)],
    approvers: [email('ka', 0)],
  });
  const bareApp = await new AppProcess().start({
    mode: 'bare',
    policy: '',
    apiUrl: env.fake.apiUrl,
    botToken: env.fake.botToken,
    signingSecret: SIGNING_SECRET,
    hookSecret: '',
  });
  // Sent the same way as ours (kept-alive connections, see lib/env.ts), so the two stay comparable.
  const bare: SlackSender = createSlackSender({
    url: bareApp.url,
    signingSecret: SIGNING_SECRET,
    post: keepAlivePost(),
  });
  try {
    const ours: Record<'slash' | 'click' | 'submit' | 'approve', number[]> = {
      slash: [],
      click: [],
      submit: [],
      approve: [],
    };
    const yard: number[] = [];
    const approver = { id: userId('ka', 0), email: email('ka', 0) };
    for (let i = 0; i < FLOWS + WARM_UP; i++) {
      const bareTimes: number[] = [];
      const times = await runFlow(env, { id: userId('k', i), email: email('k', i) }, approver, {
        yardstick: async (send) => {
          const t0 = performance.now();
          const res = await send(bare);
          bareTimes.push(performance.now() - t0);
          if (res.status !== 200) throw new Error(`bare Bolt answered ${res.status}`);
        },
      });
      if (i < WARM_UP) continue;
      ours.slash.push(times.slash);
      ours.click.push(times.click);
      ours.submit.push(times.submit);
      ours.approve.push(times.approve);
      yard.push(...bareTimes);
    }
    const all = summarize([...ours.slash, ...ours.click, ...ours.submit, ...ours.approve]);
    const b = summarize(yard);
    const row = (what: string, samples: number[]) => {
      const s = summarize(samples);
      report.row(`(1) ack ${what}`, `${ms(s.p50)} / ${ms(s.p99)}`, `median / p99 over ${s.n} requests`);
      return s;
    };
    const slash = row('slash command', ours.slash);
    const click = row('button click (duration in the form)', ours.click);
    const approve = row('button click (Approve on a card)', ours.approve);
    const submit = row('view submission (checked before the ack)', ours.submit);
    report.row(
      '(1) ack, all four kinds',
      `${ms(all.p50)} / ${ms(all.p99)}`,
      `median / p99 over ${all.n} requests`,
      'p99 < 50 ms',
    );
    report.row(
      '(1) bare Bolt, same requests',
      `${ms(b.p50)} / ${ms(b.p99)}`,
      'a Bolt app that only acknowledges',
    );
    report.row(
      '(1) ratio ours / bare (p99)',
      `${(all.p99 / b.p99).toFixed(2)}x`,
      `median ratio ${(all.p50 / b.p50).toFixed(2)}x`,
      '≤ 1.5x',
    );
    report.set({
      ack_p50_ms: round(all.p50),
      ack_p99_ms: round(all.p99),
      ack_bare_p50_ms: round(b.p50),
      ack_bare_p99_ms: round(b.p99),
      ack_ratio: round(all.p99 / b.p99),
      ack_slash_p99_ms: round(slash.p99),
      ack_click_p99_ms: round(click.p99),
      ack_approve_p99_ms: round(approve.p99),
      ack_submit_p99_ms: round(submit.p99),
      ack_samples: all.n,
    });
  } finally {
    await bareApp.stop();
    await env.close();
  }
}
