import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChatPlatform } from '../../src/core/chat.js';
import { type Delivery, laneOf, plan } from '../../src/core/deliveries.js';
import { Outbox } from '../../src/core/outbox.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { LifecycleEvent } from '../../src/domain/events.js';
import type { AccessRequest, Grant } from '../../src/domain/model.js';
import { InProcessRunner } from '../../src/jobs/in-process.js';
import { createLogger } from '../../src/log.js';
import { createMemoryStore } from '../../src/store/index.js';

const resource = { id: 'prod', name: 'Production' };
const BOB = 'bob@example.com';
const ALICE = 'alice@example.com';
const DAVE = 'dave@example.com';
const CAROL = 'carol@example.com';

function request(over: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: 'req-1',
    kind: 'access',
    resourceId: 'prod',
    requester: { email: BOB, name: 'Bob' },
    approvers: [ALICE, DAVE, CAROL],
    duration: 'PT4H',
    justification: 'Investigate the outage',
    approval: 'manual',
    status: 'pending',
    createdAt: new Date('2026-11-23T09:00:00Z'),
    decideBy: new Date('2026-11-23T10:00:00Z'),
    submissionKey: 'k-1',
    ...over,
  };
}

function grant(over: Partial<Grant> = {}): Grant {
  return {
    id: 'grant-1',
    requestId: 'req-1',
    resourceId: 'prod',
    holder: { email: BOB, name: 'Bob' },
    duration: 'PT4H',
    justification: 'Investigate the outage',
    status: 'active',
    createdAt: new Date('2026-11-23T09:05:00Z'),
    startsAt: new Date('2026-11-23T09:05:00Z'),
    expiresAt: new Date('2026-11-23T13:05:00Z'),
    attempts: 0,
    ...over,
  };
}

const decided = request({
  status: 'approved',
  decidedAt: new Date('2026-11-23T09:05:00Z'),
  decidedBy: ALICE,
  decidedByName: 'Alice',
});

/** One event of every type, about the same request and the grant it led to. */
const EVERY_EVENT: LifecycleEvent[] = [
  { type: 'request.submitted', request: request(), resource },
  {
    type: 'request.auto_approved',
    request: request({ approval: 'auto', approvers: [], status: 'approved', decidedBy: 'system' }),
    resource,
    informed: [ALICE, DAVE],
  },
  { type: 'request.decided', request: decided, resource },
  { type: 'request.expired', request: request({ status: 'expired', decidedBy: 'system' }), resource },
  { type: 'request.cancelled', request: request({ status: 'cancelled', decidedBy: BOB }), resource },
  { type: 'grant.activated', grant: grant(), resource },
  { type: 'grant.provisioning_delayed', grant: grant({ status: 'provisioning', attempts: 3 }), resource },
  { type: 'grant.revocation_delayed', grant: grant({ status: 'revoking', attempts: 3 }), resource },
  {
    type: 'grant.connector_failing',
    grant: grant({ status: 'provisioning', attempts: 3 }),
    resource,
    operation: 'provision',
    recipients: [ALICE, DAVE],
  },
  { type: 'grant.reminder', grant: grant(), resource, extensionsAllowed: true },
  {
    type: 'grant.extended',
    grant: grant({ expiresAt: new Date('2026-11-23T17:05:00Z') }),
    request: request({ id: 'req-2', kind: 'extension', grantId: 'grant-1', status: 'approved' }),
    resource,
  },
  { type: 'grant.ended', grant: grant({ status: 'expired', endReason: 'expired' }), resource },
];

/** What one manually approved request and its grant go through (an auto-approved one is never "submitted"). */
const ONE_LIFECYCLE = EVERY_EVENT.filter(
  (e) => !['request.auto_approved', 'request.expired', 'request.cancelled'].includes(e.type),
);

/** What a delivery does, without the message body: easy to compare as a set. */
const shape = (d: Delivery) => `${d.mode} ${d.message.view} to ${d.recipient} (${d.purpose || 'notice'})`;

function newOutbox() {
  const clock = new ManualClock('2026-11-23T09:00:00Z');
  const store = createMemoryStore();
  const outbox = new Outbox({
    repos: store.repos,
    scheduler: new InProcessRunner({ clock }),
    platforms: [],
    clock,
    log: createLogger('silent'),
    newId: randomUUID,
  });
  return { outbox, stored: () => store.repos.outbox.list({}) };
}

