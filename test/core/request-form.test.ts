import { beforeEach, describe, expect, it } from 'vitest';
import {
  applyChange,
  buildForm,
  chosenDuration,
  emptyState,
  type FormState,
  type NamesOf,
  openState,
  type Viewer,
  validateSubmission,
} from '../../src/core/forms/request-form.js';
import type { AccessService, SubmitInput } from '../../src/domain/service.js';
import type { InProcessRunner } from '../../src/jobs/in-process.js';
import type { Store } from '../../src/store/index.js';
import { startMemoryDomain } from '../support/domain.js';

/**
 * bob and carol (support) may request Production, Staging and Sandbox; erin only Sandbox; alice
 * only Vault; frank nothing. Bob is one of Production's approvers (never his own) and the only
 * approver of Staging; Sandbox is approved automatically.
 */
const POLICY = `
defaults: { approvalWindow: PT1H }
groups: { support: [bob@example.com, carol@example.com] }
resources:
  - id: prod
    name: Production
    approvers: [alice@example.com, bob@example.com, dave@example.com]
    requesters: [support]
    policy:
      durations: [PT4H, PT8H, P1D]
      custom: { min: PT2H, max: P3D }
      justificationTemplates: [Incident response, Deploy changes]
  - id: staging
    name: Staging
    approvers: [bob@example.com]
    requesters: [support]
  - id: sandbox
    name: Sandbox
    approvers: [alice@example.com]
    requesters: [support, erin@example.com]
    policy: { approval: auto }
  - id: vault
    name: Vault
    approvers: [dave@example.com]
    requesters: [alice@example.com]
`;

const bob: Viewer = { email: 'bob@example.com', name: 'Bob' };
const carol: Viewer = { email: 'carol@example.com', name: 'Carol' };
const alice: Viewer = { email: 'alice@example.com', name: 'Alice' };
const erin: Viewer = { email: 'erin@example.com', name: 'Erin' };
const frank: Viewer = { email: 'frank@example.com', name: 'Frank' };

/** The directory a platform would offer: known people get their names; others stand for themselves. */
const DIRECTORY: Record<string, string> = {
  'alice@example.com': 'Alice Liddell',
  'dave@example.com': 'Dave Bowman',
};
const namesOf: NamesOf = async (emails) =>
  new Map(emails.flatMap((e) => (DIRECTORY[e] ? [[e, DIRECTORY[e]] as [string, string]] : [])));

let runner: InProcessRunner;
let service: AccessService;
let store: Store;

beforeEach(async () => {
  ({ store, runner, service } = await startMemoryDomain(POLICY));
});

function state(over: Partial<FormState> = {}): FormState {
  return { ...emptyState(), ...over };
}

function submission(over: Partial<SubmitInput> = {}): SubmitInput {
  return {
    requester: bob,
    resourceId: 'prod',
    approvers: ['alice@example.com'],
    duration: 'PT8H',
    justification: 'Investigate the outage',
    ticket: 'INC-42',
    submissionKey: crypto.randomUUID(),
    ...over,
  };
}

