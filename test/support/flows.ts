/** What a person does in Slack, as signed requests against the running app. */
import { expect } from 'vitest';
import { collectText, type FakeMessage, type FakeView, findElement, type JsonObject } from './fake-slack.js';
import type { TestSystem } from './system.js';

type User = { id: string; email: string };

export async function settle(ms = 50): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Runs `/request-access` and returns the modal that opened. */
export async function openForm(t: TestSystem, user: User, text = ''): Promise<FakeView> {
  const mark = t.fake.checkpoint();
  const res = await t.slack.slashCommand({ command: '/request-access', text, userId: user.id });
  expect(res.status).toBe(200);
  const call = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
  expect(call.response.ok, JSON.stringify(call.response)).toBe(true);
  const view = call.response.view as FakeView;
  return t.fake.view(view.id) ?? view;
}

/** Clicks or changes something inside the modal and returns the view after the app updated it. */
export async function formAction(
  t: TestSystem,
  user: User,
  view: FakeView,
  actionId: string,
  input: {
    value?: string;
    selectedOption?: string;
    selectedOptions?: string[];
    values?: Record<string, string | string[]>;
  } = {},
): Promise<FakeView> {
  const mark = t.fake.checkpoint();
  const res = await t.slack.blockAction({
    userId: user.id,
    actionId,
    view: view as unknown as JsonObject,
    ...(input.value ? { value: input.value } : {}),
    ...(input.selectedOption ? { selectedOption: input.selectedOption } : {}),
    ...(input.selectedOptions ? { selectedOptions: input.selectedOptions } : {}),
    ...(input.values ? { values: input.values } : {}),
  });
  expect(res.status).toBe(200);
  const call = await t.fake.waitFor('views.update', (c) => c.seq >= mark);
  expect(call.response.ok, JSON.stringify(call.response)).toBe(true);
  const updated = t.fake.view(view.id);
  if (!updated) throw new Error('view vanished');
  return updated;
}

export function quickDurationAction(view: FakeView, label: string): string {
  for (const block of view.blocks) {
    if (block.block_id !== 'durations') continue;
    for (const el of (block.elements as JsonObject[]) ?? []) {
      if ((el.text as { text: string }).text === label) return el.action_id as string;
    }
  }
  throw new Error(`no quick duration "${label}" in ${collectText(view.blocks)}`);
}

export async function submitForm(
  t: TestSystem,
  user: User,
  view: FakeView,
  values: Record<string, string | string[]>,
  opts: { retryNum?: number } = {},
) {
  const res = await t.slack.viewSubmission(
    { userId: user.id, view: view as unknown as JsonObject, values },
    opts.retryNum ? { retryNum: opts.retryNum } : undefined,
  );
  return res;
}

/** Fills and sends a request: quick duration by label, approvers by email, a justification. */
export async function requestAccess(
  t: TestSystem,
  user: User,
  opts: {
    resource?: string;
    duration?: string;
    approvers?: string[];
    justification?: string;
    ticket?: string;
  } = {},
) {
  let view = await openForm(t, user, opts.resource ?? 'acme-prod');
  view = await formAction(t, user, view, quickDurationAction(view, opts.duration ?? '4 hours'));
  const values: Record<string, string | string[]> = {
    'jit.form.justification': opts.justification ?? 'Investigate ticket 42',
  };
  if (opts.approvers) values['jit.form.approvers'] = opts.approvers;
  if (opts.ticket) values['jit.form.ticket'] = opts.ticket;
  const res = await submitForm(t, user, view, values);
  expect(res.status).toBe(200);
  expect(res.body, JSON.stringify(res.body)).toBe('');
  return view;
}

/** The newest message in `user`'s DM whose text contains `needle`. */
export function dmContaining(t: TestSystem, user: { id: string }, needle: string): FakeMessage | undefined {
  const messages = t.fake.messagesIn(t.fake.dmChannelFor(user.id));
  return [...messages]
    .reverse()
    .find((m) => collectText(m.blocks ?? []).includes(needle) || m.text.includes(needle));
}

export async function waitForDm(
  t: TestSystem,
  user: { id: string },
  needle: string,
  timeoutMs = 5000,
): Promise<FakeMessage> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = dmContaining(t, user, needle);
    if (found) return found;
    if (Date.now() > until) {
      const all = t.fake.messagesIn(t.fake.dmChannelFor(user.id)).map((m) => m.text);
      throw new Error(`no DM to ${user.id} containing "${needle}"; saw: ${JSON.stringify(all)}`);
    }
    await settle(20);
  }
}

export function hasButton(message: FakeMessage | undefined, actionId: string): boolean {
  return Boolean(message && findElement(message.blocks ?? [], actionId));
}

/** Clicks a button on a message. */
export async function click(t: TestSystem, user: { id: string }, message: FakeMessage, actionId: string) {
  const res = await t.slack.blockAction({
    userId: user.id,
    actionId,
    message: message as unknown as JsonObject,
  });
  expect(res.status).toBe(200);
  return res;
}

/** Polls until `check` passes (side effects after ack run asynchronously, as with real Slack). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await settle(20);
    }
  }
}

/** The one request stored so far (fails the test if there is not exactly one). */
export async function onlyRequest(t: TestSystem) {
  const requests = await t.store.repos.requests.list({});
  expect(requests).toHaveLength(1);
  return requests[0] as NonNullable<(typeof requests)[0]>;
}
