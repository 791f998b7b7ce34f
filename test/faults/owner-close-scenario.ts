/**
 * An owner switches a resource off while someone holds it and someone else waits for a decision,
 * and the process may die at any write of that save and of what follows (the audit event, the
 * approvers' message, the window job, the revocation, the request's closing, the messages). After a
 * death the app starts again over the same data (a new scheduler that knows none of the old jobs),
 * the owner repeats the save (a save already stored is refused as changed meanwhile, as a person
 * would see it), and time goes on. At the end everything must have happened exactly as without the
 * crash. See ./crash-scenario.ts for the harness.
 */
import { expect } from 'vitest';
import type { StoreFaults } from '../support/faulty-store.js';
import { USERS } from '../support/system.js';
import { type Harness, MIN, type Outcome, person, startHarness } from './crash-scenario.js';

const { alice, bob, carol, erin } = USERS;

const POLICY = `
defaults:
  approvalWindow: PT2H
  remindBefore: PT5M
groups:
  support: [bob@example.com, carol@example.com]
resources:
  - id: acme-prod
    name: Acme Corp — production tenant
    approvers: [alice@example.com]
    owners: [erin@example.com]
    requesters: [support]
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
`;

export async function runOwnerCloseScenario(faults: StoreFaults): Promise<Outcome> {
  const h: Harness = await startHarness(faults, { policy: POLICY });
  const { t, first, step, until } = h;
  const svc = () => t.system.service;
  const ask = (who: typeof carol, key: string) =>
    svc().submit({
      requester: person(who),
      resourceId: 'acme-prod',
      approvers: [alice.email],
      duration: 'PT4H',
      justification: 'Investigate ticket 42',
      submissionKey: key,
    });

  await step('request', () => ask(carol, 'view-carol'));
  const [request] = await t.store.repos.requests.list({});
  expect(request, 'the request was stored').toBeDefined();
  await step('approve', () => svc().decide(request!.id, person(alice), 'approve'));
  await step('provision', () =>
    until(async () => (await t.store.repos.grants.list({ status: 'active' })).length === 1),
  );
  await step('wait', () => ask(bob, 'view-bob'));
  await step('switch off', () =>
    svc().saveSettings(person(erin), {
      resourceId: 'acme-prod',
      jitEnabled: false,
      windowEndsAt: null,
      expectedVersion: 0,
    }),
  );
  await step('revoke', () =>
    until(async () => (await t.store.repos.grants.list({ status: 'revoked' })).length === 1),
  );
  await step('deliver the rest', () =>
    until(async () => (await t.store.repos.outbox.count({ status: 'pending' })) === 0, 30_000, 30 * MIN),
  );
  return {
    ...(first.diedAt ? { diedAt: first.diedAt } : {}),
    writes: first.writes,
    stepStarts: h.stepStarts,
    ...(await h.sent()),
    t,
  };
}

/** Everything that must hold at the end, crash or not. */
export async function expectOwnerCloseConverged(o: Outcome, baseline: Outcome): Promise<void> {
  const { t } = o;
  const why = o.diedAt ? `died at ${o.diedAt}` : 'no crash';
  const setting = await t.store.repos.settings.get('acme-prod');
  expect(setting, why).toMatchObject({ jitEnabled: false, updatedBy: erin.email, version: 1 });
  expect(setting, `${why}: the save's mark is removed once settled`).not.toHaveProperty('unsettled');

  const requests = await t.store.repos.requests.list({});
  expect(
    requests.map((r) => `${r.requester.email} ${r.status} ${r.closedReason ?? '-'}`).sort(),
    why,
  ).toEqual([`${bob.email} cancelled closed-by-owner`, `${carol.email} approved -`]);
  expect(
    requests.filter((r) => r.unsettled),
    why,
  ).toEqual([]);
  const grants = await t.store.repos.grants.list({});
  expect(
    grants.map((g) => [g.status, g.endReason, g.endedBy, g.unsettled]),
    why,
  ).toEqual([['revoked', 'closed-by-owner', erin.email, undefined]]);
  const keys = t.hooks.calls.map((c) => c.headers['x-jit-idempotency-key']);
  const g = grants[0]!;
  expect([...new Set(keys)].sort(), why).toEqual([`${g.id}:activated`, `${g.id}:revoked`]);

  // The audit trail: each thing once.
  const trail = (await t.store.repos.audit.list({ limit: 10_000 })).map((e) => e.type);
  const count = (type: string) => trail.filter((x) => x === type).length;
  for (const [type, n] of [
    ['resource.settings_changed', 1],
    ['request.created', 2],
    ['request.approved', 1],
    ['request.cancelled', 1],
    ['grant.activated', 1],
    ['grant.revoked', 1],
    ['message.undeliverable', 0],
  ] as const) {
    expect(count(type), `${type} (${why})`).toBe(n);
  }
  // Every message went out, none twice (save a death between Slack's answer and the outbox's record).
  expect(o.messages, why).toEqual(baseline.messages);
  const diedRecordingASend = /(outbox\.update|messages\.save|audit\.append)$/.test(o.diedAt ?? '');
  expect(o.extraPosts, why).toBeLessThanOrEqual(diedRecordingASend ? 1 : 0);
}