describe('opening the request form', () => {
  it('preselects the resource named by id, or by name in any case', async () => {
    for (const query of ['prod', 'Production', 'pRODUCTION', '  production  ']) {
      const opened = await openState(service, bob, { query });
      expect(opened.state.resourceId, query).toBe('prod');
      expect(opened.notice, query).toBeUndefined();
    }
  });

  it('opens without a resource and says so when the query names one the person may not request', async () => {
    const opened = await openState(service, bob, { query: 'Vault' });
    expect(opened.state.resourceId).toBeUndefined();
    expect(opened.notice).toContain('“Vault”');
    expect(opened.notice).toContain('that you can request');
  });

  it('opens without a resource and says so when the query names nothing that exists', async () => {
    const opened = await openState(service, bob, { query: 'mainframe' });
    expect(opened.state.resourceId).toBeUndefined();
    expect(opened.notice).toContain('“mainframe”');
    const model = await buildForm(service, bob, opened.state, namesOf, { notice: opened.notice });
    expect(model.notice).toBe(opened.notice);
    expect(model.resource).toMatchObject({ mode: 'choose' });
    expect(model.resource.mode === 'choose' && model.resource.selected).toBeFalsy();
  });

  it('preselects the only resource a person may request, and leaves the choice open when there are several', async () => {
    expect((await openState(service, erin)).state.resourceId).toBe('sandbox');
    expect((await openState(service, alice)).state.resourceId).toBe('vault');
    expect((await openState(service, bob)).state.resourceId).toBeUndefined();
  });

  it('reports that there is nothing to request for someone who may request no resource', async () => {
    const opened = await openState(service, frank, { query: 'prod' });
    expect(opened.nothingToRequest).toBe(true);
    expect(opened.state.resourceId).toBeUndefined();
    const model = await buildForm(service, frank, opened.state, namesOf);
    expect(model.resource.mode).toBe('none');
    expect(model.canSubmit).toBe(false);
    expect((await openState(service, bob)).nothingToRequest).toBeFalsy();
  });

  it('prefills "Request again" from the person’s own earlier request', async () => {
    const earlier = await service.submit(
      submission({ approvers: ['alice@example.com', 'dave@example.com'] }),
    );
    await service.cancel(earlier.id, bob);
    const opened = await openState(service, bob, { again: earlier });
    expect(opened.state).toEqual({
      ...emptyState(),
      resourceId: 'prod',
      approvers: ['alice@example.com', 'dave@example.com'],
      quick: 'PT8H',
      justification: 'Investigate the outage',
      ticket: 'INC-42',
    });
  });

  it('prefills a custom duration from an earlier request as the custom amount, not as a quick choice', async () => {
    const earlier = await service.submit(submission({ duration: 'P2D', approvers: ['alice@example.com'] }));
    await service.cancel(earlier.id, bob);
    const opened = await openState(service, bob, { again: earlier });
    expect(opened.state.quick).toBeUndefined();
    expect(opened.state).toMatchObject({ customAmount: '2', customUnit: 'day' });
    const model = await buildForm(service, bob, opened.state, async () => new Map());
    expect(model.duration?.custom?.amount).toBe('2');
    expect(model.duration?.quick.some((q) => q.selected)).toBe(false);
    expect(model.summary).toContain('Production for 2 days');
  });

  it('prefills nothing from someone else’s request', async () => {
    const carols = await service.submit(submission({ requester: carol, approvers: ['dave@example.com'] }));
    const opened = await openState(service, bob, { again: carols });
    expect(opened.state).toEqual(emptyState());
  });

  it('opens an extension with the grant’s resource fixed for its holder, and with none for anyone else', async () => {
    const request = await service.submit(submission());
    await service.decide(request.id, alice, 'approve');
    await runner.runDue(); // provisioning
    const {
      rows: [grant],
    } = await service.listGrants(bob, { user: bob.email });
    expect(grant?.status).toBe('active');

    const opened = await openState(service, bob, { extendGrantId: grant!.id });
    expect(opened.state).toMatchObject({ kind: 'extension', grantId: grant!.id, resourceId: 'prod' });
    const model = await buildForm(service, bob, opened.state, namesOf);
    expect(model.title).toBe('Extend access');
    expect(model.resource).toEqual({
      mode: 'fixed',
      text: 'Extend your access to Production',
      resourceId: 'prod',
    });

    const stranger = await openState(service, carol, { extendGrantId: grant!.id });
    expect(stranger.state.resourceId).toBeUndefined();
    expect((await buildForm(service, carol, stranger.state, namesOf)).resource.mode).toBe('none');
  });
});