describe('planning deliveries for a submitted request', () => {
  it('sends an approval card to each approver and a status to the requester, each in that person’s lane of the request', () => {
    const deliveries = plan({ type: 'request.submitted', request: request(), resource });
    expect(deliveries.map(shape)).toEqual([
      `send approval-card to ${ALICE} (approval-card)`,
      `send approval-card to ${DAVE} (approval-card)`,
      `send approval-card to ${CAROL} (approval-card)`,
      `send requester-status to ${BOB} (requester-status)`,
    ]);
    expect(deliveries.map((d) => d.lane)).toEqual([
      `req-1|${ALICE}`,
      `req-1|${DAVE}`,
      `req-1|${CAROL}`,
      `req-1|${BOB}`,
    ]);
    expect(deliveries.every((d) => d.subjectId === 'req-1')).toBe(true);
  });
});

describe('planning deliveries for a decided request', () => {
  it('edits every approver’s card and the requester’s status, and tells the requester and every approver but the decider afresh', () => {
    const deliveries = plan({ type: 'request.decided', request: decided, resource });
    expect(deliveries.map(shape).sort()).toEqual(
      [
        `update approval-card to ${ALICE} (approval-card)`,
        `update approval-card to ${DAVE} (approval-card)`,
        `update approval-card to ${CAROL} (approval-card)`,
        `update requester-status to ${BOB} (requester-status)`,
        `send decision-notice to ${BOB} (notice)`,
        `send decision-notice to ${DAVE} (notice)`,
        `send decision-notice to ${CAROL} (notice)`,
      ].sort(),
    );
    expect(deliveries.every((d) => d.lane === laneOf('req-1', d.recipient))).toBe(true);
  });

  it('edits the requester’s status before sending the requester a fresh notice, so the edit never trails it', () => {
    const toBob = plan({ type: 'request.decided', request: decided, resource }).filter(
      (d) => d.recipient === BOB,
    );
    expect(toBob.map((d) => d.mode)).toEqual(['update', 'send']);
  });
});

