import { afterEach, describe, expect, it } from 'vitest';
import {
  click,
  eventually,
  formAction,
  openForm,
  quickDurationAction,
  requestAccess,
  submitForm,
  waitForDm,
} from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, carol, bob } = USERS;
const HOUR = 60 * 60_000;

const POLICY = `
defaults: { approvalWindow: PT1H, remindBefore: PT5M }
groups: { support: [bob@example.com, carol@example.com] }
resources:
  - id: oncall
    name: On-call responders
    approvers: [alice@example.com]
    requesters: [support]
    connector: { type: slack-usergroup, usergroupId: S0ONCALL }
`;

let t: TestSystem;
afterEach(async () => {
  await t.close();
});

describe('the slack-usergroup connector, end to end', () => {
  it('adds the holder to the user group on approval and takes them out at expiry', async () => {
    t = await startTestSystem({
      policy: POLICY,
      usergroups: [{ id: 'S0ONCALL', handle: 'oncall', users: [USERS.dave.id] }],
    });
    await requestAccess(t, carol, { resource: 'oncall', approvers: [alice.email] });
    await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
    await waitForDm(t, carol, 'is active until');
    expect(t.fake.usergroupMembers('S0ONCALL')).toEqual([USERS.dave.id, carol.id]);

    await t.runner.advance(4 * HOUR);
    await eventually(async () => {
      const [grant] = await t.store.repos.grants.list({});
      expect(grant?.status).toBe('expired');
    });
    expect(t.fake.usergroupMembers('S0ONCALL')).toEqual([USERS.dave.id]);
    await waitForDm(t, carol, 'has ended');
  });

  it('refuses a second overlapping grant, so one revocation cannot remove access another still promises', async () => {
    t = await startTestSystem({
      policy: POLICY,
      usergroups: [{ id: 'S0ONCALL', handle: 'oncall', users: [] }],
    });
    await requestAccess(t, bob, { resource: 'oncall', approvers: [alice.email] });
    await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
    await waitForDm(t, bob, 'is active until');
    expect(t.fake.usergroupMembers('S0ONCALL')).toEqual([bob.id]);
    // Bob asks again while he holds it: refused inline, pointing at the extension.
    let view = await openForm(t, bob, 'oncall');
    view = await formAction(t, bob, view, quickDurationAction(view, '4 hours'));
    const res = await submitForm(t, bob, view, {
      'jit.form.approvers': [alice.email],
      'jit.form.justification': 'again',
    });
    expect(res.body).toMatchObject({ response_action: 'errors' });
    expect(JSON.stringify(res.body)).toContain('You already have access to On-call responders');
  });
});
