/**
 * The request form, end to end: what it offers each person, how it reacts while being filled in,
 * and the inline errors a submission gets (response_action "errors" on the right blocks) when
 * something is missing or outside policy, in which case nothing at all is sent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addDuration } from '../../src/domain/duration.js';
import { formatTime } from '../../src/domain/views/time.js';
import { collectText, type FakeView, findElement, type JsonObject } from '../support/fake-slack.js';
import {
  eventually,
  formAction,
  openForm,
  quickDurationAction,
  settle,
  submitForm,
  waitForDm,
} from '../support/flows.js';
import { buildViewState } from '../support/slack-requests.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, dave, bob, carol, erin } = USERS;
type User = (typeof USERS)[keyof typeof USERS];

let t: TestSystem;
beforeEach(async () => {
  t = await startTestSystem();
});
afterEach(async () => {
  await t.close();
});

// ------------------------------------------------------------------ helpers

/** The block holding the element with `actionId` (block ids carry a version, so look them up). */
function blockOf(view: FakeView, actionId: string): string {
  const blockId = findElement(view.blocks, actionId)?.blockId;
  if (!blockId) throw new Error(`the form has no ${actionId}: ${collectText(view.blocks)}`);
  return blockId;
}

function element(view: FakeView, actionId: string): JsonObject | undefined {
  return findElement(view.blocks, actionId)?.element;
}

function summaryOf(view: FakeView): string {
  const block = view.blocks.find((b) => b.block_id === 'summary');
  return collectText(block).replace(/^\*Summary\*\n/, '');
}

function quickButtons(view: FakeView): Array<{ label: string; primary: boolean }> {
  const block = view.blocks.find((b) => b.block_id === 'durations');
  return ((block?.elements ?? []) as JsonObject[]).map((el) => ({
    label: (el.text as { text: string }).text,
    primary: el.style === 'primary',
  }));
}

function optionValues(view: FakeView, actionId: string): string[] {
  return ((element(view, actionId)?.options ?? []) as Array<{ value: string }>).map((o) => o.value);
}

/** Inline errors, as Slack shows them under each block, or fails when the submission was accepted. */
function inlineErrors(res: { status: number; body: unknown }): Record<string, string> {
  expect(res.status).toBe(200);
  const body = res.body as { response_action?: string; errors?: Record<string, string> };
  expect(body.response_action, `the submission was accepted: ${JSON.stringify(res.body)}`).toBe('errors');
  return body.errors ?? {};
}

/** Checks that nothing left the app since `mark`: no request, no message, no webhook. */
async function expectNothingSent(mark: number) {
  await settle(200);
  expect(await t.store.repos.requests.list({})).toHaveLength(0);
  expect(t.fake.calls.filter((c) => c.seq >= mark && c.method === 'chat.postMessage')).toHaveLength(0);
  expect(t.hooks.calls).toHaveLength(0);
}

async function formWithQuickDuration(user: User, resource: string, label = '4 hours'): Promise<FakeView> {
  const view = await openForm(t, user, resource);
  return formAction(t, user, view, quickDurationAction(view, label));
}

// ------------------------------------------------------------------ inline errors