describe('changing the request form', () => {
  it('clears the approvers and the duration when the resource changes, and reports both reset', () => {
    const before = state({ resourceId: 'prod', approvers: ['alice@example.com'], quick: 'PT4H' });
    const { state: after, reset } = applyChange(service, bob, before, {
      field: 'resource',
      value: 'sandbox',
    });
    expect(after.resourceId).toBe('sandbox');
    expect(after.approvers).toEqual([]);
    expect(after.quick).toBeUndefined();
    expect(after.customAmount).toBeUndefined();
    expect(reset).toEqual(['approvers', 'duration']);
    expect(before.approvers).toEqual(['alice@example.com']); // the old state is left as it was

    const typed = state({ resourceId: 'prod', customAmount: '5', customUnit: 'day' });
    expect(applyChange(service, bob, typed, { field: 'resource', value: 'staging' }).state.customAmount).toBe(
      undefined,
    );
  });

  it('keeps the approvers and the duration when the same resource is chosen again', () => {
    const before = state({ resourceId: 'prod', approvers: ['alice@example.com'], quick: 'PT4H' });
    const { state: after, reset } = applyChange(service, bob, before, { field: 'resource', value: 'prod' });
    expect(after).toEqual(before);
    expect(reset).toEqual([]);
  });

  it('clears a typed custom amount when a quick duration is chosen', async () => {
    const before = state({ resourceId: 'prod', customAmount: '5', customUnit: 'hour' });
    const { state: after } = applyChange(service, bob, before, { field: 'quick', value: 'PT8H' });
    expect(after.customAmount).toBeUndefined();
    expect(chosenDuration(after)).toEqual({ iso: 'PT8H' });
    const model = await buildForm(service, bob, after, namesOf);
    expect(model.duration?.custom?.amount).toBeUndefined();
    expect(model.duration?.quick.filter((q) => q.selected).map((q) => q.value)).toEqual(['PT8H']);
  });

  it('unmarks the quick duration when a custom amount is typed', async () => {
    const before = state({ resourceId: 'prod', quick: 'PT4H' });
    const { state: after } = applyChange(service, bob, before, { field: 'customAmount', value: ' 6 ' });
    expect(after.quick).toBeUndefined();
    expect(after.customAmount).toBe('6');
    expect(chosenDuration(after)).toEqual({ iso: 'PT6H' });
    const model = await buildForm(service, bob, after, namesOf);
    expect(model.duration?.quick.some((q) => q.selected)).toBe(false);
    expect(model.duration?.custom?.amount).toBe('6');
  });

  it('fills the justification from one of the policy’s templates and ignores a forged one', () => {
    const before = state({ resourceId: 'prod', justification: 'typed so far' });
    const chosen = applyChange(service, bob, before, { field: 'template', value: 'Incident response' });
    expect(chosen.state.justification).toBe('Incident response');
    expect(chosen.reset).toEqual(['justification']);

    const forged = applyChange(service, bob, before, { field: 'template', value: 'Give me root' });
    expect(forged.state).toEqual(before);
    expect(forged.reset).toEqual([]);
  });

  it('ignores a template while no resource is chosen', () => {
    const before = state({ justification: 'typed so far' });
    const changed = applyChange(service, bob, before, { field: 'template', value: 'Incident response' });
    expect(changed.state.justification).toBe('typed so far');
  });
});

describe('the request form as shown', () => {
  it('offers the resource’s approvers without the requester, labelled with their names', async () => {
    const model = await buildForm(service, bob, state({ resourceId: 'prod' }), namesOf);
    expect(model.approvers?.mode).toBe('choose');
    if (model.approvers?.mode !== 'choose') return;
    expect(model.approvers.options).toEqual([
      { value: 'alice@example.com', label: 'Alice Liddell (alice@example.com)' },
      { value: 'dave@example.com', label: 'Dave Bowman (dave@example.com)' },
    ]);
    expect(model.approvers.options.map((o) => o.value)).not.toContain(bob.email);
  });

  it('shows "No administrators found" when the requester is the resource’s only approver', async () => {
    const model = await buildForm(service, bob, state({ resourceId: 'staging' }), namesOf);
    expect(model.approvers).toEqual({ mode: 'none', label: 'Approvers', text: 'No administrators found' });
  });

  it('shows that a resource under automatic approval needs no approver', async () => {
    const model = await buildForm(service, bob, state({ resourceId: 'sandbox', quick: 'PT4H' }), namesOf);
    expect(model.approvers?.mode).toBe('auto');
    expect(model.summary).toContain('approved automatically');
    expect(model.summary).not.toContain('approvers:');
  });

  it('lists the policy’s quick durations in order with the chosen one marked', async () => {
    const model = await buildForm(service, bob, state({ resourceId: 'prod', quick: 'PT8H' }), namesOf);
    expect(model.duration?.quick).toEqual([
      { value: 'PT4H', label: '4 hours', selected: false },
      { value: 'PT8H', label: '8 hours', selected: true },
      { value: 'P1D', label: '1 day', selected: false },
    ]);
  });

  it('marks no quick duration when the chosen value is not one the policy offers', async () => {
    const model = await buildForm(service, bob, state({ resourceId: 'prod', quick: 'PT12H' }), namesOf);
    expect(model.duration?.quick.some((q) => q.selected)).toBe(false);
    expect(model.summary).not.toContain('12 hours');
  });

  it('states the policy’s minimum and maximum in the custom duration hint', async () => {
    const prod = await buildForm(service, bob, state({ resourceId: 'prod' }), namesOf);
    expect(prod.duration?.custom?.hint).toBe('Between 2 hours and 3 days.');
    const staging = await buildForm(service, bob, state({ resourceId: 'staging' }), namesOf);
    expect(staging.duration?.custom?.hint).toBe('Between 1 hour and 1 week.'); // the built-in bounds
  });

  it('summarises the resource, the duration and the end time in the viewer’s own time zone', async () => {
    const tokyo: Viewer = { ...bob, tz: 'Asia/Tokyo' };
    const model = await buildForm(service, tokyo, state({ resourceId: 'prod', quick: 'PT4H' }), namesOf);
    // 09:00 UTC + 4 hours = 13:00 UTC = 22:00 in Tokyo
    expect(model.summary).toMatch(/^Production for 4 hours, until Mon 23 Nov 22:00 .+ your time; /);
    expect(model.summary).toMatch(/approvers: none chosen yet$/);

    const utc = await buildForm(service, bob, state({ resourceId: 'prod', quick: 'PT4H' }), namesOf);
    expect(utc.summary).toContain('until Mon 23 Nov 13:00');
  });

  it('names the chosen approvers in the summary, one without a known name by email, and never someone not eligible', async () => {
    const model = await buildForm(
      service,
      bob,
      state({
        resourceId: 'prod',
        quick: 'PT4H',
        approvers: ['dave@example.com', 'alice@example.com', 'zed@example.com'],
      }),
      async (emails) =>
        new Map(emails.filter((e) => e === 'dave@example.com').map((e) => [e, 'Dave Bowman'])),
    );
    expect(model.summary).toMatch(/; approvers: Dave Bowman, alice@example\.com$/);
  });

  it('asks for a duration in the summary while none is chosen', async () => {
    const model = await buildForm(service, bob, state({ resourceId: 'prod' }), namesOf);
    expect(model.summary).toBe('Production: choose a duration; approvers: none chosen yet');
  });
});

