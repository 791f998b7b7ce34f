/**
 * Threat: a requester who is also an approver of the resource approves their own request: by
 * naming themselves as approver in a tampered form submission, or by clicking a card of their
 * own request.
 * Expected refusal: the form never offers them; the tampered submission is refused inline
 * ("You cannot approve your own request.") and sends nothing; the click gets "You cannot decide
 * your own request." privately; each refusal is audited as SELF_APPROVAL.
 */
import { describe, expect, it } from 'vitest';
import { findElement } from '../support/fake-slack.js';
import { click, eventually, onlyRequest } from '../support/flows.js';
import { USERS } from '../support/system.js';
import {
  blockOf,
  denyDialogs,
  ephemeralTo,
  filledForm,
  pendingRequest,
  quiet,
  setApprovers,
  submitTampered,
  useSystem,
} from './support.js';

const { alice, dave, carol } = USERS;
const sys = useSystem();

describe('self-approval', () => {
  it('never lets the requester decide their own request, even though she is an approver of the resource', async () => {
    const t = sys();
    // Carol is an approver of acme-prod in the test policy, and a requester of it.
    const view = await filledForm(t, carol);
    const approverOptions = (findElement(view.blocks, 'jit.form.approvers')?.element.options ?? []) as Array<{
      value: string;
    }>;
    expect(approverOptions.map((o) => o.value).sort()).toEqual([alice.email, dave.email]);

    // A tampered submission naming herself (alone, or beside a real approver) is refused inline.
    const mark = t.fake.checkpoint();
    for (const approvers of [[carol.email], [alice.email, carol.email], ['CAROL@Example.com ']]) {
      const res = await submitTampered(
        t,
        carol,
        view,
        { 'jit.form.justification': 'Me, myself' },
        (state) => {
          setApprovers(view, state, approvers);
        },
      );
      expect(res.status).toBe(200);
      expect(res.body, JSON.stringify(approvers)).toEqual({
        response_action: 'errors',
        errors: { [blockOf(view, 'jit.form.approvers')]: 'You cannot approve your own request.' },
      });
    }
    await quiet();
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.calls.filter((c) => c.seq >= mark && c.method === 'chat.postMessage')).toHaveLength(0);

    // A click on a card of her own request is refused too.
    const { cards } = await pendingRequest(t, [alice]);
    await click(t, carol, cards.get(alice)!, 'jit.request.approve');
    await ephemeralTo(t, carol, 'You cannot decide your own request.');
    await click(t, carol, cards.get(alice)!, 'jit.request.deny');
    // Every refusal is in the audit trail: the tampered forms, the Approve and the Deny.
    await eventually(async () => {
      const refused = await t.store.repos.audit.list({ type: 'action.refused', actor: carol.email });
      expect(refused.map((e) => [e.details?.action, e.details?.code])).toEqual([
        ['request', 'SELF_APPROVAL'],
        ['request', 'SELF_APPROVAL'],
        ['request', 'SELF_APPROVAL'],
        ['approve', 'SELF_APPROVAL'],
        ['deny', 'SELF_APPROVAL'],
      ]);
    });
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(denyDialogs(t)).toHaveLength(0);
    expect(t.hooks.calls).toHaveLength(0);
  });
});
