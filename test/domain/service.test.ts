import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ManualClock } from '../../src/domain/clock.js';
import { DomainError } from '../../src/domain/errors.js';
import type { LifecycleEvent, Log, Notifier } from '../../src/domain/events.js';
import type { Grant } from '../../src/domain/model.js';
import { parseAccessConfig } from '../../src/domain/policy.js';
import { PolicySource } from '../../src/domain/policy-source.js';
import { type Connector, ConnectorError, type ConnectorEvent } from '../../src/domain/ports.js';
import { AccessService, type SubmitInput } from '../../src/domain/service.js';
import { registerJobs } from '../../src/jobs/handlers.js';
import { InProcessRunner } from '../../src/jobs/in-process.js';
import type { JobRunner, PeriodicHandler } from '../../src/jobs/runner.js';
import { createMemoryStore, type Store } from '../../src/store/index.js';

const POLICY = `
defaults: { approvalWindow: PT1H, remindBefore: PT5M }
groups: { support: [bob@example.com, carol@example.com] }
admins: [admin@example.com]
resources:
  - id: prod
    name: Production
    approvers: [alice@example.com, dave@example.com, carol@example.com]
    requesters: [support]
    owners: [olga@example.com]
    policy: { custom: { max: P3D } }
  - id: frozen
    name: Frozen
    approvers: [alice@example.com]
    policy: { extensions: false }
`;

const bob = { email: 'bob@example.com', name: 'Bob' };
const carol = { email: 'carol@example.com', name: 'Carol' };
const alice = { email: 'alice@example.com', name: 'Alice' };
const dave = { email: 'dave@example.com', name: 'Dave' };
const erin = { email: 'erin@example.com', name: 'Erin' };

/** The chat side, as seen by the domain: records what would be sent. */
class RecordingNotifier implements Notifier {
  events: LifecycleEvent[] = [];
  async notify(e: LifecycleEvent) {
    this.events.push(e);
  }
  types() {
    return this.events.map((e) => e.type);
  }
}

/** A connector whose target system can be switched off, or told to refuse one kind of event. */
class SwitchableConnector implements Connector {
  readonly type = 'test';
  up = true;
  /** Events the target refuses (a non-retryable failure). */
  refuses = new Set<ConnectorEvent['event']>();
  calls: ConnectorEvent[] = [];
  delivered: ConnectorEvent[] = [];
  async deliver(e: ConnectorEvent) {
    this.calls.push(e);
    if (this.refuses.has(e.event)) throw new ConnectorError('target refuses: 403', false);
    if (!this.up) throw new ConnectorError('target down');
    this.delivered.push(e);
  }
}

/**
 * A connector whose calls for one event hang until released, as a stuck target would: `reached`
 * resolves once such a call has started. Every other call is delivered at once.
 */
class GatedConnector extends SwitchableConnector {
  started: ConnectorEvent[] = [];
  readonly reached: Promise<void>;
  private arrive: () => void = () => {};
  private open: () => void = () => {};
  private readonly gate = new Promise<void>((r) => (this.open = r));
  constructor(private readonly gated: ConnectorEvent['event']) {
    super();
    this.reached = new Promise<void>((r) => (this.arrive = r));
  }
  override async deliver(e: ConnectorEvent) {
    this.started.push(e);
    if (e.event === this.gated) {
      this.arrive();
      await this.gate;
    }
    this.delivered.push(e);
  }
  release() {
    this.open();
  }
}

/** The log, as seen by the domain: records each entry's event name and fields. */
class RecordingLog implements Log {
  constructor(
    readonly entries: Array<{ level: string; msg?: string; obj: object }> = [],
    private readonly bindings: object = {},
  ) {}
  private add(level: string, obj: object, msg?: string) {
    this.entries.push({ level, msg, obj: { ...this.bindings, ...obj } });
  }
  info(obj: object, msg?: string) {
    this.add('info', obj, msg);
  }
  warn(obj: object, msg?: string) {
    this.add('warn', obj, msg);
  }
  error(obj: object, msg?: string) {
    this.add('error', obj, msg);
  }
  debug(obj: object, msg?: string) {
    this.add('debug', obj, msg);
  }
  child(bindings: Record<string, unknown>): Log {
    return new RecordingLog(this.entries, { ...this.bindings, ...bindings });
  }
  named(msg: string) {
    return this.entries.filter((e) => e.msg === msg);
  }
}

let clock: ManualClock;
let log: RecordingLog;
let store: Store;
let runner: InProcessRunner;
let notifier: RecordingNotifier;
let connector: SwitchableConnector;
let service: AccessService;

/** A fresh service; pass `keep` to restart it over the same store and clock (e.g. after a policy change). */
function build(policy = POLICY, keep?: { store: Store; clock: ManualClock }) {
  clock = keep?.clock ?? new ManualClock('2026-11-23T09:00:00Z');
  store = keep?.store ?? createMemoryStore();
  runner = new InProcessRunner({ clock, retry: { retries: 0 } });
  notifier = new RecordingNotifier();
  log = new RecordingLog();
  connector = new SwitchableConnector();
  service = new AccessService({
    policy: new PolicySource(parseAccessConfig(parseYaml(policy)), store.repos.settings),
    repos: store.repos,
    scheduler: runner,
    connectors: { forResource: () => connector },
    notifier,
    clock,
    log,
    newId: randomUUID,
    backoffMs: (n) => 1000 * n,
    reportAfterAttempts: 3,
  });
  registerJobs(runner, service, { sweepIntervalMs: 60_000 });
}

function input(over: Partial<SubmitInput> = {}): SubmitInput {
  return {
    requester: bob,
    resourceId: 'prod',
    approvers: [alice.email, dave.email],
    duration: 'PT4H',
    justification: 'Deploy Changes',
    submissionKey: randomUUID(),
    ...over,
  };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  throw new Error('expected a refusal');
}