describe('delivery keys', () => {
  it('are unique within the plan of every event', () => {
    for (const event of EVERY_EVENT) {
      const keys = plan(event).map((d) => d.key);
      expect(keys.length, event.type).toBeGreaterThan(0);
      expect(new Set(keys).size, event.type).toBe(keys.length);
    }
  });

  it('are the same when the same event is planned twice', () => {
    for (const event of EVERY_EVENT) {
      const again = structuredClone(event);
      expect(
        plan(again).map((d) => d.key),
        event.type,
      ).toEqual(plan(event).map((d) => d.key));
    }
  });

  it('do not repeat across the events of one request and its grant', () => {
    expect(ONE_LIFECYCLE).toHaveLength(9);
    const keys = ONE_LIFECYCLE.flatMap((e) => plan(e).map((d) => d.key));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('make a repeated event enqueue nothing new in the outbox', async () => {
    const { outbox, stored } = newOutbox();
    for (const event of ONE_LIFECYCLE) await outbox.enqueue(plan(event));
    const first = await stored();
    expect(first.length).toBe(ONE_LIFECYCLE.flatMap(plan).length);
    for (const event of ONE_LIFECYCLE) await outbox.enqueue(plan(structuredClone(event)));
    expect(await stored()).toEqual(first);
  });

  it('give a reminder for a new expiry a new key, and a reminder for the same expiry the same key', async () => {
    const reminder = (expiresAt: string): LifecycleEvent => ({
      type: 'grant.reminder',
      grant: grant({ expiresAt: new Date(expiresAt) }),
      resource,
      extensionsAllowed: true,
    });
    const [first] = plan(reminder('2026-11-23T13:05:00Z'));
    const [same] = plan(reminder('2026-11-23T13:05:00Z'));
    const [later] = plan(reminder('2026-11-23T17:05:00Z'));
    expect(same?.key).toBe(first?.key);
    expect(later?.key).not.toBe(first?.key);

    const { outbox, stored } = newOutbox();
    await outbox.enqueue(plan(reminder('2026-11-23T13:05:00Z')));
    await outbox.enqueue(plan(reminder('2026-11-23T13:05:00Z')));
    expect(await stored()).toHaveLength(1);
    await outbox.enqueue(plan(reminder('2026-11-23T17:05:00Z')));
    expect((await stored()).map((i) => i.message.view)).toEqual(['reminder', 'reminder']);
  });
});

describe('delivery lanes', () => {
  it('put every grant event in the lane of the request the grant came from', () => {
    const grantEvents = EVERY_EVENT.filter((e) => e.type.startsWith('grant.'));
    expect(grantEvents).toHaveLength(7);
    for (const event of grantEvents) {
      for (const d of plan(event)) {
        expect(d.lane, event.type).toBe(laneOf('req-1', d.recipient));
        expect(d.subjectId, event.type).toBe('grant-1');
      }
    }
  });

  it('keep a grant’s messages behind the request’s messages to the same person', async () => {
    const { outbox, stored } = newOutbox();
    await outbox.enqueue(plan({ type: 'request.submitted', request: request(), resource }));
    await outbox.enqueue(plan({ type: 'request.decided', request: decided, resource }));
    await outbox.enqueue(plan({ type: 'grant.activated', grant: grant(), resource }));
    const bobsLane = await stored().then((items) => items.filter((i) => i.lane === laneOf('req-1', BOB)));
    expect(bobsLane.map((i) => `${i.mode} ${i.message.view}`)).toEqual([
      'send requester-status',
      'update requester-status',
      'send decision-notice',
      'send grant-status',
    ]);
  });
});

describe('an outbox run (job outbox.deliver)', () => {
  /** Bob's lane of req-1 with four messages waiting, sent by a platform that knows everyone. */
  async function laneOfFour() {
    const clock = new ManualClock('2026-11-23T09:00:00Z');
    const store = createMemoryStore();
    const sent: string[] = [];
    const platform: ChatPlatform = {
      name: 'slack',
      reach: async (email) => ({ email, name: email }),
      send: async (_person, view) => {
        sent.push(view.text);
        return `address-${sent.length}`;
      },
      update: async () => {},
    };
    const outbox = new Outbox({
      repos: store.repos,
      scheduler: new InProcessRunner({ clock }),
      platforms: [platform],
      clock,
      log: createLogger('silent'),
      newId: randomUUID,
    });
    await outbox.enqueue(plan({ type: 'request.submitted', request: request(), resource }));
    await outbox.enqueue(plan({ type: 'request.decided', request: decided, resource }));
    await outbox.enqueue(plan({ type: 'grant.activated', grant: grant(), resource }));
    const lane = laneOf('req-1', BOB);
    const pending = async () => (await store.repos.outbox.list({ lane, status: 'pending' })).length;
    expect(await pending()).toBe(4);
    return { outbox, lane, pending };
  }

  it('renews its lock after each message it sends', async () => {
    const { outbox, lane, pending } = await laneOfFour();
    let heartbeats = 0;
    await outbox.deliverLane(lane, {
      heartbeat: async () => {
        heartbeats++;
      },
    });
    expect(await pending()).toBe(0);
    expect(heartbeats).toBe(4);
  });

  it('sends a lane longer than a batch in order, a batch a run, the next run scheduled at once', async () => {
    const clock = new ManualClock('2026-11-23T09:00:00Z');
    const store = createMemoryStore();
    const runner = new InProcessRunner({ clock });
    const sent: string[] = [];
    const outbox = new Outbox({
      repos: store.repos,
      scheduler: runner,
      platforms: [recordingPlatform(sent)],
      clock,
      log: createLogger('silent'),
      newId: randomUUID,
      policy: { batch: 3 },
    });
    const lane = laneOf('req-1', BOB);
    await outbox.enqueue(numbered(lane, 7));
    let runs = 0;
    runner.define('outbox.deliver', async (data) => {
      runs++;
      await outbox.deliverLane(data.id);
    });
    await runner.runDue();
    expect(sent).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect(runs).toBe(3);
    expect(await store.repos.outbox.list({ lane, status: 'pending' })).toEqual([]);
    expect(runner.pending()).toEqual([]);
  });

  it('sends a message queued in the lane while a run is under way, after the ones before it, exactly once', async () => {
    const clock = new ManualClock('2026-11-23T09:00:00Z');
    const store = createMemoryStore();
    const runner = new InProcessRunner({ clock });
    const sent: string[] = [];
    const lane = laneOf('req-1', BOB);
    let outbox: Outbox | undefined;
    const platform = recordingPlatform(sent, async (text) => {
      // While m1 goes out (the run has read the lane already), m3 is queued behind m2.
      if (text === 'm1') await outbox?.enqueue(numbered(lane, 3).slice(2));
    });
    outbox = new Outbox({
      repos: store.repos,
      scheduler: runner,
      platforms: [platform],
      clock,
      log: createLogger('silent'),
      newId: randomUUID,
    });
    const box = outbox;
    runner.define('outbox.deliver', (data) => box.deliverLane(data.id));
    await box.enqueue(numbered(lane, 2));
    await runner.runDue();
    expect(sent).toEqual(['m1', 'm2', 'm3']);
    expect(await store.repos.outbox.list({ lane, status: 'pending' })).toEqual([]);
  });

  it('ends the run at a message another worker took after the run read the lane, sending it once', async () => {
    const clock = new ManualClock('2026-11-23T09:00:00Z');
    const store = createMemoryStore();
    const sent: string[] = [];
    const lane = laneOf('req-1', BOB);
    const platform = recordingPlatform(sent, async (text) => {
      if (text !== 'm1') return;
      // Another worker claims m2 (its lease) while this run sends m1.
      const [, second] = await store.repos.outbox.list({ lane, status: 'pending' });
      if (!second) throw new Error('m2 is not pending');
      await store.repos.outbox.update(
        second.id,
        { status: 'pending', nextAttemptAt: second.nextAttemptAt, attempts: second.attempts },
        { set: { nextAttemptAt: new Date(clock.now().getTime() + 60_000) } },
      );
    });
    const outbox = new Outbox({
      repos: store.repos,
      scheduler: new InProcessRunner({ clock }),
      platforms: [platform],
      clock,
      log: createLogger('silent'),
      newId: randomUUID,
    });
    await outbox.enqueue(numbered(lane, 3));
    await outbox.deliverLane(lane);
    expect(sent).toEqual(['m1']);
    const left = await store.repos.outbox.list({ lane, status: 'pending' });
    expect(left.map((i) => (i.message as { resource: { name: string } }).resource.name)).toEqual([
      'm2',
      'm3',
    ]);
  });

  it('sends at once a message a second run left behind the one this run held (runs beside each other, as Agenda may)', async () => {
    const clock = new ManualClock('2026-11-23T09:00:00Z');
    const store = createMemoryStore();
    const runner = new InProcessRunner({ clock });
    const sent: string[] = [];
    const lane = laneOf('req-1', BOB);
    let outbox: Outbox | undefined;
    const platform = recordingPlatform(sent, async (text) => {
      if (text !== 'm1') return;
      // While run 1 sends m1 (leased), m2 is queued and its job runs beside run 1: it finds m1
      // leased, leaves the lane for the lease's end and returns.
      await outbox?.enqueue(numbered(lane, 2).slice(1));
      await outbox?.deliverLane(lane);
    });
    outbox = new Outbox({
      repos: store.repos,
      scheduler: runner,
      platforms: [platform],
      clock,
      log: createLogger('silent'),
      newId: randomUUID,
    });
    const box = outbox;
    runner.define('outbox.deliver', (data) => box.deliverLane(data.id));
    await box.enqueue(numbered(lane, 1));
    await runner.runDue();
    // Time has not moved: m2 went out now, not when m1's lease would have ended.
    expect(sent).toEqual(['m1', 'm2']);
    expect(await store.repos.outbox.list({ lane, status: 'pending' })).toEqual([]);
  });

  it('stops at the next message once told to, leaving the rest pending for the next run', async () => {
    const { outbox, lane, pending } = await laneOfFour();
    let heartbeats = 0;
    await outbox.deliverLane(lane, {
      shouldStop: () => heartbeats >= 2,
      heartbeat: async () => {
        heartbeats++;
      },
    });
    expect(await pending()).toBe(2);
    await outbox.deliverLane(lane);
    expect(await pending()).toBe(0);
  });
});

/** A platform that knows everyone and records the text of each message it sends. */
function recordingPlatform(sent: string[], onSend?: (text: string) => Promise<void>): ChatPlatform {
  return {
    name: 'slack',
    reach: async (email) => ({ email, name: email }),
    send: async (_person, view) => {
      const text = view.text.replace('You asked to request access to ', '');
      sent.push(text);
      await onSend?.(text);
      return `address-${sent.length}`;
    },
    update: async () => {},
  };
}

/** `count` notices m1, m2 … for Bob in `lane`, oldest first. */
function numbered(lane: string, count: number): Delivery[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${lane}:m${i + 1}`,
    lane,
    recipient: BOB,
    mode: 'send' as const,
    subjectId: 'req-1',
    purpose: '',
    message: { view: 'request-prompt', resource: { id: 'prod', name: `m${i + 1}` } } as const,
  }));
}
