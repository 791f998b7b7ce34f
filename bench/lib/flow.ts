/**
 * One complete flow as people do it in Slack, against the running app over signed HTTP: the
 * requester runs `/request-access bench`, picks the first quick duration, names an approver and a
 * justification and submits; the approver gets the card and clicks Approve; the flow is complete
 * when the connector's target has received `grant.activated` for the requester.
 */
import { FormIds } from '../../src/bot/slack/ids.js';
import { ActionId } from '../../src/domain/views/model.js';
import { findElement, type JsonObject, type RecordedCall } from '../../test/support/fake-slack.js';
import type { SlackHttpResponse, SlackSender } from '../../test/support/slack-requests.js';
import type { CallWait, Env } from './env.js';

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
  /** How long each step took, ms, from the end of the step before (where a flow waits). */
  steps: Record<FlowStep, number>;
}

/** The steps of a flow, in order: each an acknowledgement or the app's work that follows one. */
export const FLOW_STEPS = [
  'slash ack',
  'modal opened',
  'button ack',
  'modal updated',
  'submit ack',
  'card posted',
  'approve ack',
  'connector told',
] as const;
export type FlowStep = (typeof FLOW_STEPS)[number];

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

/** A call's blocks as JSON text, made once per call however many flows look at it. */
const blocksTexts = new WeakMap<RecordedCall, string>();
function blocksText(call: RecordedCall): string {
  let text = blocksTexts.get(call);
  if (text === undefined) {
    text = JSON.stringify(call.args.blocks) ?? '';
    blocksTexts.set(call, text);
  }
  return text;
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
  const steps = {} as Record<FlowStep, number>;
  let stepStart = started;
  const step = (name: FlowStep) => {
    const now = performance.now();
    steps[name] = now - stepStart;
    stepStart = now;
  };

  const trigger = fake.issueTriggerId(requester.id);
  // Each Web API call is waited for from before the request that causes it (see SlackWatch).
  const waits: CallWait[] = [];
  const expect = (method: string, match: (c: RecordedCall) => boolean) => {
    const w = watch.next(method, match, timeoutMs);
    waits.push(w);
    // Awaited once its request is acknowledged; a timeout before then must not go unhandled.
    w.call.catch(() => undefined);
    return w.call;
  };
  try {
    const opened = expect('views.open', (c) => c.args.trigger_id === trigger);
    const slash = await timed('/request-access', () =>
      slack.slashCommand({
        command: '/request-access',
        text: 'bench',
        userId: requester.id,
        triggerId: trigger,
      }),
    );
    step('slash ack');
    await opts.yardstick?.((s) =>
      s.slashCommand({ command: '/request-access', text: 'bench', userId: requester.id }),
    );
    stepStart = performance.now();
    const openedCall = await opened;
    step('modal opened');
    const viewId = String((openedCall.response.view as JsonObject | undefined)?.id ?? '');
    let view = fake.view(viewId);
    if (!view) throw new Error(`views.open failed: ${JSON.stringify(openedCall.response).slice(0, 300)}`);

    const updated = expect('views.update', (c) => c.args.view_id === viewId);
    const pick = { userId: requester.id, actionId: `${FormIds.durationPrefix}0`, view: view as JsonObject };
    const click = await timed('duration click', () => slack.blockAction(pick));
    step('button ack');
    await opts.yardstick?.((s) => s.blockAction(pick));
    stepStart = performance.now();
    await updated;
    step('modal updated');
    view = fake.view(viewId);
    if (!view) throw new Error('the form vanished');

    const dm = fake.dmChannelFor(approver.id);
    const form = {
      userId: requester.id,
      view: view as JsonObject,
      values: {
        'jit.form.approvers': [approver.email],
        'jit.form.justification': 'Investigate reported issue (benchmark)',
      },
    };
    const mention = `(${requester.email})`;
    const posted = expect(
      'chat.postMessage',
      (c) =>
        c.response.ok === true &&
        c.args.channel === dm &&
        Boolean(findElement((c.args.blocks as JsonObject[]) ?? [], ActionId.approve)) &&
        // the approver may have several people's cards coming: this requester's
        blocksText(c).includes(mention),
    );
    const submit = await timed('submission', () => slack.viewSubmission(form));
    if (submit.res.text !== '') throw new Error(`submission refused: ${submit.res.text.slice(0, 300)}`);
    step('submit ack');
    await opts.yardstick?.((s) => s.viewSubmission(form));
    stepStart = performance.now();

    const postedCall = await posted;
    step('card posted');
    const card = fake.message(dm, String(postedCall.response.ts));
    if (!card) throw new Error('the approval card vanished');
    const granted = hookFor(env, 'grant.activated', requester.email, timeoutMs);
    // Awaited below; a flow that fails before then must not leave its rejection unhandled.
    granted.catch(() => undefined);
    const click2 = { userId: approver.id, actionId: ActionId.approve, message: card as JsonObject };
    const approve = await timed('approve', () => slack.blockAction(click2));
    step('approve ack');
    await opts.yardstick?.((s) => s.blockAction(click2));
    stepStart = performance.now();
    await granted;
    step('connector told');
    return {
      slash: slash.ms,
      click: click.ms,
      submit: submit.ms,
      approve: approve.ms,
      total: performance.now() - started,
      steps,
    };
  } finally {
    for (const w of waits) w.cancel();
  }
}