beforeEach(async () => {
  build();
  await runner.start();
});

describe('submitting a request', () => {
  it('refuses an unknown resource, an outsider, no approver, an ineligible or own approver, a bad duration and no reason', async () => {
    expect(await refusal(service.submit(input({ resourceId: 'nope' })))).toBe('RESOURCE_UNKNOWN');
    expect(await refusal(service.submit(input({ requester: erin })))).toBe('NOT_ALLOWED_TO_REQUEST');
    expect(await refusal(service.submit(input({ approvers: [] })))).toBe('NO_APPROVERS');
    expect(await refusal(service.submit(input({ approvers: ['mallory@example.com'] })))).toBe(
      'APPROVER_NOT_ELIGIBLE',
    );
    expect(await refusal(service.submit(input({ requester: carol, approvers: [carol.email] })))).toBe(
      'SELF_APPROVAL',
    );
    expect(await refusal(service.submit(input({ duration: 'P4D' })))).toBe('DURATION_OUT_OF_POLICY');
    expect(await refusal(service.submit(input({ duration: 'PT30M' })))).toBe('DURATION_OUT_OF_POLICY');
    expect(await refusal(service.submit(input({ justification: '   ' })))).toBe('JUSTIFICATION_REQUIRED');
    expect(await store.repos.requests.list({})).toEqual([]);
    expect(notifier.events).toEqual([]);
    const refused = await store.repos.audit.list({ type: 'action.refused' });
    expect(refused.map((e) => e.details?.code)).toContain('SELF_APPROVAL');
  });

  it('accepts a custom duration inside the bounds and a quick one, and a replay returns the first request', async () => {
    const key = randomUUID();
    const first = await service.submit(input({ duration: 'P2D', submissionKey: key }));
    const again = await service.submit(input({ duration: 'P2D', submissionKey: key }));
    expect(again.id).toBe(first.id);
    expect(await store.repos.requests.list({})).toHaveLength(1);
    expect(first.decideBy.toISOString()).toBe('2026-11-23T10:00:00.000Z');
    expect(notifier.types()).toEqual(['request.submitted']);
  });
});

describe('deciding', () => {
  it('lets only a chosen approver decide, never the requester, and only once', async () => {
    const r = await service.submit(input({ requester: carol, approvers: [alice.email] }));
    expect(await refusal(service.decide(r.id, carol, 'approve'))).toBe('SELF_APPROVAL');
    expect(await refusal(service.decide(r.id, dave, 'approve'))).toBe('NOT_AN_APPROVER');
    expect(await refusal(service.decide('missing', alice, 'approve'))).toBe('NOT_FOUND');
    const approved = await service.decide(r.id, alice, 'approve');
    expect(approved.status).toBe('approved');
    expect(await refusal(service.decide(r.id, alice, 'deny'))).toBe('ALREADY_DECIDED');
    await runner.runDue(); // provisioning runs as a job
    const grant = await store.repos.grants.findByRequestId(r.id);
    expect(grant?.status).toBe('active');
    expect(grant?.expiresAt?.toISOString()).toBe('2026-11-23T13:00:00.000Z');
    const refusals = await store.repos.audit.list({ requestId: r.id, type: 'action.refused' });
    expect(refusals.map((e) => e.details?.code)).toEqual([
      'SELF_APPROVAL',
      'NOT_AN_APPROVER',
      'ALREADY_DECIDED',
    ]);
  });

  it('answers a decision before the connector is called', async () => {
    const gated = new GatedConnector('grant.activated');
    connector = gated;
    const r = await service.submit(input());
    // The connector would hang forever, so a decision that waited for it would never come back.
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      service.decide(r.id, alice, 'approve'),
      new Promise<'hung'>((res) => {
        timer = setTimeout(() => res('hung'), 1000);
      }),
    ]);
    clearTimeout(timer);
    if (answer === 'hung') throw new Error('decide waited for the connector');
    expect(answer.status).toBe('approved');
    const g = await store.repos.grants.findByRequestId(r.id);
    expect(g?.status).toBe('provisioning');
    expect(gated.started).toEqual([]);
    expect(notifier.types()).toEqual(['request.submitted', 'request.decided']);

    const running = runner.runDue(); // the provisioning job calls the connector, which hangs
    await gated.reached;
    expect((await store.repos.grants.get(g!.id))?.status).toBe('provisioning');
    gated.release();
    await running;
    const active = await store.repos.grants.get(g!.id);
    expect(active?.status).toBe('active');
    expect(gated.delivered.map((e) => e.idempotencyKey)).toEqual([`${g!.id}:activated`]);
    expect(notifier.types()).toContain('grant.activated');
  });

  it('makes exactly one of many concurrent decisions win', async () => {
    const r = await service.submit(
      input({ requester: bob, approvers: [alice.email, dave.email, carol.email] }),
    );
    const results = await Promise.allSettled([
      service.decide(r.id, alice, 'approve'),
      service.decide(r.id, dave, 'deny'),
      service.decide(r.id, carol, 'approve'),
    ]);
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    expect(notifier.types().filter((t) => t === 'request.decided')).toHaveLength(1);
  });

  it('expires an undecided request at the end of its window, and refuses decisions afterwards', async () => {
    const r = await service.submit(input());
    await runner.advance(60 * 60_000 - 1);
    expect((await service.getRequest(r.id))?.status).toBe('pending');
    await runner.advance(1);
    expect((await service.getRequest(r.id))?.status).toBe('expired');
    expect(await refusal(service.decide(r.id, alice, 'approve'))).toBe('REQUEST_EXPIRED');
    expect(notifier.types()).toEqual(['request.submitted', 'request.expired']);
  });

  it('audits and logs every refused action alike: who, which action, on what, and the code', async () => {
    const r = await service.submit(input());
    expect(await refusal(service.submit(input({ requester: erin })))).toBe('NOT_ALLOWED_TO_REQUEST');
    expect((await service.checkDecision(r.id, bob, 'deny'))?.code).toBe('SELF_APPROVAL');
    expect(await refusal(service.decide(r.id, carol, 'approve'))).toBe('NOT_AN_APPROVER');
    expect(await refusal(service.cancel(r.id, alice))).toBe('NOT_REQUESTER');
    await service.decide(r.id, alice, 'approve');
    await runner.runDue();
    const g = await store.repos.grants.findByRequestId(r.id);
    expect(await refusal(service.endAccess(g!.id, erin))).toBe('NOT_HOLDER');
    const trail = await store.repos.audit.list({ type: 'action.refused' });
    expect(trail.map((e) => [e.actor, e.details?.action, e.details?.code, e.requestId ?? e.grantId])).toEqual(
      [
        [erin.email, 'request', 'NOT_ALLOWED_TO_REQUEST', undefined],
        [bob.email, 'deny', 'SELF_APPROVAL', r.id],
        [carol.email, 'approve', 'NOT_AN_APPROVER', r.id],
        [alice.email, 'cancel', 'NOT_REQUESTER', r.id],
        [erin.email, 'end', 'NOT_HOLDER', g!.id],
      ],
    );
    expect(trail[0]?.resourceId).toBe('prod');
    expect(log.named('action.refused').map((e) => e.obj)).toEqual(
      trail.map((e) => expect.objectContaining({ actor: e.actor, ...e.details })),
    );
  });

  it('lets only the requester cancel, while pending', async () => {
    const r = await service.submit(input());
    expect(await refusal(service.cancel(r.id, alice))).toBe('NOT_REQUESTER');
    expect((await service.cancel(r.id, bob)).status).toBe('cancelled');
    expect(await refusal(service.cancel(r.id, bob))).toBe('ALREADY_DECIDED');
    expect(await refusal(service.decide(r.id, alice, 'approve'))).toBe('ALREADY_DECIDED');
  });
});

