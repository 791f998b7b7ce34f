/**
 * Property-based tests (fast-check) of the domain: random sequences of operations by random people
 * (submit, extend, approve, deny, two approvers at once, cancel, end access, the connector going
 * down and up, time passing with the jobs and the sweep running) on the memory store with a manual
 * clock. After every step:
 *
 * - at most one decision per request (one approved/denied/cancelled/expired entry, and a decided
 *   request never changes its status or decider again);
 * - no grant is shown active after its `expiresAt` plus the sweep interval, even while the
 *   connector is down (it is then `revoking`, never `active`);
 * - at most one open (provisioning or active) grant per person and resource;
 * - the audit trail only grows: every entry seen before is still there, unchanged, in order.
 *
 * A failing run prints the shortest sequence of operations fast-check could shrink it to.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ManualClock } from '../../src/domain/clock.js';
import { DomainError } from '../../src/domain/errors.js';
import type { AccessRequest, AuditEvent, Grant } from '../../src/domain/model.js';
import { parseAccessConfig } from '../../src/domain/policy.js';
import { PolicySource } from '../../src/domain/policy-source.js';
import { type Connector, ConnectorError } from '../../src/domain/ports.js';
import { AccessService } from '../../src/domain/service.js';
import { registerJobs } from '../../src/jobs/handlers.js';
import { InProcessRunner } from '../../src/jobs/in-process.js';
import { createLogger } from '../../src/log.js';
import { createMemoryStore } from '../../src/store/index.js';

const SWEEP_MS = 60_000;
const POLICY = `
defaults: { approvalWindow: PT1H, remindBefore: PT10M }
groups: { support: [bob@example.com, carol@example.com] }
admins: [admin@example.com]
resources:
  - id: prod
    name: Production
    approvers: [alice@example.com, dave@example.com, carol@example.com]
    requesters: [support]
    policy: { durations: [PT1H, PT4H], custom: { min: PT1H, max: P1D } }
  - id: staging
    name: Staging
    approvers: [alice@example.com]
    requesters: [support]
    policy: { approval: auto, durations: [PT1H, PT2H] }
`;

const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'admin'].map((n) => ({
  email: `${n}@example.com`,
  name: n,
}));

type Op =
  | { op: 'submit'; who: number; resource: string; approvers: number[]; duration: string }
  | { op: 'extend'; grant: number; who: number; approvers: number[]; duration: string }
  | { op: 'decide'; request: number; who: number; decision: 'approve' | 'deny' }
  | { op: 'race'; request: number; first: number; second: number; decision: 'approve' | 'deny' }
  | { op: 'cancel'; request: number; who: number }
  | { op: 'end'; grant: number; who: number }
  | { op: 'connector'; up: boolean }
  | { op: 'advance'; ms: number }
  | { op: 'sweep' };

const index = fc.nat({ max: 20 });
/** Anyone, mostly the people the policy names, so most operations get past the first check. */
const who = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 3) },
  { weight: 1, arbitrary: fc.nat({ max: PEOPLE.length - 1 }) },
);
const requester = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(1, 2) }, { weight: 1, arbitrary: who });
const approvers = fc.uniqueArray(
  fc.oneof({ weight: 5, arbitrary: fc.constantFrom(0, 3) }, { weight: 1, arbitrary: who }),
  { minLength: 1, maxLength: 3 },
);
const duration = fc.constantFrom('PT1H', 'PT4H', 'PT2H', 'P1D', 'PT30M', 'P2D');
const decision = fc.constantFrom('approve' as const, 'deny' as const);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('submit' as const),
      who: requester,
      resource: fc.constantFrom('prod', 'staging'),
      approvers,
      duration,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('extend' as const), grant: index, who, approvers, duration }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('decide' as const), request: index, who, decision }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('race' as const),
      request: index,
      first: who,
      second: who,
      decision,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cancel' as const), request: index, who }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('end' as const), grant: index, who }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('connector' as const), up: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 6 * 3_600_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('sweep' as const) }) },
);

/** A connector whose target can be switched off: then every call fails as retryable. */
class SwitchableConnector implements Connector {
  readonly type = 'test';
  up = true;
  async deliver() {
    if (!this.up) throw new ConnectorError('target down');
  }
}

async function world() {
  const clock = new ManualClock('2026-11-23T09:00:00Z');
  const store = createMemoryStore();
  const runner = new InProcessRunner({ clock, retry: { retries: 0 } });
  const connector = new SwitchableConnector();
  const service = new AccessService({
    policy: new PolicySource(parseAccessConfig(parseYaml(POLICY)), store.repos.settings),
    repos: store.repos,
    scheduler: runner,
    connectors: { forResource: () => connector },
    notifier: { notify: async () => {} },
    clock,
    log: createLogger('silent'),
    newId: randomUUID,
    backoffMs: (n) => Math.min(1000 * 2 ** n, 300_000),
    reportAfterAttempts: 3,
  });
  registerJobs(runner, service, { sweepIntervalMs: SWEEP_MS });
  await runner.start();
  return { clock, store, runner, connector, service };
}

/** Runs a domain call; a refusal is an expected outcome, anything else fails the property. */
async function attempt(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
  }
}

const OPEN = new Set(['provisioning', 'active']);
const DECISIONS = new Set(['request.approved', 'request.denied', 'request.cancelled', 'request.expired']);

/** What a run did, so a test can show the properties were not vacuously true. */
interface Seen {
  grants: number;
  decisions: number;
  /** Grant statuses at the end. */
  statuses: string[];
}