describe('submitting the request form', () => {
  it('shows an inline error on the custom duration and sends nothing when it is outside the policy', async () => {
    // acme-prod allows custom durations up to 3 days.
    const view = await openForm(t, carol, 'acme-prod');
    const mark = t.fake.checkpoint();
    const base = { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Long migration' };

    const fourDays = await submitForm(t, carol, view, {
      ...base,
      'jit.form.custom_amount': '4',
      'jit.form.custom_unit': 'day',
    });
    expect(inlineErrors(fourDays)).toEqual({
      [blockOf(view, 'jit.form.custom_amount')]: 'Choose a duration between 1 hour and 3 days.',
    });

    const zero = await submitForm(t, carol, view, { ...base, 'jit.form.custom_amount': '0' });
    expect(inlineErrors(zero)).toEqual({
      [blockOf(view, 'jit.form.custom_amount')]: 'Enter a whole number greater than 0.',
    });
    await expectNothingSent(mark);

    // The limit itself is fine.
    const threeDays = await submitForm(t, carol, view, {
      ...base,
      'jit.form.custom_amount': '3',
      'jit.form.custom_unit': 'day',
    });
    expect(threeDays.body).toBe('');
    const request = await eventually(async () => {
      const [r] = await t.store.repos.requests.list({});
      expect(r).toBeDefined();
      return r!;
    });
    expect(request.duration).toBe('P3D');
    await waitForDm(t, alice, 'Approve');
  });

  it('asks inline for an approver and a justification when either is missing, and sends nothing', async () => {
    const view = await formWithQuickDuration(carol, 'acme-prod');
    const approvers = blockOf(view, 'jit.form.approvers');
    const justification = blockOf(view, 'jit.form.justification');
    const mark = t.fake.checkpoint();

    const noApprover = await submitForm(t, carol, view, { 'jit.form.justification': 'Investigate' });
    expect(inlineErrors(noApprover)).toEqual({ [approvers]: 'Choose at least one approver.' });

    const blankJustification = await submitForm(t, carol, view, {
      'jit.form.approvers': [alice.email],
      'jit.form.justification': '   ',
    });
    expect(inlineErrors(blankJustification)).toEqual({ [justification]: 'Say why you need access.' });

    const neither = await submitForm(t, carol, view, { 'jit.form.justification': '' });
    expect(inlineErrors(neither)).toEqual({
      [approvers]: 'Choose at least one approver.',
      [justification]: 'Say why you need access.',
    });
    await expectNothingSent(mark);
  });

  it('opens with no resource chosen for someone who may request several, and asks for one inline on submit', async () => {
    // Carol may request acme-prod and staging-db; she names neither.
    const view = await openForm(t, carol);
    expect(optionValues(view, 'jit.form.resource')).toEqual(['acme-prod', 'staging-db']);
    expect(element(view, 'jit.form.resource')?.initial_option).toBeUndefined();
    expect(view.submit).toBeDefined();

    const mark = t.fake.checkpoint();
    const res = await submitForm(t, carol, view, {});
    expect(inlineErrors(res)).toEqual({ resource: 'Choose a resource from the list.' });
    await expectNothingSent(mark);
  });

  it('does not offer a resource to someone outside its requesters, and refuses a tampered submission for it inline', async () => {
    // Only the support group (Bob, Carol) may request acme-prod; Erin may request staging-db.
    const named = await openForm(t, erin, 'acme-prod');
    expect(collectText(named.blocks)).toContain(
      'There is no resource called “acme-prod” that you can request',
    );
    expect(optionValues(named, 'jit.form.resource')).toEqual(['staging-db']);

    // Her own form (staging-db, the only one she may request), with its resource swapped for acme-prod.
    const view = await formWithQuickDuration(erin, '');
    expect(element(view, 'jit.form.resource')?.initial_option).toMatchObject({ value: 'staging-db' });
    const mark = t.fake.checkpoint();
    const state = buildViewState(view as unknown as JsonObject, { 'jit.form.justification': 'Let me in' });
    state.resource = {
      'jit.form.resource': {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: 'Acme' }, value: 'acme-prod' },
      },
    };
    state['approvers.0'] = {
      'jit.form.approvers': {
        type: 'multi_static_select',
        selected_options: [{ text: { type: 'plain_text', text: 'Alice' }, value: alice.email }],
      },
    };
    const res = await t.slack.viewSubmission({
      userId: erin.id,
      view: { ...view, state: { values: state } } as unknown as JsonObject,
    });
    expect(inlineErrors(res)).toEqual({
      resource: 'You are not allowed to request access to Acme Corp — production tenant.',
    });
    await expectNothingSent(mark);
    const refused = await t.store.repos.audit.list({ type: 'action.refused', actor: erin.email });
    expect(refused.map((e) => [e.resourceId, e.details?.code])).toEqual([
      ['acme-prod', 'NOT_ALLOWED_TO_REQUEST'],
    ]);
  });

  it('shows "No administrators found" when the only approver of the resource is the requester, and refuses to send', async () => {
    // lonely's only approver is Bob, and nobody approves their own request.
    const view = await formWithQuickDuration(bob, 'lonely');
    expect(collectText(view.blocks)).toContain('No administrators found');
    expect(element(view, 'jit.form.approvers')).toBeUndefined();
    expect(summaryOf(view)).not.toContain('bob@example.com');

    const mark = t.fake.checkpoint();
    const res = await submitForm(t, bob, view, { 'jit.form.justification': 'Reboot it' });
    expect(inlineErrors(res)).toEqual({ resource: 'No administrators found for this resource.' });
    await expectNothingSent(mark);
  });
});

// ------------------------------------------------------------------ the form while it is filled in