describe('grants', () => {
  async function activeGrant(resourceId = 'prod', approvers = [alice.email]) {
    const r = await service.submit(input({ resourceId, approvers }));
    await service.decide(r.id, alice, 'approve');
    await runner.runDue(); // provisioning runs as a job
    const g = await store.repos.grants.findByRequestId(r.id);
    if (g?.status !== 'active') throw new Error(`no active grant: ${g?.status}`);
    return g;
  }

  it("clamps an extension to the owners' window, and closes waiting requests once the resource is switched off", async () => {
    const olga = { email: 'olga@example.com', name: 'Olga' };
    const g = await activeGrant();
    const windowEndsAt = new Date(g.expiresAt!.getTime() + 60 * 60_000);
    await service.saveSettings(olga, {
      resourceId: 'prod',
      jitEnabled: true,
      windowEndsAt,
      expectedVersion: 0,
    });
    const ext = await service.submit(input({ grantId: g.id, duration: 'PT8H' }));
    await service.decide(ext.id, alice, 'approve');
    expect((await store.repos.grants.get(g.id))?.expiresAt).toEqual(windowEndsAt);

    const pending = await service.submit(input({ requester: carol, approvers: [alice.email] }));
    // A stale form (opened at version 0) cannot overwrite the newer setting.
    expect(
      await refusal(
        service.saveSettings(olga, {
          resourceId: 'prod',
          jitEnabled: false,
          windowEndsAt: null,
          expectedVersion: 0,
        }),
      ),
    ).toBe('SETTINGS_CHANGED');
    await service.saveSettings(olga, {
      resourceId: 'prod',
      jitEnabled: false,
      windowEndsAt: null,
      expectedVersion: 1,
    });
    // The waiting request was closed with the resource: nobody can decide it any more.
    expect(await store.repos.requests.get(pending.id)).toMatchObject({
      status: 'cancelled',
      closedReason: 'closed-by-owner',
      decidedBy: olga.email,
    });
    expect(await refusal(service.decide(pending.id, alice, 'approve'))).toBe('ALREADY_DECIDED');
    expect(await refusal(service.submit(input()))).toBe('RESOURCE_CLOSED');
    await runner.runDue();
    expect((await store.repos.grants.get(g.id))?.status).toBe('revoked');
  });

  it('lets the holder, an admin or an owner end access, and nobody else', async () => {
    const g1 = await activeGrant();
    expect(await refusal(service.endAccess(g1.id, erin))).toBe('NOT_HOLDER');
    // The click is answered once the revocation is stored; the connector call runs as a job.
    expect((await service.endAccess(g1.id, bob)).status).toBe('revoking');
    await runner.runDue();
    expect((await store.repos.grants.get(g1.id))?.status).toBe('revoked');
    expect(await refusal(service.endAccess(g1.id, bob))).toBe('GRANT_NOT_ACTIVE');
    const g2 = await activeGrant();
    expect((await service.endAccess(g2.id, { email: 'admin@example.com', name: 'Admin' })).endReason).toBe(
      'revoked-by-admin',
    );
    await runner.runDue();
    const ended2 = await store.repos.grants.get(g2.id);
    expect(ended2?.status).toBe('revoked');
    expect(ended2?.endReason).toBe('revoked-by-admin');
    const g3 = await activeGrant();
    expect((await service.endAccess(g3.id, { email: 'olga@example.com', name: 'Olga' })).status).toBe(
      'revoking',
    );
    await runner.runDue();
    expect((await store.repos.grants.get(g3.id))?.status).toBe('revoked');
    expect(connector.delivered.filter((e) => e.event === 'grant.revoked').map((e) => e.grant.id)).toEqual([
      g1.id,
      g2.id,
      g3.id,
    ]);
  });

  it('refuses an extension by someone else, of an ended grant, or where extensions are off', async () => {
    const g = await activeGrant();
    expect(await refusal(service.submit(input({ requester: carol, grantId: g.id })))).toBe('NOT_HOLDER');
    const frozen = await activeGrant('frozen');
    expect(await refusal(service.submit(input({ resourceId: 'frozen', grantId: frozen.id })))).toBe(
      'EXTENSIONS_DISABLED',
    );
    await service.endAccess(g.id, bob);
    await runner.runDue();
    expect((await store.repos.grants.get(g.id))?.status).toBe('revoked');
    expect(await refusal(service.submit(input({ grantId: g.id })))).toBe('GRANT_NOT_ACTIVE');
  });

  it('tells a holder whose access is still being set up to ask for more time once it is active', async () => {
    connector.up = false;
    const r = await service.submit(input());
    await service.decide(r.id, alice, 'approve');
    await runner.runDue(); // provisioning fails: retried later
    const g = await store.repos.grants.findByRequestId(r.id);
    expect(g?.status).toBe('provisioning');
    const ask = input({ grantId: g!.id });
    expect(await service.checkSubmission(ask)).toEqual([
      {
        field: 'resource',
        code: 'GRANT_NOT_ACTIVE',
        message: 'Your access is still being set up; you can ask for more time once it is active.',
      },
    ]);
    await expect(service.submit(ask)).rejects.toThrow('still being set up');
    // Once it has ended, the sentence says so.
    await service.endAccess(g!.id, bob);
    connector.up = true;
    await runner.runDue();
    expect((await store.repos.grants.get(g!.id))?.status).toBe('revoked');
    expect((await service.checkSubmission(ask)).map((e) => e.message)).toEqual([
      'This access has already ended; request it again instead.',
    ]);
  });

  it('cancels a pending extension approved after its grant ended', async () => {
    const g = await activeGrant();
    const ext = await service.submit(input({ grantId: g.id, duration: 'PT8H' }));
    await service.endAccess(g.id, bob);
    await runner.runDue(); // the revocation job ends the grant
    expect((await store.repos.grants.get(g.id))?.status).toBe('revoked');
    expect(await refusal(service.decide(ext.id, alice, 'approve'))).toBe('GRANT_NOT_ACTIVE');
    expect((await service.getRequest(ext.id))?.status).toBe('cancelled');
  });

  it('starts the clock when the connector confirms, after failed attempts', async () => {
    connector.up = false;
    const r = await service.submit(input());
    await service.decide(r.id, alice, 'approve');
    await runner.runDue(); // attempt 1 fails
    const g = await store.repos.grants.findByRequestId(r.id);
    expect(g?.status).toBe('provisioning');
    await runner.advance(1000); // attempt 2 fails
    await runner.advance(2000); // attempt 3 fails: approvers are told
    expect(notifier.types()).toContain('grant.connector_failing');
    connector.up = true;
    await runner.advance(3000);
    const active = await store.repos.grants.get(g!.id);
    expect(active?.status).toBe('active');
    expect(active?.startsAt?.toISOString()).toBe('2026-11-23T09:00:06.000Z');
    expect(active?.expiresAt?.toISOString()).toBe('2026-11-23T13:00:06.000Z');
    expect(connector.delivered.map((e) => e.idempotencyKey)).toEqual([`${g!.id}:activated`]);
  });

  it('revokes overdue grants in the sweep when their jobs were lost', async () => {
    const g = await activeGrant();
    await runner.cancel('grant.expire', g.id);
    await runner.cancel('grant.remind', g.id);
    clock.advance(5 * 60 * 60_000);
    await service.sweep();
    expect((await store.repos.grants.get(g.id))?.status).toBe('expired');
    expect(connector.delivered.map((e) => e.event)).toEqual(['grant.activated', 'grant.revoked']);
  });

  it('finishes an approval whose grant was never written, in the next sweep (the approver’s decision stands)', async () => {
    const r = await service.submit(input());
    const insert = store.repos.grants.insert.bind(store.repos.grants);
    store.repos.grants.insert = async () => {
      throw new Error('store went away');
    };
    // The decision is stored and marked unsettled: the approver is not shown an error.
    expect((await service.decide(r.id, alice, 'approve')).status).toBe('approved');
    store.repos.grants.insert = insert;
    expect((await service.getRequest(r.id))?.status).toBe('approved');
    expect(await store.repos.grants.findByRequestId(r.id)).toBeNull();
    await service.sweep(); // records the grant and schedules its provisioning
    await runner.runDue();
    expect((await store.repos.grants.findByRequestId(r.id))?.status).toBe('active');
    expect(connector.delivered.map((e) => e.event)).toEqual(['grant.activated']);
  });

  it('stops the periodic sweep once its time budget is used up, renewing its lock after each grant; the next run resumes', async () => {
    const grants: Grant[] = [];
    const holders = [
      [bob, 'prod'],
      [carol, 'prod'],
      [bob, 'frozen'],
      [carol, 'frozen'],
      [erin, 'frozen'],
    ] as const;
    for (const [requester, resourceId] of holders) {
      const r = await service.submit(input({ requester, resourceId, approvers: [alice.email] }));
      await service.decide(r.id, alice, 'approve');
      await runner.runDue();
      const g = await store.repos.grants.findByRequestId(r.id);
      if (g?.status !== 'active') throw new Error(`no active grant: ${g?.status}`);
      // Their jobs were lost: only the sweep revokes them.
      await runner.cancel('grant.expire', g.id);
      await runner.cancel('grant.remind', g.id);
      grants.push(g);
    }
    // Every revocation takes 50 s of the (manual) clock: a slow target.
    const slow = new SwitchableConnector();
    slow.deliver = async (e) => {
      slow.calls.push(e);
      clock.advance(50_000);
      slow.delivered.push(e);
    };
    connector = slow;
    clock.advance(5 * 60 * 60_000);
    let sweepTask: PeriodicHandler | undefined;
    const capture = {
      define() {},
      every(_name: string, _interval: number, handler: PeriodicHandler) {
        sweepTask = handler;
      },
    } as unknown as JobRunner;
    registerJobs(capture, service, { sweepIntervalMs: 60_000, sweepBudgetMs: 120_000 });
    let touches = 0;
    const control = {
      touch: async () => {
        touches++;
      },
      shouldStop: () => false,
    };
    const expired = async () => {
      const all = await Promise.all(grants.map((g) => store.repos.grants.get(g.id)));
      return all.filter((g) => g?.status === 'expired').length;
    };
    await sweepTask?.(control);
    // 0 s, 50 s, 100 s: three revocations started within the 120 s budget, then it stopped.
    expect(await expired()).toBe(3);
    expect(touches).toBe(3);
    await sweepTask?.(control);
    expect(await expired()).toBe(5);
    expect(slow.delivered.map((e) => e.grant.id).sort()).toEqual(grants.map((g) => g.id).sort());
  });

  it('stops the sweep at the next item when the runner stops', async () => {
    const g1 = await activeGrant();
    const g2 = await activeGrant('frozen');
    for (const g of [g1, g2]) {
      await runner.cancel('grant.expire', g.id);
      await runner.cancel('grant.remind', g.id);
    }
    clock.advance(5 * 60 * 60_000);
    let stopping = false;
    const moved = await service.sweep({
      shouldStop: () => stopping,
      heartbeat: async () => {
        stopping = true; // SIGTERM arrives while the first grant is revoked
      },
    });
    expect(moved).toBe(1);
    const statuses = [
      (await store.repos.grants.get(g1.id))?.status,
      (await store.repos.grants.get(g2.id))?.status,
    ];
    expect(statuses.sort()).toEqual(['active', 'expired']);
  });

  it('sends a due reminder whose job was lost in the sweep, once, and not before its time', async () => {
    const g = await activeGrant(); // 4 hours, reminded 5 minutes before the end
    await runner.cancel('grant.remind', g.id);
    const reminders = () => notifier.events.filter((e) => e.type === 'grant.reminder');
    clock.advance(3 * 60 * 60_000);
    await service.sweep();
    expect(reminders()).toHaveLength(0);
    clock.advance(56 * 60_000);
    await service.sweep();
    expect(reminders()).toHaveLength(1);
    expect((await store.repos.grants.get(g.id))?.remindedFor).toEqual(g.expiresAt);
    await service.sweep();
    await runner.runDue();
    expect(reminders()).toHaveLength(1);
    expect(log.named('sweep.reminder_not_sent')).toHaveLength(1);
  });

  it('finds a lost reminder however many grants are active: the oldest of 1,201, and one stored before remindAt', async () => {
    const lost = await activeGrant(); // 4 hours, reminded 5 minutes before the end
    const legacy = await activeGrant('frozen');
    expect(lost.remindAt?.toISOString()).toBe(new Date(lost.expiresAt!.getTime() - 5 * 60_000).toISOString());
    await runner.cancel('grant.remind', lost.id);
    await runner.cancel('grant.remind', legacy.id);
    // `legacy` as an older version stored it: no remindAt.
    await store.repos.grants.update(legacy.id, { status: 'active' }, { unset: ['remindAt'] });
    // 1,199 newer active grants of other people, reminded already or not yet due.
    const base = clock.now().getTime();
    for (let i = 0; i < 1199; i++) {
      await store.repos.grants.insert({
        ...lost,
        id: `other-${i}`,
        requestId: `other-request-${i}`,
        holder: { email: `p${i}@example.com`, name: `P${i}` },
        createdAt: new Date(base + 1000 + i),
        expiresAt: new Date(base + 8 * 60 * 60_000),
        remindAt: new Date(base + 8 * 60 * 60_000 - 5 * 60_000),
      });
    }
    const reminders = () => notifier.events.filter((e) => e.type === 'grant.reminder');
    clock.advance(60 * 60_000);
    await service.sweep(); // not due yet: the legacy grant gets its remindAt
    expect(reminders()).toHaveLength(0);
    expect((await store.repos.grants.get(legacy.id))?.remindAt?.getTime()).toBe(
      legacy.expiresAt!.getTime() - 5 * 60_000,
    );
    clock.advance(2 * 60 * 60_000 + 56 * 60_000);
    await service.sweep();
    const sent = reminders().map((e) => (e.type === 'grant.reminder' ? e.grant.id : ''));
    expect(sent.sort()).toEqual([lost.id, legacy.id].sort());
    expect((await store.repos.grants.get(lost.id))?.remindAt).toBeUndefined();
    await service.sweep();
    expect(reminders()).toHaveLength(2);
  });

  it('takes over a revocation whose worker died mid-call once its lease runs out', async () => {
    const g = await activeGrant();
    const hang = new SwitchableConnector();
    hang.deliver = () => new Promise(() => {}); // the worker dies during this call
    const real = connector;
    connector = hang;
    clock.advance(4 * 60 * 60_000);
    void service.jobs['grant.expire'](g.id);
    await new Promise((r) => setTimeout(r, 20));
    expect((await store.repos.grants.get(g.id))?.status).toBe('revoking');
    connector = real;
    await service.sweep();
    expect((await store.repos.grants.get(g.id))?.status).toBe('revoking'); // lease still held
    clock.advance(61_000);
    await service.sweep();
    expect((await store.repos.grants.get(g.id))?.status).toBe('expired');
    expect(real.delivered.map((e) => e.event)).toEqual(['grant.activated', 'grant.revoked']);
  });

  it('calls the connector once when a retry job and the sweep run at the same moment', async () => {
    connector.up = false;
    const r = await service.submit(input());
    await service.decide(r.id, alice, 'approve');
    await runner.runDue(); // attempt 1 fails: retry due in 1 s
    const g = await store.repos.grants.findByRequestId(r.id);
    expect(g?.attempts).toBe(1);
    connector.up = true;
    clock.advance(1000);
    await Promise.all([
      service.jobs['grant.retry'](g!.id),
      service.sweep(),
      service.jobs['grant.retry'](g!.id),
    ]);
    expect(connector.delivered.map((e) => e.event)).toEqual(['grant.activated']);
    expect((await store.repos.grants.get(g!.id))?.status).toBe('active');
  });

  it('refuses a decision by someone no longer an approver, or for someone no longer allowed to request', async () => {
    const r = await service.submit(input({ approvers: [alice.email, dave.email] }));
    const changed = POLICY.replace(
      'approvers: [alice@example.com, dave@example.com, carol@example.com]',
      'approvers: [alice@example.com, carol@example.com]',
    );
    build(changed, { store, clock });
    expect(await refusal(service.decide(r.id, dave, 'approve'))).toBe('NOT_AN_APPROVER');
    expect((await service.getRequest(r.id))?.status).toBe('pending');

    const r2 = await service.submit(input({ requester: carol, approvers: [alice.email] }));
    build(changed.replace('support: [bob@example.com, carol@example.com]', 'support: [bob@example.com]'), {
      store,
      clock,
    });
    expect(await refusal(service.decide(r2.id, alice, 'approve'))).toBe('NOT_ALLOWED_TO_REQUEST');
    expect((await service.getRequest(r2.id))?.status).toBe('pending');
  });

  it('refuses a second grant of the same resource while one is held; an extension is the way', async () => {
    await activeGrant();
    expect(await refusal(service.submit(input()))).toBe('ALREADY_HAS_ACCESS');
  });

  it('revokes again when an extension reaches the target after access was ended', async () => {
    const g = await activeGrant();
    const slow = new GatedConnector('grant.extended');
    connector = slow;
    const ext = await service.submit(input({ grantId: g.id, duration: 'PT8H' }));
    await service.decide(ext.id, alice, 'approve');
    const running = runner.runDue(); // the extension job's connector call hangs
    await slow.reached;
    await service.endAccess(g.id, bob);
    // Another worker runs the revocation while the extension call is still in flight (this
    // runner runs one job at a time, so its own copy of the job waits behind the hung call).
    await service.jobs['grant.retry'](g.id);
    expect((await store.repos.grants.get(g.id))?.status).toBe('revoked');
    slow.release();
    await running;
    expect(slow.delivered.map((e) => e.idempotencyKey)).toEqual([
      `${g.id}:revoked`,
      `${g.id}:extended:${ext.id}`,
      `${g.id}:revoked:after-extension:${ext.id}`,
    ]);
    expect((await store.repos.grants.get(g.id))?.status).toBe('revoked');
  });

  it('delivers an extension once when its retry and the sweep run at the same moment', async () => {
    const g = await activeGrant();
    connector.up = false;
    const ext = await service.submit(input({ grantId: g.id, duration: 'PT8H' }));
    await service.decide(ext.id, alice, 'approve');
    await runner.runDue(); // attempt 1 fails: retry due in 1 s
    expect((await store.repos.grants.get(g.id))?.pendingExtension?.attempts).toBe(1);
    connector.up = true;
    clock.advance(1000);
    await Promise.all([
      service.jobs['grant.retry'](g.id),
      service.sweep(),
      service.jobs['grant.retry'](g.id),
    ]);
    expect(connector.delivered.filter((e) => e.event === 'grant.extended')).toHaveLength(1);
    expect((await store.repos.grants.get(g.id))?.pendingExtension).toBeUndefined();
  });

  it('applies an approved extension lost in a crash exactly once, in the sweep', async () => {
    const g = await activeGrant();
    const ext = await service.submit(input({ grantId: g.id, duration: 'PT8H' }));
    const update = store.repos.grants.update.bind(store.repos.grants);
    store.repos.grants.update = async () => {
      throw new Error('store went away');
    };
    expect((await service.decide(ext.id, alice, 'approve')).status).toBe('approved');
    store.repos.grants.update = update;
    expect((await store.repos.grants.get(g.id))?.expiresAt).toEqual(g.expiresAt);
    await service.sweep(); // applies it and schedules the connector call
    await runner.runDue();
    await service.sweep();
    await runner.runDue();
    const extended = await store.repos.grants.get(g.id);
    expect(extended?.expiresAt?.getTime()).toBe(g.expiresAt!.getTime() + 8 * 60 * 60_000);
    expect(connector.delivered.filter((e) => e.event === 'grant.extended')).toHaveLength(1);
  });

  it('refuses a second pending request for the same resource, and an approval that would overlap a grant', async () => {
    const first = await service.submit(input());
    expect(await refusal(service.submit(input()))).toBe('ALREADY_REQUESTED');
    // Two requests that raced past the submission check: the second approval is refused.
    const raced = { ...first, id: randomUUID(), submissionKey: randomUUID() };
    await store.repos.requests.insert(raced);
    await service.decide(first.id, alice, 'approve');
    expect(await refusal(service.decide(raced.id, alice, 'approve'))).toBe('ALREADY_HAS_ACCESS');
    expect(await store.repos.grants.list({ holderEmail: bob.email })).toHaveLength(1);
  });
});

