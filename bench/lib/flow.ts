/**
 * One complete flow as people do it in Slack, against the running app over signed HTTP: the
 * requester runs `/request-access bench`, picks the first quick duration, names an approver and a
 * justification and submits; the approver gets the card and clicks Approve; the flow is complete
 * when the connector's target has received `grant.activated` for the requester.
 */
import { FormIds } from '../../src/bot/slack/ids.js';
import { ActionId } from '../../src/domain/views/model.js';
import { findElement, type JsonObject } from '../../test/support/fake-slack.js';
import type { SlackHttpResponse, SlackSender } from '../../test/support/slack-requests.js';
import type { Env } from './env.js';

export interface Person {
  id: string;
  email: string;
}

export interface FlowTimes {
  /** acknowledgement times of each inbound request, ms */
  slash: number;
  click: number;
  submit: number;
  approve: number;
  /** slash command sent → connector told `grant.activated`, ms */
  total: number;
}

/** The same request sent to a bare Bolt app, to time its acknowledgement beside ours. */
export type Yardstick = (send: (s: SlackSender) => Promise<SlackHttpResponse>) => Promise<void>;

async function timed(
  what: string,
  send: () => Promise<SlackHttpResponse>,
): Promise<{ ms: number; res: SlackHttpResponse }> {
  const t0 = performance.now();
  const res = await send();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${what} answered ${res.status}: ${res.text.slice(0, 200)}`);
  return { ms, res };
}

/** Resolves when the connector's target hears `event` for `email`. */
function hookFor(env: Env, event: string, email: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} for ${email} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = env.hooks.on((hook) => {
      if (hook.event === event && hook.email === email) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}

export async function runFlow(
  env: Env,
  requester: Person,
  approver: Person,
  opts: { yardstick?: Yardstick; timeoutMs?: number } = {},
): Promise<FlowTimes> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const { fake, slack, watch } = env;
  const started = performance.now();

  const trigger = fake.issueTriggerId(requester.id);
  const mark = watch.seen;
  const slash = await timed('/request-access', () =>
    slack.slashCommand({
      command: '/request-access',
      text: 'bench',
      userId: requester.id,
      triggerId: trigger,
    }),
  );
  await opts.yardstick?.((s) =>
    s.slashCommand({ command: '/request-access', text: 'bench', userId: requester.id }),
  );
  const opened = await watch.when(
    'views.open',
    (c) => c.method === 'views.open' && c.args.trigger_id === trigger,
    {
      after: mark,
      timeoutMs,
    },
  );
  const viewId = String((opened.response.view as JsonObject | undefined)?.id ?? '');
  let view = fake.view(viewId);
  if (!view) throw new Error(`views.open failed: ${JSON.stringify(opened.response).slice(0, 300)}`);

  const beforeClick = watch.seen;
  const pick = { userId: requester.id, actionId: `${FormIds.durationPrefix}0`, view: view as JsonObject };
  const click = await timed('duration click', () => slack.blockAction(pick));
  await opts.yardstick?.((s) => s.blockAction(pick));
  await watch.when('views.update', (c) => c.method === 'views.update' && c.args.view_id === viewId, {
    after: beforeClick,
    timeoutMs,
  });
  view = fake.view(viewId);
  if (!view) throw new Error('the form vanished');

  const dm = fake.dmChannelFor(approver.id);
  const beforeSubmit = watch.seen;
  const form = {
    userId: requester.id,
    view: view as JsonObject,
    values: {
      'jit.form.approvers': [approver.email],
      'jit.form.justification': 'Investigate reported issue (benchmark)',
    },
  };
  const submit = await timed('submission', () => slack.viewSubmission(form));
  if (submit.res.text !== '') throw new Error(`submission refused: ${submit.res.text.slice(0, 300)}`);
  await opts.yardstick?.((s) => s.viewSubmission(form));

  const posted = await watch.when(
    'approval card',
    (c) =>
      c.method === 'chat.postMessage' &&
      c.response.ok === true &&
      c.args.channel === dm &&
      Boolean(findElement((c.args.blocks as JsonObject[]) ?? [], ActionId.approve)),
    { after: beforeSubmit, timeoutMs },
  );
  const card = fake.message(dm, String(posted.response.ts));
  if (!card) throw new Error('the approval card vanished');
  const granted = hookFor(env, 'grant.activated', requester.email, timeoutMs);
  const click2 = { userId: approver.id, actionId: ActionId.approve, message: card as JsonObject };
  const approve = await timed('approve', () => slack.blockAction(click2));
  await opts.yardstick?.((s) => s.blockAction(click2));
  await granted;
  return {
    slash: slash.ms,
    click: click.ms,
    submit: submit.ms,
    approve: approve.ms,
    total: performance.now() - started,
  };
}
