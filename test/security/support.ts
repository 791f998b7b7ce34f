/**
 * Shared by the threat files in this folder: a running system per test (real HTTP server, real
 * Bolt, fake Slack Web API) and the observations each refusal is checked with: what people see
 * (DMs, cards, ephemerals), what the connector receives and what the store and audit trail hold.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import { type FakeMessage, type FakeView, findElement, type JsonObject } from '../support/fake-slack.js';
import {
  eventually,
  formAction,
  onlyRequest,
  openForm,
  quickDurationAction,
  requestAccess,
  settle,
  waitForDm,
} from '../support/flows.js';
import { buildViewState } from '../support/slack-requests.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

export type User = (typeof USERS)[keyof typeof USERS];

/** A fresh system before each test, closed after; read `sys()` inside a test. */
export function useSystem(opts: Parameters<typeof startTestSystem>[0] = {}): () => TestSystem {
  let t: TestSystem | undefined;
  beforeEach(async () => {
    t = await startTestSystem(opts);
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  return () => {
    if (!t) throw new Error('no system running');
    return t;
  };
}

/** The newest ephemeral shown to `user` containing `needle`, waiting for it to arrive. */
export function ephemeralTo(t: TestSystem, user: User, needle: string) {
  return eventually(() => {
    const found = t.fake.ephemeralsTo(user.id).find((e) => e.text.includes(needle));
    expect(found, `ephemerals to ${user.id}: ${JSON.stringify(t.fake.ephemeralsTo(user.id))}`).toBeDefined();
    return found!;
  });
}

/** The current version of a message (after the app edited it in place). */
export function current(t: TestSystem, message: FakeMessage): FakeMessage {
  const now = t.fake.message(message.channel, message.ts);
  if (!now) throw new Error(`message ${message.ts} vanished`);
  return now;
}

/** The codes of the refusals audited for `actor`, oldest first. */
export async function refusals(t: TestSystem, actor: string) {
  return (await t.store.repos.audit.list({ type: 'action.refused', actor })).map((e) => e.details?.code);
}

export function webhookEvents(t: TestSystem): string[] {
  return t.hooks.calls.map((c) => (c.body as { event: string }).event);
}

/** Deny dialogs the app opened: none for someone who may not decide. */
export function denyDialogs(t: TestSystem) {
  return t.fake
    .callsTo('views.open')
    .filter((c) => (c.args.view as JsonObject | undefined)?.callback_id === 'jit.deny.form');
}

/** Messages the bot posted to `user`'s DM. */
export function dmsTo(t: TestSystem, user: User): FakeMessage[] {
  return t.fake.messagesIn(t.fake.dmChannelFor(user.id));
}

/** The open form with 4 hours chosen, ready to submit. */
export async function filledForm(t: TestSystem, user: User, resource = 'acme-prod'): Promise<FakeView> {
  const view = await openForm(t, user, resource);
  return formAction(t, user, view, quickDurationAction(view, '4 hours'));
}

/** A request by Carol for acme-prod, sent to `approvers`; returns the approvers' cards. */
export async function pendingRequest(
  t: TestSystem,
  approvers: User[],
  opts: { justification?: string; requester?: User } = {},
) {
  await requestAccess(t, opts.requester ?? USERS.carol, {
    approvers: approvers.map((a) => a.email),
    ...(opts.justification ? { justification: opts.justification } : {}),
  });
  const cards = new Map<User, FakeMessage>();
  for (const approver of approvers) cards.set(approver, await waitForDm(t, approver, 'Approve'));
  return { request: await onlyRequest(t), cards };
}

/** Lets anything still running after an ack finish, so "nothing happened" is a real observation. */
export const quiet = () => settle(200);

/** Now minus a little over five minutes, in Slack's seconds: outside its replay window. */
export const overFiveMinutesAgo = () => Math.floor(Date.now() / 1000) - 5 * 60 - 30;

/** A submission whose state Slack would never produce: what an edited payload carries. */
export function submitTampered(
  t: TestSystem,
  user: User,
  view: FakeView,
  values: Record<string, string | string[]>,
  tamper: (state: Record<string, Record<string, JsonObject>>) => void,
  viewChanges: Partial<FakeView> = {},
) {
  const state = buildViewState(view as unknown as JsonObject, values);
  tamper(state);
  return t.slack.viewSubmission({
    userId: user.id,
    view: { ...view, ...viewChanges, state: { values: state } } as unknown as JsonObject,
  });
}

export function blockOf(view: FakeView, actionId: string): string {
  const blockId = findElement(view.blocks, actionId)?.blockId;
  if (!blockId) throw new Error(`the form has no ${actionId}`);
  return blockId;
}

export function setApprovers(
  view: FakeView,
  state: Record<string, Record<string, JsonObject>>,
  emails: string[],
) {
  state[blockOf(view, 'jit.form.approvers')] = {
    'jit.form.approvers': {
      type: 'multi_static_select',
      selected_options: emails.map((e) => ({ text: { type: 'plain_text', text: e }, value: e })),
    },
  };
}
