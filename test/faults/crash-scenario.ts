/**
 * One access, from request to revocation, driven step by step, during which the process may die
 * at any write (test/support/faulty-store.ts). After a death the app is started again over the same
 * data (a new scheduler that knows none of the old jobs, as after a crash), people repeat what they
 * were doing when it failed (the same form submission, the same click), and time goes on. At the
 * end everything must have happened exactly as without the crash.
 *
 * The steps: Carol asks for acme-prod (4 h) → Alice approves → the connector provisions → the
 * reminder → Carol asks for an extension (1 h) → Alice approves it → the connector is told → expiry
 * → revocation, plus every message to the people involved on the way.
 */
import { expect } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import type { Grant } from '../../src/domain/model.js';
import { type FaultyStore, faultyStore, type StoreFaults } from '../support/faulty-store.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, carol } = USERS;
const SEC = 1000;
export const MIN = 60 * SEC;
const HOUR = 60 * MIN;
export const START = new Date('2026-11-23T09:00:00.000Z');

export const person = (u: typeof carol) => ({ email: u.email, name: u.realName, tz: u.tz });

export interface Outcome {
  /** Where the process died (`#n repo.method`), if it did. */
  diedAt?: string;
  /** The writes of the first boot, up to its death. */
  writes: string[];
  /** The first write of each step (1-based), without a crash. */
  stepStarts: Array<{ step: string; write: number }>;
  /** What went out, one line per outbox item: `mode purpose recipient view`, sorted. */
  messages: string[];
  /** Messages posted to Slack beyond one per sent item. */
  extraPosts: number;
  t: TestSystem;
}

/** A test system whose first boot dies at the write `faults` names, and the steps that drive it. */
export interface Harness {
  t: TestSystem;
  /** The first boot's store (it records the writes, and where it died). */
  first: FaultyStore;
  stepStarts: Outcome['stepStarts'];
  /** Runs a step; if the process died meanwhile, starts it again (at once) and repeats the step. */
  step(name: string, what: () => Promise<unknown>): Promise<void>;
  /** Moves time in steps until `done` holds (bounded), delivering what falls due. */
  until(done: () => Promise<boolean>, stepMs?: number, maxMs?: number): Promise<void>;
  /** Moves time to `at`, stopping at every job on the way. */
  toTime(at: number): Promise<void>;
  /** What went out, and how many posts beyond one per sent item (see `Outcome`). */
  sent(): Promise<Pick<Outcome, 'messages' | 'extraPosts'>>;
}

export async function startHarness(faults: StoreFaults, opts: { policy?: string } = {}): Promise<Harness> {
  let current: FaultyStore | undefined;
  let boots = 0;
  const t = await startTestSystem({
    start: START,
    ...(opts.policy ? { policy: opts.policy } : {}),
    // Fewer sweeps to run through the hours simulated here; each restart still sweeps at once.
    sweepIntervalMs: 5 * MIN,
    wrapStore: (store) => {
      // Only the first boot fails; the process started after the crash runs normally.
      current = faultyStore(store, boots++ === 0 ? faults : {});
      return current;
    },
  });
  const first = current as FaultyStore;
  const stepStarts: Outcome['stepStarts'] = [];
  /** True while the first process is dead and not yet replaced. */
  const dead = () => Boolean(first.diedAt) && boots === 1;
  /**
   * Waits until every message due now went out, the process died, or a second passed: a message
   * whose lane job was lost with a dead process waits for the next sweep, which moving time brings.
   */
  const quiet = async () => {
    const deadline = Date.now() + 1000;
    while (!dead() && Date.now() < deadline) {
      try {
        return await t.delivered(200);
      } catch {
        // still sending, or due and waiting for the sweep
      }
    }
  };
  const step = async (name: string, what: () => Promise<unknown>) => {
    stepStarts.push({ step: name, write: first.writes.length + 1 });
    try {
      await what();
    } catch (error) {
      // A person sees an error (or is told it was already done) and tries again.
      if (!dead() && !(error instanceof DomainError)) throw error;
    }
    await quiet();
    if (dead()) {
      await t.restart();
      await quiet();
      await what().catch((error) => {
        if (!(error instanceof DomainError)) throw error;
      });
      await quiet();
    }
  };
  const until = async (done: () => Promise<boolean>, stepMs = 10 * SEC, maxMs = 10 * MIN) => {
    for (let waited = 0; !dead() && !(await done()) && waited <= maxMs; waited += stepMs) {
      await t.runner.advance(stepMs);
      await quiet();
    }
  };
  /**
   * Moves time to `at`, stopping at every job on the way, so a process that died in one is
   * replaced right then (as a supervisor would restart it), not hours later.
   */
  const toTime = async (at: number) => {
    while (!dead()) {
      const now = t.clock.now().getTime();
      if (now >= at) return;
      const jobs = t.runner.pending().map((j) => j.at.getTime());
      await t.runner.advance(Math.min(at, ...jobs.filter((x) => x > now)) - now);
      await quiet();
    }
  };

  const sent = async () => {
    const items = await t.store.repos.outbox.list({ limit: 10_000 });
    const sentItems = items.filter((i) => i.status === 'sent');
    const posts = t.fake.callsTo('chat.postMessage').filter((c) => c.response.ok).length;
    return {
      messages: items
        .map((i) => `${i.status} ${i.mode} ${i.purpose || '-'} ${i.recipient} ${String(i.message.view)}`)
        .sort(),
      extraPosts: posts - sentItems.filter((i) => i.mode === 'send').length,
    };
  };
  return { t, first, stepStarts, step, until, toTime, sent };
}