async function run(ops: Op[]): Promise<Seen> {
  const w = await world();
  const { store, service, runner, clock } = w;
  const decided = new Map<string, Pick<AccessRequest, 'status' | 'decidedBy'>>();
  let trail: AuditEvent[] = [];
  const all = { limit: 100_000 };
  const pick = <T>(list: T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined);

  try {
    for (const op of ops) {
      const requests = await store.repos.requests.list(all);
      const grants = await store.repos.grants.list(all);
      switch (op.op) {
        case 'submit':
          await attempt(
            service.submit({
              requester: PEOPLE[op.who]!,
              resourceId: op.resource,
              approvers: op.approvers.map((i) => PEOPLE[i]!.email),
              duration: op.duration,
              justification: 'property',
              submissionKey: randomUUID(),
            }),
          );
          break;
        case 'extend': {
          const grant = pick(grants, op.grant);
          if (!grant) break;
          await attempt(
            service.submit({
              requester: PEOPLE[op.who]!,
              resourceId: grant.resourceId,
              approvers: op.approvers.map((i) => PEOPLE[i]!.email),
              duration: op.duration,
              justification: 'more',
              submissionKey: randomUUID(),
              grantId: grant.id,
            }),
          );
          break;
        }
        case 'decide': {
          const request = pick(requests, op.request);
          if (request) await attempt(service.decide(request.id, PEOPLE[op.who]!, op.decision));
          break;
        }
        case 'race': {
          const request = pick(requests, op.request);
          if (request) {
            await Promise.all([
              attempt(service.decide(request.id, PEOPLE[op.first]!, op.decision)),
              attempt(service.decide(request.id, PEOPLE[op.second]!, 'approve')),
            ]);
          }
          break;
        }
        case 'cancel': {
          const request = pick(requests, op.request);
          if (request) await attempt(service.cancel(request.id, PEOPLE[op.who]!));
          break;
        }
        case 'end': {
          const grant = pick(grants, op.grant);
          if (grant) await attempt(service.endAccess(grant.id, PEOPLE[op.who]!));
          break;
        }
        case 'connector':
          w.connector.up = op.up;
          break;
        case 'advance':
          await runner.advance(op.ms);
          break;
        case 'sweep':
          await service.sweep();
          break;
      }
      await runner.runDue();
      await check();
    }
    const grants = await store.repos.grants.list(all);
    return { grants: grants.length, decisions: decided.size, statuses: grants.map((g) => g.status) };
  } finally {
    await runner.stop();
    await store.close();
  }

  async function check() {
    const now = clock.now().getTime();
    const requests = await store.repos.requests.list(all);
    const grants: Grant[] = await store.repos.grants.list(all);
    const audit = await store.repos.audit.list({ limit: 1_000_000 });

    // At most one decision per request, and a decision never changes.
    for (const r of requests) {
      const decisions = audit.filter((e) => e.requestId === r.id && DECISIONS.has(e.type));
      expect(decisions.length, `decisions of ${r.id}: ${decisions.map((e) => e.type)}`).toBeLessThanOrEqual(
        1,
      );
      const before = decided.get(r.id);
      if (before) expect({ status: r.status, decidedBy: r.decidedBy }).toEqual(before);
      else if (r.status !== 'pending') decided.set(r.id, { status: r.status, decidedBy: r.decidedBy });
    }

    // No grant active after expiresAt plus the sweep interval.
    for (const g of grants) {
      if (g.status === 'active' && g.expiresAt) {
        expect(
          now,
          `grant ${g.id} active ${now - g.expiresAt.getTime()} ms after expiry`,
        ).toBeLessThanOrEqual(g.expiresAt.getTime() + SWEEP_MS);
      }
    }

    // At most one open grant per person and resource.
    const open = new Map<string, string[]>();
    for (const g of grants.filter((g) => OPEN.has(g.status))) {
      const key = `${g.holder.email} ${g.resourceId}`;
      open.set(key, [...(open.get(key) ?? []), `${g.id}:${g.status}`]);
    }
    for (const [key, ids] of open) expect(ids, key).toHaveLength(1);

    // The audit trail only grows: what was there is still there, unchanged, in the same order.
    expect(audit.length).toBeGreaterThanOrEqual(trail.length);
    expect(audit.slice(0, trail.length)).toEqual(trail);
    trail = audit;
  }
}

describe('the domain under random operations', () => {
  it('keeps its invariants: one decision per request, no active grant past expiry, one open grant per person and resource, an append-only audit trail', async () => {
    const total = { grants: 0, decisions: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        const seen = await run(ops);
        total.grants += seen.grants;
        total.decisions += seen.decisions;
      }),
      // FC_SEED=<n> replays a run fast-check reported.
      { numRuns: 60, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
    );
    // The random runs did make grants and decisions: the properties were tested, not vacuous.
    expect(total.grants).toBeGreaterThan(10);
    expect(total.decisions).toBeGreaterThan(10);
  }, 120_000);

  it('holds them in the case that matters most: a grant that expires while the connector is down', async () => {
    // A fixed sequence that exercises every invariant: a grant made, raced, expired while the
    // connector is down, and swept once it is back.
    const ops: Op[] = [
      { op: 'submit', who: 1, resource: 'prod', approvers: [0, 3], duration: 'PT1H' },
      { op: 'race', request: 0, first: 0, second: 3, decision: 'approve' },
      { op: 'connector', up: false },
      { op: 'advance', ms: 2 * 3_600_000 },
      { op: 'connector', up: true },
      { op: 'advance', ms: 10 * 60_000 },
    ];
    // One grant, one decision despite the race, revoked once the connector was back (the checks
    // after each step saw it revoking, never active, while the connector was down).
    expect(await run(ops)).toEqual({ grants: 1, decisions: 1, statuses: ['expired'] });
  });
});