describe('checking a submission of the request form', () => {
  const complete = (over: Partial<FormState> = {}) =>
    state({
      resourceId: 'prod',
      approvers: ['alice@example.com'],
      quick: 'PT8H',
      justification: 'Investigate the outage',
      ...over,
    });

  it('asks for an approver when none is chosen', async () => {
    const checked = await validateSubmission(service, bob, complete({ approvers: [] }), 'k1');
    expect(checked).toEqual({ errors: { approvers: 'Choose at least one approver.' } });
  });

  it('asks for a justification when there is none', async () => {
    const checked = await validateSubmission(service, bob, complete({ justification: '   ' }), 'k1');
    expect('errors' in checked && Object.keys(checked.errors)).toEqual(['justification']);
  });

  it('refuses a custom amount outside the policy with the policy’s bounds', async () => {
    const tooLong = complete({ quick: undefined, customAmount: '4', customUnit: 'day' });
    expect(await validateSubmission(service, bob, tooLong, 'k1')).toEqual({
      errors: { duration: 'Choose a duration between 2 hours and 3 days.' },
    });
    const tooShort = complete({ quick: undefined, customAmount: '1', customUnit: 'hour' });
    expect(await validateSubmission(service, bob, tooShort, 'k1')).toEqual({
      errors: { duration: 'Choose a duration between 2 hours and 3 days.' },
    });
  });

  it('asks for a whole number greater than 0 when the custom amount is not one', async () => {
    for (const customAmount of ['0', '1.5', 'abc', '-3', '1e2']) {
      const checked = await validateSubmission(
        service,
        bob,
        complete({ quick: undefined, customAmount }),
        'k1',
      );
      expect(checked, customAmount).toEqual({ errors: { duration: 'Enter a whole number greater than 0.' } });
    }
  });

  it('returns the input to submit, with lower-cased approvers, the duration as ISO and the submission key', async () => {
    let form = complete({ quick: undefined, ticket: 'INC-7' });
    form = applyChange(service, bob, form, {
      field: 'approvers',
      value: [' Alice@Example.COM', 'DAVE@example.com '],
    }).state;
    form = applyChange(service, bob, form, { field: 'customAmount', value: '2' }).state;
    form = applyChange(service, bob, form, { field: 'customUnit', value: 'day' }).state;
    const checked = await validateSubmission(service, bob, form, 'slack:V123');
    expect(checked).toEqual({
      input: {
        requester: { email: 'bob@example.com', name: 'Bob' },
        resourceId: 'prod',
        approvers: ['alice@example.com', 'dave@example.com'],
        duration: 'P2D',
        justification: 'Investigate the outage',
        ticket: 'INC-7',
        submissionKey: 'slack:V123',
      },
    });
  });

  it('stores nothing, whether the submission is refused or accepted', async () => {
    await validateSubmission(service, bob, complete({ approvers: [] }), 'k1');
    await validateSubmission(service, bob, complete({ customAmount: 'abc' }), 'k2');
    const ok = await validateSubmission(service, bob, complete(), 'k3');
    expect('input' in ok).toBe(true);
    expect(await store.repos.requests.list({})).toEqual([]);
    expect(await store.repos.grants.list({})).toEqual([]);
  });
});