export async function runScenario(faults: StoreFaults): Promise<Outcome> {
  const { t, first, stepStarts, step, until, toTime, sent } = await startHarness(faults);
  const svc = () => t.system.service;
  const grant = async (): Promise<Grant | undefined> => (await t.store.repos.grants.list({}))[0];

  const requestBody = {
    requester: person(carol),
    resourceId: 'acme-prod',
    approvers: [alice.email],
    duration: 'PT4H',
    justification: 'Investigate ticket 42',
    submissionKey: 'view-request',
  };
  await step('request', () => svc().submit(requestBody));
  const [request] = await t.store.repos.requests.list({ kind: 'access' });
  expect(request, 'the request was stored').toBeDefined();
  await step('approve', () => svc().decide(request!.id, person(alice), 'approve'));
  await step('provision', () => until(async () => (await grant())?.status === 'active'));
  const active = await grant();
  expect(active?.status, 'provisioned').toBe('active');

  // The reminder, five minutes before the end.
  await step('remind', () => toTime(active!.expiresAt!.getTime() - 5 * MIN));
  await step('extend', () =>
    svc().submit({
      ...requestBody,
      duration: 'PT1H',
      justification: 'Need a little longer',
      submissionKey: 'view-extension',
      grantId: active!.id,
    }),
  );
  const [extension] = await t.store.repos.requests.list({ kind: 'extension' });
  expect(extension, 'the extension request was stored').toBeDefined();
  await step('approve extension', () => svc().decide(extension!.id, person(alice), 'approve'));
  await step('tell the connector', () => until(async () => !(await grant())?.pendingExtension));
  // Past the new end, then long enough for any lease or retry to run out.
  await step('expire', async () => toTime((await grant())!.expiresAt!.getTime() + SEC));
  await step('revoke', () => until(async () => (await grant())?.status === 'expired'));
  await step('deliver the rest', () =>
    until(async () => (await t.store.repos.outbox.count({ status: 'pending' })) === 0, 30 * SEC, 30 * MIN),
  );

  return {
    ...(first.diedAt ? { diedAt: first.diedAt } : {}),
    writes: first.writes,
    stepStarts,
    ...(await sent()),
    t,
  };
}

/** Everything that must hold at the end, crash or not. */
export async function expectConverged(o: Outcome, baseline: Outcome): Promise<void> {
  const { t } = o;
  const why = o.diedAt ? `died at ${o.diedAt}` : 'no crash';
  const requests = await t.store.repos.requests.list({});
  expect(requests.map((r) => `${r.kind} ${r.status}`).sort(), why).toEqual([
    'access approved',
    'extension approved',
  ]);
  const grants = await t.store.repos.grants.list({});
  expect(grants, why).toHaveLength(1);
  const g = grants[0]!;
  expect(g.status, why).toBe('expired');
  expect(g.expiresAt!.getTime() - g.startsAt!.getTime(), why).toBe(5 * HOUR);

  // The connector: told once of each step (a repeat carries the same idempotency key), all confirmed.
  const keys = t.hooks.calls.map((c) => c.headers['x-jit-idempotency-key']);
  expect([...new Set(keys)].sort(), why).toEqual(
    [
      `${g.id}:activated`,
      `${g.id}:extended:${requests.find((r) => r.kind === 'extension')!.id}`,
      `${g.id}:revoked`,
    ].sort(),
  );
  const lastEvent = t.hooks.calls.at(-1)?.body as { event?: string } | undefined;
  expect(lastEvent?.event, why).toBe('grant.revoked');

  // The audit trail: each thing once.
  const trail = (await t.store.repos.audit.list({ limit: 10_000 })).map((e) => e.type);
  const count = (type: string) => trail.filter((x) => x === type).length;
  for (const [type, n] of [
    ['request.created', 2],
    ['request.approved', 2],
    ['grant.activated', 1],
    ['grant.extended', 1],
    ['grant.reminded', 2],
    ['grant.expired', 1],
  ] as const) {
    expect(count(type), `${type} (${why})`).toBe(n);
  }
  expect(count('message.undeliverable'), why).toBe(0);

  // Every message went out, none twice; the one exception (documented in src/core/outbox.ts) is a
  // death after Slack accepted a message and before the outbox recorded it.
  expect(o.messages, why).toEqual(baseline.messages);
  const diedRecordingASend = /(outbox\.update|messages\.save|audit\.append)$/.test(o.diedAt ?? '');
  expect(o.extraPosts, why).toBeLessThanOrEqual(diedRecordingASend ? 1 : 0);
}