describe('the request form while it is filled in', () => {
  it('highlights the chosen quick duration and keeps a live summary with the end time and the approvers', async () => {
    let view = await openForm(t, carol, 'acme-prod');
    expect(quickButtons(view).some((b) => b.primary)).toBe(false);
    expect(summaryOf(view)).toContain('approvers: none chosen yet');

    const chosen = { 'jit.form.approvers': [alice.email, dave.email] };
    view = await formAction(t, carol, view, 'jit.form.approvers', {
      selectedOptions: chosen['jit.form.approvers'],
      values: chosen,
    });
    expect(summaryOf(view)).toContain('approvers: Alice Approver, Dave Reviewer');

    view = await formAction(t, carol, view, quickDurationAction(view, '8 hours'), { values: chosen });
    expect(quickButtons(view)).toEqual([
      { label: '4 hours', primary: false },
      { label: '8 hours', primary: true },
      { label: '1 day', primary: false },
      { label: '3 days', primary: false },
      { label: '1 week', primary: false },
    ]);
    const until = formatTime(addDuration(t.clock.now(), 'PT8H'), carol.tz);
    expect(summaryOf(view)).toBe(
      `Acme Corp — production tenant for 8 hours, until ${until} your time; approvers: Alice Approver, Dave Reviewer`,
    );
    // The selection survives the update: the approvers stay chosen in the re-rendered select.
    expect(
      ((element(view, 'jit.form.approvers')?.initial_options ?? []) as Array<{ value: string }>).map(
        (o) => o.value,
      ),
    ).toEqual([alice.email, dave.email]);

    // Choosing another one moves the highlight.
    view = await formAction(t, carol, view, quickDurationAction(view, '1 day'), { values: chosen });
    expect(quickButtons(view).filter((b) => b.primary)).toEqual([{ label: '1 day', primary: true }]);
    expect(summaryOf(view)).toContain('for 1 day, until');
  });

  it('refreshes approvers and durations when the resource changes; an auto-approved resource hides the approvers', async () => {
    let view = await formWithQuickDuration(carol, 'acme-prod', '8 hours');
    const acmeApprovers = blockOf(view, 'jit.form.approvers');
    const chosen = { 'jit.form.approvers': [alice.email] };

    view = await formAction(t, carol, view, 'jit.form.resource', {
      selectedOption: 'staging-db',
      values: { ...chosen, 'jit.form.resource': 'staging-db' },
    });
    expect(element(view, 'jit.form.approvers')).toBeUndefined();
    expect(collectText(view.blocks)).toContain('Approved automatically');
    expect(quickButtons(view)).toEqual([
      { label: '1 hour', primary: false },
      { label: '4 hours', primary: false },
    ]);
    expect(summaryOf(view)).toContain('Staging database');
    expect(summaryOf(view)).toContain('approved automatically');
    expect(summaryOf(view)).not.toContain('approvers:');

    view = await formAction(t, carol, view, quickDurationAction(view, '4 hours'), {
      values: { 'jit.form.resource': 'staging-db' },
    });
    const until = formatTime(addDuration(t.clock.now(), 'PT4H'), carol.tz);
    expect(summaryOf(view)).toBe(
      `Staging database for 4 hours, until ${until} your time; approved automatically`,
    );

    // Back to acme-prod: its approvers again, none chosen (a fresh block, so Slack forgets the old choice).
    view = await formAction(t, carol, view, 'jit.form.resource', {
      selectedOption: 'acme-prod',
      values: { 'jit.form.resource': 'acme-prod' },
    });
    expect(optionValues(view, 'jit.form.approvers')).toEqual([alice.email, dave.email]);
    expect(element(view, 'jit.form.approvers')?.initial_options).toBeUndefined();
    expect(blockOf(view, 'jit.form.approvers')).not.toBe(acmeApprovers);
    expect(quickButtons(view).map((b) => b.label)).toEqual([
      '4 hours',
      '8 hours',
      '1 day',
      '3 days',
      '1 week',
    ]);
    expect(summaryOf(view)).toContain('approvers: none chosen yet');
  });

  it('fills the justification field from the chosen template, and the edited text is what gets sent', async () => {
    let view = await formWithQuickDuration(carol, 'acme-prod');
    const before = blockOf(view, 'jit.form.justification');
    expect(optionValues(view, 'jit.form.template')).toContain('Deploy Changes');

    view = await formAction(t, carol, view, 'jit.form.template', {
      selectedOption: 'Deploy Changes',
      values: { 'jit.form.template': 'Deploy Changes' },
    });
    expect(element(view, 'jit.form.justification')?.initial_value).toBe('Deploy Changes');
    // A new block id, or Slack would keep showing the old text.
    expect(blockOf(view, 'jit.form.justification')).not.toBe(before);
    // The quick duration chosen earlier is kept.
    expect(
      quickButtons(view)
        .filter((b) => b.primary)
        .map((b) => b.label),
    ).toEqual(['4 hours']);

    const res = await submitForm(t, carol, view, {
      'jit.form.approvers': [dave.email],
      'jit.form.justification': 'Deploy Changes: release 4.2',
    });
    expect(res.body).toBe('');
    const card = await waitForDm(t, dave, 'Approve');
    expect(collectText(card.blocks)).toContain('Deploy Changes: release 4.2');
  });
});