describe('a connector that refuses (a non-retryable failure)', () => {
  const admin = { email: 'admin@example.com', name: 'Admin' };
  const approvers = [alice.email, dave.email, carol.email]; // of prod
  /** Who is told a connector refused: the resource's approvers, then the admins. */
  const told = [...approvers, 'admin@example.com'];
  const calls = (event: ConnectorEvent['event']) => connector.calls.filter((e) => e.event === event);
  const failing = () =>
    notifier.events.filter(
      (e): e is Extract<LifecycleEvent, { type: 'grant.connector_failing' }> =>
        e.type === 'grant.connector_failing',
    );
  const retryJobs = (id: string) => runner.pending().filter((j) => j.name === 'grant.retry' && j.id === id);

  async function approved() {
    const r = await service.submit(input());
    await service.decide(r.id, alice, 'approve');
    await runner.runDue(); // provisioning runs as a job
    return (await store.repos.grants.findByRequestId(r.id))!;
  }

  it('stops provisioning after one call: no retry, the approvers and admins told at once, audited as not retried, left pending', async () => {
    connector.refuses.add('grant.activated');
    const g = await approved();
    expect(calls('grant.activated')).toHaveLength(1);
    expect(g).toMatchObject({ status: 'provisioning', attempts: 1, lastError: 'target refuses: 403' });
    expect(g.nextAttemptAt).toBeUndefined();
    expect(g.startsAt).toBeUndefined();
    expect(retryJobs(g.id)).toEqual([]);

    // Told at once (reportAfterAttempts is 3 here), to the resource's approvers and the admins, once.
    expect(failing()).toHaveLength(1);
    expect(failing()[0]).toMatchObject({ operation: 'provision', recipients: told });
    expect(notifier.types().filter((t) => t === 'grant.provisioning_delayed')).toHaveLength(1);
    const [failed] = await store.repos.audit.list({ grantId: g.id, type: 'grant.provisioning_failed' });
    expect(failed?.details).toMatchObject({ operation: 'provision', attempts: 1, willRetry: false });

    // Neither time, the sweep nor a stray retry job calls the target again.
    await runner.advance(24 * 60 * 60_000);
    expect(await store.repos.grants.findDue(clock.now(), 10)).toEqual([]);
    await service.sweep();
    await service.jobs['grant.retry'](g.id);
    expect(calls('grant.activated')).toHaveLength(1);
    expect(failing()).toHaveLength(1);
    const still = await store.repos.grants.get(g.id);
    expect(still?.status).toBe('provisioning');
    expect(still?.attempts).toBe(1);
    // The holder may not open a second grant meanwhile, and is told why.
    expect((await service.checkSubmission(input())).map((e) => e.message)).toEqual([
      'Your access to Production was approved and is still being set up.',
    ]);
  });

  it('lets an admin end a grant whose provisioning stopped', async () => {
    connector.refuses.add('grant.activated');
    const g = await approved();
    expect((await service.endAccess(g.id, admin)).status).toBe('revoking');
    await runner.runDue();
    expect(await store.repos.grants.get(g.id)).toMatchObject({
      status: 'revoked',
      endReason: 'revoked-by-admin',
    });
    expect(connector.delivered.map((e) => e.idempotencyKey)).toEqual([`${g.id}:revoked`]);
  });

  it('stops a refused revocation, keeps it revoking, and tries once more when the access is ended again', async () => {
    const g = await approved();
    expect(g.status).toBe('active');
    connector.refuses.add('grant.revoked');
    await runner.advance(4 * 60 * 60_000); // expiry: the revocation is refused
    const stopped = await store.repos.grants.get(g.id);
    expect(stopped).toMatchObject({ status: 'revoking', endReason: 'expired', attempts: 1 });
    expect(stopped?.nextAttemptAt).toBeUndefined();
    expect(retryJobs(g.id)).toEqual([]);
    expect(failing().map((e) => [e.operation, e.recipients])).toEqual([['revoke', told]]);
    const [failed] = await store.repos.audit.list({ grantId: g.id, type: 'grant.revocation_failed' });
    expect(failed?.details).toMatchObject({ operation: 'revoke', willRetry: false });

    await runner.advance(60 * 60_000);
    await service.sweep();
    await service.jobs['grant.expire'](g.id);
    expect(calls('grant.revoked')).toHaveLength(1);
    expect((await store.repos.grants.get(g.id))?.status).toBe('revoking');

    // The target is fixed; ending the access again retries the removal.
    connector.refuses.clear();
    expect((await service.endAccess(g.id, admin)).status).toBe('revoking');
    await runner.runDue();
    expect(await store.repos.grants.get(g.id)).toMatchObject({ status: 'expired', endReason: 'expired' });
    expect(calls('grant.revoked')).toHaveLength(2);
    expect(notifier.types()).toContain('grant.ended');
  });

  it('drops a refused extension delivery: the new expiry stands, the approvers and admins are told, nothing retries it', async () => {
    const g = await approved();
    connector.refuses.add('grant.extended');
    const ext = await service.submit(input({ grantId: g.id, duration: 'PT8H' }));
    await service.decide(ext.id, alice, 'approve');
    await runner.runDue();
    const after = await store.repos.grants.get(g.id);
    expect(after).toMatchObject({ status: 'active', lastError: 'target refuses: 403' });
    expect(after?.pendingExtension).toBeUndefined();
    expect(after?.expiresAt?.getTime()).toBe(g.expiresAt!.getTime() + 8 * 60 * 60_000);
    expect(failing().map((e) => e.operation)).toEqual(['extend']);
    await runner.advance(60_000);
    await service.sweep();
    expect(calls('grant.extended')).toHaveLength(1);
  });

  it('keeps retrying an unexpected error that is not a ConnectorError', async () => {
    connector.deliver = async () => {
      throw new TypeError('bug');
    };
    const g = await approved();
    expect(g).toMatchObject({ status: 'provisioning', attempts: 1 });
    expect(g.nextAttemptAt).toEqual(new Date(clock.now().getTime() + 1000));
    expect(retryJobs(g.id)).toHaveLength(1);
    expect(failing()).toEqual([]);
  });
});

describe('one open grant per person and resource, held by the store', () => {
  it('lets only one of two requests approved at the same moment become a grant; the other is refused and stays pending', async () => {
    // Two pending requests of Bob's for the same resource (as after two submissions that raced).
    const first = await service.submit(input());
    const second = await store.repos.requests.insert({
      ...first,
      id: randomUUID(),
      submissionKey: randomUUID(),
    });
    const outcomes = await Promise.allSettled([
      service.decide(first.id, alice, 'approve'),
      service.decide(second.id, dave, 'approve'),
    ]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0]!.reason as DomainError).code).toBe('ALREADY_HAS_ACCESS');
    const open = await store.repos.grants.list({
      holderEmail: bob.email,
      status: ['provisioning', 'active'],
    });
    expect(open).toHaveLength(1);
    const loser = outcomes[0]?.status === 'rejected' ? first : second;
    expect((await store.repos.requests.get(loser.id))?.status).toBe('pending');
    // Nobody was told of the approval that did not take effect.
    expect(notifier.events.filter((e) => e.type === 'request.decided')).toHaveLength(1);
    await runner.runDue();
    expect(connector.delivered.filter((e) => e.event === 'grant.activated')).toHaveLength(1);
  });
});

describe('admin decisions and revocation by admins, owners and approvers', () => {
  const admin = { email: 'admin@example.com', name: 'Ada Admin' };
  const olga = { email: 'olga@example.com', name: 'Olga Owner' };

  async function activeGrant() {
    const r = await service.submit(input({ approvers: [alice.email] }));
    await service.decide(r.id, alice, 'approve');
    await runner.runDue();
    const g = await store.repos.grants.findByRequestId(r.id);
    if (g?.status !== 'active') throw new Error(`no active grant: ${g?.status}`);
    return g;
  }

  it('lets an admin who was not chosen decide, recorded as an admin decision the chosen approvers hear of', async () => {
    const r = await service.submit(input());
    expect(await service.checkDecision(r.id, admin, 'approve')).toBeNull();
    const decided = await service.decide(r.id, admin, 'approve');
    expect(decided).toMatchObject({ status: 'approved', decidedBy: admin.email, decidedAs: 'admin' });
    expect((await service.getRequest(r.id))?.decidedAs).toBe('admin');
    const [approved] = await store.repos.audit.list({ requestId: r.id, type: 'request.approved' });
    expect(approved).toMatchObject({ actor: admin.email, details: { as: 'admin' } });
    const event = notifier.events.find((e) => e.type === 'request.decided');
    expect(event && 'request' in event ? event.request.decidedAs : undefined).toBe('admin');
    await runner.runDue();
    expect((await store.repos.grants.findByRequestId(r.id))?.status).toBe('active');
  });

  it('keeps every other rule for admins: not their own request, not twice, not a denied one', async () => {
    const own = await service.submit(
      input({ requester: admin, resourceId: 'frozen', approvers: [alice.email], duration: 'PT8H' }),
    );
    expect(await refusal(service.decide(own.id, admin, 'approve'))).toBe('SELF_APPROVAL');
    const r = await service.submit(input());
    await service.decide(r.id, admin, 'deny', 'Not during the freeze');
    expect(await service.getRequest(r.id)).toMatchObject({
      status: 'denied',
      reason: 'Not during the freeze',
    });
    expect(await refusal(service.decide(r.id, alice, 'approve'))).toBe('ALREADY_DECIDED');
    expect(await refusal(service.decide(r.id, admin, 'approve'))).toBe('ALREADY_DECIDED');
    // Someone neither chosen nor an admin is still refused, and a chosen approver's decision is not an admin one.
    const r2 = await service.submit(input());
    expect(await refusal(service.decide(r2.id, olga, 'approve'))).toBe('NOT_AN_APPROVER');
    expect((await service.decide(r2.id, alice, 'approve')).decidedAs).toBeUndefined();
  });

  it('lets admins, owners and approvers of the resource revoke with a reason the holder is told, and nobody else', async () => {
    const g = await activeGrant();
    expect((await service.checkEndAccess(g.id, erin))?.code).toBe('NOT_HOLDER');
    expect(await refusal(service.endAccess(g.id, erin, 'because'))).toBe('NOT_HOLDER');
    expect(await service.checkEndAccess(g.id, dave)).toBeNull(); // an approver of the resource, not chosen
    expect(await service.checkEndAccess(g.id, olga)).toBeNull();
    const revoking = await service.endAccess(g.id, dave, '  Incident 7: rotate everything  ');
    expect(revoking).toMatchObject({
      status: 'revoking',
      endReason: 'revoked-by-admin',
      endedBy: dave.email,
      endComment: 'Incident 7: rotate everything',
    });
    await runner.runDue();
    expect(connector.delivered.map((e) => e.event)).toEqual(['grant.activated', 'grant.revoked']);
    const ended = notifier.events.find((e) => e.type === 'grant.ended');
    expect(ended && 'grant' in ended ? ended.grant : undefined).toMatchObject({
      status: 'revoked',
      endComment: 'Incident 7: rotate everything',
    });
    const [revoked] = await store.repos.audit.list({ grantId: g.id, type: 'grant.revoked' });
    expect(revoked).toMatchObject({
      actor: dave.email,
      details: { reason: 'revoked-by-admin', comment: 'Incident 7: rotate everything' },
    });
    expect((await service.checkEndAccess(g.id, admin))?.code).toBe('GRANT_NOT_ACTIVE');
  });

  it("keeps the holder's own end as theirs", async () => {
    const g = await activeGrant();
    const ending = await service.endAccess(g.id, bob);
    expect(ending).toMatchObject({ endReason: 'ended-by-holder', endedBy: bob.email });
  });
});
