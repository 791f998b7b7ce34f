/**
 * The store contract: the same tests run on every implementation of the store (memory always,
 * mongoose wherever it can run, real MongoDB wherever one is reachable).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AccessRequest,
  AuditEvent,
  ConversationRecord,
  Grant,
  MessageRecord,
  OutboxItem,
  ResourceSetting,
} from '../../src/domain/model.js';
import { DuplicateKeyError } from '../../src/domain/ports.js';
import type { Store } from '../../src/store/index.js';
import type { Collections, GrantDoc, MessageRecordDoc } from '../../src/store/repositories.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');
/** T0 plus `minutes`. */
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

let seq = 0;
const next = () => ++seq;

function makeRequest(over: Partial<AccessRequest> = {}): AccessRequest {
  const n = next();
  return {
    id: `req-${n}`,
    kind: 'access',
    resourceId: 'prod-db',
    requester: { email: 'alice@example.com', name: 'Alice' },
    approvers: ['bob@example.com', 'carol@example.com'],
    duration: 'PT1H',
    justification: 'incident 42',
    approval: 'manual',
    status: 'pending',
    createdAt: at(0),
    decideBy: at(60),
    submissionKey: `sub-${n}`,
    ...over,
  };
}

/** An active grant; each to a resource of its own, so open grants never clash unless a test means it. */
function makeGrant(over: Partial<Grant> = {}): Grant {
  const n = next();
  return {
    id: `grant-${n}`,
    requestId: `req-of-grant-${n}`,
    resourceId: `db-${n}`,
    holder: { email: 'alice@example.com', name: 'Alice' },
    duration: 'PT1H',
    justification: 'incident 42',
    status: 'active',
    createdAt: at(0),
    startsAt: at(1),
    expiresAt: at(61),
    attempts: 0,
    ...over,
  };
}

function makeEvent(over: Partial<AuditEvent> = {}): AuditEvent {
  return { id: `evt-${next()}`, type: 'request.created', at: at(0), actor: 'alice@example.com', ...over };
}

function makeItem(over: Partial<OutboxItem> = {}): OutboxItem {
  const n = next();
  return {
    id: `out-${String(n).padStart(6, '0')}`,
    key: `key-${n}`,
    lane: 'req-1|bob@example.com',
    recipient: 'bob@example.com',
    mode: 'send',
    subjectId: 'req-1',
    purpose: 'approval-card',
    message: { view: 'approvalCard', requestId: 'req-1' },
    status: 'pending',
    createdAt: at(0),
    attempts: 0,
    nextAttemptAt: at(0),
    giveUpAt: at(60 * 24),
    ...over,
  };
}

function makeRef(over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id: `msg-${next()}`,
    platform: 'slack',
    subjectId: 'req-1',
    purpose: 'approval-card',
    recipient: 'bob@example.com',
    address: '{"channel":"D123","ts":"1700000000.000100"}',
    createdAt: at(0),
    ...over,
  };
}

function makeConversation(over: Partial<ConversationRecord> = {}): ConversationRecord {
  return {
    email: 'bob@example.com',
    platform: 'teams',
    reference: JSON.stringify({ conversation: { id: `a:${next()}` }, serviceUrl: 'https://smba.example/' }),
    tz: 'Europe/Berlin',
    updatedAt: at(0),
    ...over,
  };
}

async function expectDuplicate(promise: Promise<unknown>, key: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DuplicateKeyError);
  expect((error as DuplicateKeyError).key).toBe(key);
}

const ids = (items: Array<{ id: string }>) => items.map((i) => i.id);

export function runStoreContract(name: string, makeStore: () => Promise<Store>): void {
  describe(name, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('answers ping', async () => {
      expect(await store.ping()).toBe(true);
    });

    describe('requests', () => {
      it('inserts, gets and finds by submission key', async () => {
        const r = makeRequest({ ticket: 'INC-1' });
        expect(await store.repos.requests.insert(r)).toEqual(r);
        expect(await store.repos.requests.get(r.id)).toEqual(r);
        expect(await store.repos.requests.findBySubmissionKey(r.submissionKey)).toEqual(r);
        expect(await store.repos.requests.get('nope')).toBeNull();
        expect(await store.repos.requests.findBySubmissionKey('nope')).toBeNull();
      });

      it('refuses a duplicate submissionKey or id with DuplicateKeyError, keeping the first', async () => {
        const first = makeRequest();
        await store.repos.requests.insert(first);
        await expectDuplicate(
          store.repos.requests.insert(makeRequest({ submissionKey: first.submissionKey })),
          'submissionKey',
        );
        await expectDuplicate(store.repos.requests.insert(makeRequest({ id: first.id })), '_id');
        expect(await store.repos.requests.findBySubmissionKey(first.submissionKey)).toEqual(first);
        expect(await store.repos.requests.list({})).toHaveLength(1);
      });

      it('does not store undefined optional fields', async () => {
        const r = makeRequest({ ticket: undefined, grantId: undefined });
        const inserted = await store.repos.requests.insert(r);
        const got = await store.repos.requests.get(r.id);
        expect(got).not.toHaveProperty('ticket');
        expect(got).not.toHaveProperty('grantId');
        expect(inserted).not.toHaveProperty('ticket');
      });

      it('decides while pending and before the deadline', async () => {
        const r = await store.repos.requests.insert(makeRequest());
        const decided = await store.repos.requests.decide(
          r.id,
          { status: 'approved', by: 'bob@example.com', byName: 'Bob' },
          at(10),
        );
        expect(decided).toEqual({
          ...r,
          status: 'approved',
          decidedAt: at(10),
          decidedBy: 'bob@example.com',
          decidedByName: 'Bob',
          unsettled: 'approved',
        });
        expect(decided).not.toHaveProperty('reason');
        expect(await store.repos.requests.get(r.id)).toEqual(decided);
      });

      it('stores the reason of a denial', async () => {
        const r = await store.repos.requests.insert(makeRequest());
        const denied = await store.repos.requests.decide(
          r.id,
          { status: 'denied', by: 'carol@example.com', byName: 'Carol', reason: 'not on call' },
          at(5),
        );
        expect(denied?.status).toBe('denied');
        expect(denied?.reason).toBe('not on call');
        expect((await store.repos.requests.get(r.id))?.reason).toBe('not on call');
      });

      it('refuses to decide at or after the deadline', async () => {
        const r = await store.repos.requests.insert(makeRequest({ decideBy: at(60) }));
        const decision = { status: 'approved', by: 'bob@example.com', byName: 'Bob' } as const;
        expect(await store.repos.requests.decide(r.id, decision, at(60))).toBeNull();
        expect(await store.repos.requests.decide(r.id, decision, at(61))).toBeNull();
        expect(await store.repos.requests.get(r.id)).toEqual(r);
      });

      it('refuses a decision by someone who is not an approver', async () => {
        const r = await store.repos.requests.insert(makeRequest());
        const byMallory = { status: 'approved', by: 'mallory@example.com', byName: 'Mallory' } as const;
        expect(await store.repos.requests.decide(r.id, byMallory, at(1))).toBeNull();
        const byRequester = { status: 'approved', by: 'alice@example.com', byName: 'Alice' } as const;
        expect(await store.repos.requests.decide(r.id, byRequester, at(1))).toBeNull();
        expect((await store.repos.requests.get(r.id))?.status).toBe('pending');
      });

      it('records an admin decision by someone not chosen, never by the requester, and takes it back whole', async () => {
        const r = await store.repos.requests.insert(makeRequest());
        const asAdmin = { status: 'approved', by: 'ada@example.com', byName: 'Ada', asAdmin: true } as const;
        const byRequester = { ...asAdmin, by: 'alice@example.com' };
        expect(await store.repos.requests.decide(r.id, byRequester, at(1))).toBeNull();
        const decided = await store.repos.requests.decide(r.id, asAdmin, at(1));
        expect(decided).toMatchObject({
          status: 'approved',
          decidedBy: 'ada@example.com',
          decidedAs: 'admin',
        });
        expect(await store.repos.requests.get(r.id)).toEqual(decided);
        const undone = await store.repos.requests.undoApproval(r.id, 'ada@example.com', at(1));
        expect(undone).toEqual(r);
      });

      it('lets system decide without being an approver (auto-approval)', async () => {
        const r = await store.repos.requests.insert(makeRequest({ approvers: [], approval: 'auto' }));
        const decided = await store.repos.requests.decide(
          r.id,
          { status: 'approved', by: 'system', byName: 'Auto-approval' },
          at(0),
        );
        expect(decided?.status).toBe('approved');
        expect(decided?.decidedBy).toBe('system');
      });

      it('returns null for a second decision, keeping the first', async () => {
        const r = await store.repos.requests.insert(makeRequest());
        const first = await store.repos.requests.decide(
          r.id,
          { status: 'approved', by: 'bob@example.com', byName: 'Bob' },
          at(1),
        );
        expect(first).not.toBeNull();
        const second = await store.repos.requests.decide(
          r.id,
          { status: 'denied', by: 'carol@example.com', byName: 'Carol', reason: 'no' },
          at(2),
        );
        expect(second).toBeNull();
        expect(await store.repos.requests.get(r.id)).toEqual(first);
        expect(
          await store.repos.requests.decide('nope', { status: 'approved', by: 'system', byName: 'x' }, at(1)),
        ).toBeNull();
      });

      it('lets exactly one of ten concurrent decisions win', async () => {
        const approvers = Array.from({ length: 10 }, (_, i) => `approver${i}@example.com`);
        const r = await store.repos.requests.insert(makeRequest({ approvers }));
        const results = await Promise.all(
          approvers.map((by, i) =>
            store.repos.requests.decide(
              r.id,
              { status: i % 2 === 0 ? 'approved' : 'denied', by, byName: `Approver ${i}` },
              at(3),
            ),
          ),
        );
        const winners = results.filter((x): x is AccessRequest => x !== null);
        expect(winners).toHaveLength(1);
        const stored = await store.repos.requests.get(r.id);
        expect(stored?.decidedBy).toBe(winners[0]?.decidedBy);
        expect(stored?.status).toBe(winners[0]?.status);
        expect(stored).toEqual(winners[0]);
      });

      it('keeps what a move still owes until it is settled, and finds the unsettled oldest first', async () => {
        const a = await store.repos.requests.insert(makeRequest({ createdAt: at(2), unsettled: 'pending' }));
        const b = await store.repos.requests.insert(makeRequest({ createdAt: at(1) }));
        const c = await store.repos.requests.insert(makeRequest({ createdAt: at(0), unsettled: 'pending' }));
        expect(ids(await store.repos.requests.findUnsettled(10))).toEqual([c.id, a.id]);
        await store.repos.requests.decide(
          a.id,
          { status: 'denied', by: 'bob@example.com', byName: 'Bob' },
          at(3),
        );
        // An older move's settlement does not clear a newer move's mark.
        await store.repos.requests.settle(a.id, 'pending');
        expect((await store.repos.requests.get(a.id))?.unsettled).toBe('denied');
        await store.repos.requests.settle(a.id, 'denied');
        await store.repos.requests.settle(c.id, 'pending');
        expect(await store.repos.requests.findUnsettled(10)).toEqual([]);
        expect(await store.repos.requests.get(a.id)).not.toHaveProperty('unsettled');
        expect(await store.repos.requests.get(b.id)).not.toHaveProperty('unsettled');
      });

      it('expires only pending requests, and only from the deadline on', async () => {
        const r = await store.repos.requests.insert(makeRequest({ decideBy: at(60) }));
        expect(await store.repos.requests.expire(r.id, at(59))).toBeNull();
        const expired = await store.repos.requests.expire(r.id, at(60));
        expect(expired).toEqual({
          ...r,
          status: 'expired',
          decidedAt: at(60),
          decidedBy: 'system',
          unsettled: 'expired',
        });
        expect(await store.repos.requests.expire(r.id, at(61))).toBeNull();

        const decided = await store.repos.requests.insert(makeRequest({ decideBy: at(60) }));
        await store.repos.requests.decide(
          decided.id,
          { status: 'denied', by: 'bob@example.com', byName: 'Bob' },
          at(1),
        );
        expect(await store.repos.requests.expire(decided.id, at(90))).toBeNull();
        expect((await store.repos.requests.get(decided.id))?.status).toBe('denied');
      });

      it('cancels only by the requester, and only while pending', async () => {
        const r = await store.repos.requests.insert(makeRequest());
        expect(await store.repos.requests.cancel(r.id, 'bob@example.com', at(1))).toBeNull();
        const cancelled = await store.repos.requests.cancel(r.id, 'alice@example.com', at(2), 'not needed');
        expect(cancelled).toEqual({
          ...r,
          status: 'cancelled',
          decidedAt: at(2),
          decidedBy: 'alice@example.com',
          unsettled: 'cancelled',
          reason: 'not needed',
        });
        expect(await store.repos.requests.cancel(r.id, 'alice@example.com', at(3))).toBeNull();

        const noReason = await store.repos.requests.insert(makeRequest());
        const c2 = await store.repos.requests.cancel(noReason.id, 'alice@example.com', at(2));
        expect(c2?.status).toBe('cancelled');
        expect(c2).not.toHaveProperty('reason');

        const approved = await store.repos.requests.insert(makeRequest());
        await store.repos.requests.decide(
          approved.id,
          { status: 'approved', by: 'bob@example.com', byName: 'Bob' },
          at(1),
        );
        expect(await store.repos.requests.cancel(approved.id, 'alice@example.com', at(2))).toBeNull();
      });

      it('closes a pending request with its resource (anyone’s, once), and lists a resource’s waiting ones', async () => {
        const r = await store.repos.requests.insert(
          makeRequest({ resourceId: 'acme-prod', createdAt: at(0) }),
        );
        const later = await store.repos.requests.insert(
          makeRequest({ resourceId: 'acme-prod', createdAt: at(1) }),
        );
        await store.repos.requests.insert(makeRequest({ resourceId: 'other' }));
        const waiting = await store.repos.requests.list({ resourceId: 'acme-prod', status: 'pending' });
        expect(waiting.map((x) => x.id)).toEqual([later.id, r.id]);
        const ofAny = await store.repos.requests.list({
          resourceIds: ['acme-prod', 'gone'],
          status: 'pending',
        });
        expect(ofAny.map((x) => x.id)).toEqual([later.id, r.id]);
        const owner = { email: 'erin@example.com', name: 'Erin' };
        const closed = await store.repos.requests.close(r.id, owner, at(2), 'The owners switched it off.');
        expect(closed).toEqual({
          ...r,
          status: 'cancelled',
          decidedAt: at(2),
          decidedBy: 'erin@example.com',
          decidedByName: 'Erin',
          closedReason: 'closed-by-owner',
          reason: 'The owners switched it off.',
          unsettled: 'cancelled',
        });
        expect(await store.repos.requests.close(r.id, owner, at(3), 'again')).toBeNull();
        expect(await store.repos.requests.get(r.id)).toEqual(closed);
        const approved = await store.repos.requests.insert(makeRequest());
        await store.repos.requests.decide(
          approved.id,
          { status: 'approved', by: 'bob@example.com', byName: 'Bob' },
          at(1),
        );
        expect(await store.repos.requests.close(approved.id, owner, at(2), 'late')).toBeNull();
      });

      it('finds overdue pending requests, oldest deadline first, up to the limit', async () => {
        const late2 = await store.repos.requests.insert(makeRequest({ decideBy: at(20) }));
        const late1 = await store.repos.requests.insert(makeRequest({ decideBy: at(10) }));
        const late3 = await store.repos.requests.insert(makeRequest({ decideBy: at(30) }));
        const dueNow = await store.repos.requests.insert(makeRequest({ decideBy: at(40) }));
        await store.repos.requests.insert(makeRequest({ decideBy: at(41) })); // not yet
        const decided = await store.repos.requests.insert(makeRequest({ decideBy: at(50) }));
        await store.repos.requests.decide(
          decided.id,
          { status: 'approved', by: 'bob@example.com', byName: 'B' },
          at(1),
        );

        expect(ids(await store.repos.requests.findOverdue(at(40), 10))).toEqual([
          late1.id,
          late2.id,
          late3.id,
          dueNow.id,
        ]);
        expect(ids(await store.repos.requests.findOverdue(at(40), 2))).toEqual([late1.id, late2.id]);
        expect(await store.repos.requests.findOverdue(at(5), 10)).toEqual([]);
      });

      it('lists by status, resource, requester, approver and grant, newest first', async () => {
        const a = await store.repos.requests.insert(makeRequest({ createdAt: at(1) }));
        const b = await store.repos.requests.insert(
          makeRequest({
            createdAt: at(3),
            resourceId: 'staging-db',
            requester: { email: 'dave@example.com', name: 'Dave' },
            approvers: ['erin@example.com'],
          }),
        );
        const c = await store.repos.requests.insert(
          makeRequest({ createdAt: at(2), kind: 'extension', grantId: 'grant-x' }),
        );
        await store.repos.requests.decide(
          a.id,
          { status: 'approved', by: 'bob@example.com', byName: 'Bob' },
          at(4),
        );

        expect(ids(await store.repos.requests.list({}))).toEqual([b.id, c.id, a.id]);
        expect(ids(await store.repos.requests.list({ status: 'pending' }))).toEqual([b.id, c.id]);
        expect(ids(await store.repos.requests.list({ status: ['approved', 'denied'] }))).toEqual([a.id]);
        expect(ids(await store.repos.requests.list({ resourceId: 'staging-db' }))).toEqual([b.id]);
        expect(ids(await store.repos.requests.list({ requesterEmail: 'alice@example.com' }))).toEqual([
          c.id,
          a.id,
        ]);
        expect(ids(await store.repos.requests.list({ approverEmail: 'erin@example.com' }))).toEqual([b.id]);
        expect(ids(await store.repos.requests.list({ approverEmail: 'bob@example.com' }))).toEqual([
          c.id,
          a.id,
        ]);
        expect(ids(await store.repos.requests.list({ grantId: 'grant-x' }))).toEqual([c.id]);
        expect(ids(await store.repos.requests.list({ status: 'pending', resourceId: 'prod-db' }))).toEqual([
          c.id,
        ]);
        expect(ids(await store.repos.requests.list({ limit: 2 }))).toEqual([b.id, c.id]);
        expect(await store.repos.requests.list({ requesterEmail: 'nobody@example.com' })).toEqual([]);
      });

      it('lists at most 100 requests by default', async () => {
        for (let i = 0; i < 105; i++) {
          await store.repos.requests.insert(makeRequest({ createdAt: at(i) }));
        }
        const listed = await store.repos.requests.list({});
        expect(listed).toHaveLength(100);
        expect(listed[0]?.createdAt).toEqual(at(104));
        expect(listed[99]?.createdAt).toEqual(at(5));
      });
    });

    describe('grants', () => {
      it('inserts, gets and finds by request id', async () => {
        const g = makeGrant({ remindedFor: at(50), appliedExtensions: ['ext-1'], lastError: 'boom' });
        expect(await store.repos.grants.insert(g)).toEqual(g);
        expect(await store.repos.grants.get(g.id)).toEqual(g);
        expect(await store.repos.grants.findByRequestId(g.requestId)).toEqual(g);
        expect(await store.repos.grants.get('nope')).toBeNull();
        expect(await store.repos.grants.findByRequestId('nope')).toBeNull();
      });

      it('refuses a second grant for the same request, or a duplicate id', async () => {
        const g = await store.repos.grants.insert(makeGrant());
        await expectDuplicate(store.repos.grants.insert(makeGrant({ requestId: g.requestId })), 'requestId');
        await expectDuplicate(store.repos.grants.insert(makeGrant({ id: g.id })), '_id');
        expect(await store.repos.grants.list({})).toEqual([g]);
      });

      it('refuses to change the id, holder or resource of a grant', async () => {
        const g = await store.repos.grants.insert(makeGrant());
        for (const set of [
          { id: 'other' },
          { holder: { email: 'mallory@example.com', name: 'M' } },
          { resourceId: 'other-db' },
        ]) {
          await expect(
            store.repos.grants.update(g.id, { status: 'active' }, { set: set as Partial<Grant> }),
          ).rejects.toThrow(/cannot change its (id|holder|resourceId)/);
        }
        expect(await store.repos.grants.get(g.id)).toEqual(g);
      });

      it('updates only when the status guard matches', async () => {
        const g = await store.repos.grants.insert(
          makeGrant({
            status: 'provisioning',
            startsAt: undefined,
            expiresAt: undefined,
            nextAttemptAt: at(5),
          }),
        );
        expect(
          await store.repos.grants.update(g.id, { status: 'active' }, { set: { status: 'revoking' } }),
        ).toBeNull();
        expect(await store.repos.grants.get(g.id)).toEqual(g);

        const active = await store.repos.grants.update(
          g.id,
          { status: 'provisioning' },
          {
            set: { status: 'active', startsAt: at(10), expiresAt: at(70), attempts: 0 },
            unset: ['nextAttemptAt'],
          },
        );
        expect(active).toEqual({
          ...g,
          status: 'active',
          startsAt: at(10),
          expiresAt: at(70),
          attempts: 0,
          nextAttemptAt: undefined,
        });
        expect(active).not.toHaveProperty('nextAttemptAt');
        expect(await store.repos.grants.get(g.id)).toEqual(active);

        const revoking = await store.repos.grants.update(
          g.id,
          { status: ['provisioning', 'active'] },
          { set: { status: 'revoking', endReason: 'ended-by-holder', endedBy: 'alice@example.com' } },
        );
        expect(revoking?.status).toBe('revoking');
        expect(
          await store.repos.grants.update(
            g.id,
            { status: ['provisioning', 'active'] },
            { set: { status: 'revoked' } },
          ),
        ).toBeNull();
        expect(
          await store.repos.grants.update('nope', { status: 'active' }, { set: { attempts: 1 } }),
        ).toBeNull();
      });

      it('guards on expiresAt', async () => {
        const g = await store.repos.grants.insert(makeGrant({ expiresAt: at(61) }));
        expect(
          await store.repos.grants.update(
            g.id,
            { status: 'active', expiresAt: at(62) },
            { set: { expiresAt: at(120) } },
          ),
        ).toBeNull();
        const extended = await store.repos.grants.update(
          g.id,
          { status: 'active', expiresAt: new Date(at(61).getTime()) },
          { set: { expiresAt: at(120) } },
        );
        expect(extended?.expiresAt).toEqual(at(120));
        expect(
          await store.repos.grants.update(
            g.id,
            { status: 'active', expiresAt: at(61) },
            { set: { expiresAt: at(180) } },
          ),
        ).toBeNull();
        expect((await store.repos.grants.get(g.id))?.expiresAt).toEqual(at(120));
      });

      it('guards on attempts', async () => {
        const g = await store.repos.grants.insert(
          makeGrant({ status: 'revoking', attempts: 2, nextAttemptAt: at(5) }),
        );
        expect(
          await store.repos.grants.update(
            g.id,
            { status: 'revoking', attempts: 1 },
            { set: { attempts: 2 } },
          ),
        ).toBeNull();
        const retried = await store.repos.grants.update(
          g.id,
          { status: 'revoking', attempts: 2 },
          { set: { attempts: 3, nextAttemptAt: at(9), lastError: 'HTTP 503' } },
        );
        expect(retried).toMatchObject({ attempts: 3, nextAttemptAt: at(9), lastError: 'HTTP 503' });
        expect(
          await store.repos.grants.update(
            g.id,
            { status: 'revoking', attempts: 2 },
            { set: { attempts: 3 } },
          ),
        ).toBeNull();
      });

      it('sets and unsets a pending extension', async () => {
        const g = await store.repos.grants.insert(makeGrant());
        const pending = { requestId: 'ext-1', attempts: 1, nextAttemptAt: at(30) };
        const withExt = await store.repos.grants.update(
          g.id,
          { status: 'active' },
          { set: { pendingExtension: pending } },
        );
        expect(withExt?.pendingExtension).toEqual(pending);
        expect(withExt?.pendingExtension?.nextAttemptAt).toBeInstanceOf(Date);
        const cleared = await store.repos.grants.update(
          g.id,
          { status: 'active' },
          { set: { expiresAt: at(121) }, unset: ['pendingExtension', 'lastError'] },
        );
        expect(cleared).not.toHaveProperty('pendingExtension');
        expect(cleared?.expiresAt).toEqual(at(121));
        expect(await store.repos.grants.get(g.id)).toEqual(cleared);
      });

      it('returns the grant unchanged for an empty change when the guard matches', async () => {
        const g = await store.repos.grants.insert(makeGrant());
        expect(await store.repos.grants.update(g.id, { status: 'active' }, {})).toEqual(g);
        expect(
          await store.repos.grants.update(g.id, { status: 'revoking' }, { set: {}, unset: [] }),
        ).toBeNull();
      });

      it('refuses to set and unset the same field', async () => {
        const g = await store.repos.grants.insert(makeGrant());
        await expect(
          store.repos.grants.update(
            g.id,
            { status: 'active' },
            { set: { lastError: 'x' }, unset: ['lastError'] },
          ),
        ).rejects.toThrow(/both set and unset/);
      });

      it('finds due work of every kind, oldest first, and nothing that is not due yet', async () => {
        const now = at(100);
        const expiredActive = await store.repos.grants.insert(
          makeGrant({ createdAt: at(1), expiresAt: at(100) }),
        );
        await store.repos.grants.insert(makeGrant({ createdAt: at(2), expiresAt: at(101) }));
        const provisioningDue = await store.repos.grants.insert(
          makeGrant({
            createdAt: at(3),
            status: 'provisioning',
            startsAt: undefined,
            expiresAt: undefined,
            attempts: 1,
            nextAttemptAt: at(99),
          }),
        );
        await store.repos.grants.insert(
          makeGrant({
            createdAt: at(4),
            status: 'provisioning',
            startsAt: undefined,
            expiresAt: undefined,
            attempts: 1,
            nextAttemptAt: at(101),
          }),
        );
        const revokingDue = await store.repos.grants.insert(
          makeGrant({
            createdAt: at(5),
            status: 'revoking',
            expiresAt: at(50),
            attempts: 2,
            nextAttemptAt: at(100),
          }),
        );
        await store.repos.grants.insert(
          makeGrant({
            createdAt: at(6),
            status: 'revoking',
            expiresAt: at(50),
            attempts: 2,
            nextAttemptAt: at(150),
          }),
        );
        const extensionDue = await store.repos.grants.insert(
          makeGrant({
            createdAt: at(7),
            expiresAt: at(200),
            pendingExtension: { requestId: 'ext-1', attempts: 1, nextAttemptAt: at(90) },
          }),
        );
        await store.repos.grants.insert(
          makeGrant({
            createdAt: at(8),
            expiresAt: at(200),
            pendingExtension: { requestId: 'ext-2', attempts: 1, nextAttemptAt: at(110) },
          }),
        );
        // Finished grants are never due, whatever their dates say.
        await store.repos.grants.insert(
          makeGrant({ createdAt: at(0), status: 'expired', expiresAt: at(50) }),
        );
        await store.repos.grants.insert(
          makeGrant({ createdAt: at(0), status: 'revoked', expiresAt: at(50), nextAttemptAt: at(10) }),
        );
        // A due grant created earlier than the others, inserted last: order follows createdAt.
        const oldest = await store.repos.grants.insert(makeGrant({ createdAt: at(-10), expiresAt: at(60) }));

        expect(ids(await store.repos.grants.findDue(now, 50))).toEqual([
          oldest.id,
          expiredActive.id,
          provisioningDue.id,
          revokingDue.id,
          extensionDue.id,
        ]);
        expect(ids(await store.repos.grants.findDue(now, 2))).toEqual([oldest.id, expiredActive.id]);
        expect(await store.repos.grants.findDue(at(-100), 50)).toEqual([]);
      });

      it('finds owed reminders by remindAt, earliest first, then active grants never reminded from before remindAt', async () => {
        const now = at(100);
        const later = await store.repos.grants.insert(makeGrant({ createdAt: at(1), remindAt: at(90) }));
        const earlier = await store.repos.grants.insert(makeGrant({ createdAt: at(2), remindAt: at(80) }));
        // Not owed yet; already reminded (no remindAt, remindedFor set); no longer active.
        await store.repos.grants.insert(makeGrant({ remindAt: at(101) }));
        await store.repos.grants.insert(makeGrant({ remindedFor: at(61) }));
        await store.repos.grants.insert(makeGrant({ status: 'expired', remindAt: at(10) }));
        await store.repos.grants.insert(makeGrant({ status: 'provisioning' }));
        // Stored before remindAt existed and never reminded.
        const legacy = await store.repos.grants.insert(makeGrant({ createdAt: at(0) }));

        expect(ids(await store.repos.grants.findRemindersDue(now, 50))).toEqual([
          earlier.id,
          later.id,
          legacy.id,
        ]);
        expect(ids(await store.repos.grants.findRemindersDue(now, 1))).toEqual([earlier.id]);
        expect(ids(await store.repos.grants.findRemindersDue(at(85), 50))).toEqual([earlier.id, legacy.id]);
      });

      it('lists by status, resource and holder, newest first', async () => {
        const a = await store.repos.grants.insert(makeGrant({ createdAt: at(1) }));
        const b = await store.repos.grants.insert(
          makeGrant({
            createdAt: at(3),
            resourceId: 'staging-db',
            holder: { email: 'dave@example.com', name: 'Dave' },
            status: 'revoked',
          }),
        );
        const c = await store.repos.grants.insert(makeGrant({ createdAt: at(2), status: 'provisioning' }));

        expect(ids(await store.repos.grants.list({}))).toEqual([b.id, c.id, a.id]);
        expect(ids(await store.repos.grants.list({ status: 'active' }))).toEqual([a.id]);
        expect(ids(await store.repos.grants.list({ status: ['active', 'provisioning'] }))).toEqual([
          c.id,
          a.id,
        ]);
        expect(ids(await store.repos.grants.list({ resourceId: 'staging-db' }))).toEqual([b.id]);
        expect(ids(await store.repos.grants.list({ holderEmail: 'alice@example.com' }))).toEqual([
          c.id,
          a.id,
        ]);
        expect(ids(await store.repos.grants.list({ holderEmail: 'alice@example.com', limit: 1 }))).toEqual([
          c.id,
        ]);
        expect(await store.repos.grants.list({ holderEmail: 'nobody@example.com' })).toEqual([]);
      });

      it('keeps what a grant’s move still owes until it is settled, and finds the unsettled oldest first', async () => {
        const a = await store.repos.grants.insert(makeGrant({ createdAt: at(2), unsettled: 'activated' }));
        const b = await store.repos.grants.insert(
          makeGrant({ createdAt: at(0), unsettled: 'extended:ext-1' }),
        );
        await store.repos.grants.insert(makeGrant({ createdAt: at(1) }));
        expect(ids(await store.repos.grants.findUnsettled(10))).toEqual([b.id, a.id]);
        // Settling an older move does not clear a newer one's mark.
        expect(
          await store.repos.grants.update(
            a.id,
            { status: 'active', unsettled: 'ended' },
            { unset: ['unsettled'] },
          ),
        ).toBeNull();
        await store.repos.grants.update(
          a.id,
          { status: 'active', unsettled: 'activated' },
          { unset: ['unsettled'] },
        );
        expect(ids(await store.repos.grants.findUnsettled(10))).toEqual([b.id]);
        expect(await store.repos.grants.get(a.id)).not.toHaveProperty('unsettled');
      });

      it('counts by status, and those whose connector call is being retried', async () => {
        await store.repos.grants.insert(makeGrant());
        await store.repos.grants.insert(
          makeGrant({ status: 'provisioning', attempts: 0, nextAttemptAt: at(1) }),
        );
        await store.repos.grants.insert(
          makeGrant({ status: 'provisioning', attempts: 3, nextAttemptAt: at(9) }),
        );
        await store.repos.grants.insert(makeGrant({ status: 'revoking', attempts: 1, nextAttemptAt: at(9) }));
        await store.repos.grants.insert(
          makeGrant({ pendingExtension: { requestId: 'x', attempts: 2, nextAttemptAt: at(9) } }),
        );
        await store.repos.grants.insert(makeGrant({ status: 'expired', attempts: 0 }));

        expect(await store.repos.grants.count({ status: ['active'] })).toBe(2);
        expect(await store.repos.grants.count({ status: ['provisioning'] })).toBe(2);
        expect(await store.repos.grants.count({ status: ['revoking', 'expired'] })).toBe(2);
        expect(await store.repos.grants.count({ status: ['provisioning'], retrying: true })).toBe(1);
        expect(
          await store.repos.grants.count({ status: ['provisioning', 'active', 'revoking'], retrying: true }),
        ).toBe(3);
        expect(await store.repos.grants.count({ status: ['revoked'] })).toBe(0);
      });
    });

    describe('one open grant per person and resource', () => {
      const alice = { email: 'alice@example.com', name: 'Alice' };
      const dave = { email: 'dave@example.com', name: 'Dave' };
      const open = (over: Partial<Grant> = {}) =>
        makeGrant({ holder: alice, resourceId: 'prod-db', ...over });

      it('refuses a second open grant of the same person to the same resource, keeping the first', async () => {
        const first = await store.repos.grants.insert(open());
        await expectDuplicate(store.repos.grants.insert(open()), 'openKey');
        await expectDuplicate(
          store.repos.grants.insert(
            open({ status: 'provisioning', startsAt: undefined, expiresAt: undefined }),
          ),
          'openKey',
        );
        expect(await store.repos.grants.list({})).toEqual([first]);
      });

      it('lets grants of other people, or to other resources, be open at the same time', async () => {
        await store.repos.grants.insert(open());
        await store.repos.grants.insert(open({ holder: dave }));
        await store.repos.grants.insert(open({ resourceId: 'staging-db' }));
        await store.repos.grants.insert(
          open({ holder: dave, resourceId: 'staging-db', status: 'provisioning' }),
        );
        expect(await store.repos.grants.list({ status: ['provisioning', 'active'] })).toHaveLength(4);
      });

      it('counts only open grants: any number of ended ones, and a new grant once the open one ends', async () => {
        await store.repos.grants.insert(open({ status: 'expired' }));
        await store.repos.grants.insert(open({ status: 'revoked' }));
        await store.repos.grants.insert(open({ status: 'revoking' }));
        const first = await store.repos.grants.insert(open());
        await expectDuplicate(store.repos.grants.insert(open()), 'openKey');

        // Revocation starts: the person and resource are free for a new grant.
        const revoking = await store.repos.grants.update(
          first.id,
          { status: 'active' },
          { set: { status: 'revoking', endReason: 'ended-by-holder', endedBy: alice.email } },
        );
        expect(revoking?.status).toBe('revoking');
        const second = await store.repos.grants.insert(open());
        await expectDuplicate(store.repos.grants.insert(open()), 'openKey');

        // ...and again once the second one has expired.
        await store.repos.grants.update(second.id, { status: 'active' }, { set: { status: 'revoking' } });
        const expired = await store.repos.grants.update(
          second.id,
          { status: 'revoking' },
          { set: { status: 'expired', endedAt: at(70) } },
        );
        expect(expired?.status).toBe('expired');
        await store.repos.grants.insert(open());
        expect(await store.repos.grants.list({ status: 'active' })).toHaveLength(1);
      });

      it('keeps the key through activation, and takes it back when a grant opens again', async () => {
        const g = await store.repos.grants.insert(
          open({ status: 'provisioning', startsAt: undefined, expiresAt: undefined, nextAttemptAt: at(1) }),
        );
        await store.repos.grants.update(
          g.id,
          { status: 'provisioning' },
          { set: { status: 'active', startsAt: at(2), expiresAt: at(62) }, unset: ['nextAttemptAt'] },
        );
        await expectDuplicate(store.repos.grants.insert(open()), 'openKey');

        await store.repos.grants.update(g.id, { status: 'active' }, { set: { status: 'revoking' } });
        const other = await store.repos.grants.insert(open());
        // Opening the first again would make two: refused, and nothing changes.
        await expectDuplicate(
          store.repos.grants.update(g.id, { status: 'revoking' }, { set: { status: 'active' } }),
          'openKey',
        );
        expect((await store.repos.grants.get(g.id))?.status).toBe('revoking');
        // Once the other one has ended, it may.
        await store.repos.grants.update(other.id, { status: 'active' }, { set: { status: 'revoking' } });
        const reopened = await store.repos.grants.update(
          g.id,
          { status: 'revoking' },
          { set: { status: 'active' } },
        );
        expect(reopened?.status).toBe('active');
        await expectDuplicate(store.repos.grants.insert(open()), 'openKey');
      });

      it('lets exactly one of two concurrent inserts in', async () => {
        const results = await Promise.allSettled([
          store.repos.grants.insert(open()),
          store.repos.grants.insert(
            open({ status: 'provisioning', startsAt: undefined, expiresAt: undefined }),
          ),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const [refused] = results.filter((r) => r.status === 'rejected');
        expect(refused?.reason).toBeInstanceOf(DuplicateKeyError);
        expect((refused?.reason as DuplicateKeyError | undefined)?.key).toBe('openKey');
        expect(await store.repos.grants.list({ holderEmail: alice.email })).toHaveLength(1);
      });

      it('keeps the key out of every grant it returns', async () => {
        const g = await store.repos.grants.insert(open({ nextAttemptAt: at(-1), status: 'provisioning' }));
        const got = [
          g,
          await store.repos.grants.get(g.id),
          await store.repos.grants.findByRequestId(g.requestId),
          ...(await store.repos.grants.list({})),
          ...(await store.repos.grants.findDue(at(0), 10)),
          await store.repos.grants.update(g.id, { status: 'provisioning' }, { set: { attempts: 1 } }),
          await store.repos.grants.update(g.id, { status: 'provisioning' }, {}),
        ];
        expect(got).toHaveLength(7);
        for (const grant of got) expect(grant).not.toHaveProperty('openKey');
      });
    });

    describe('audit', () => {
      it('appends and lists oldest first, with filters and a limit', async () => {
        const e2 = makeEvent({
          at: at(2),
          type: 'request.approved',
          actor: 'bob@example.com',
          requestId: 'r1',
        });
        const e1 = makeEvent({ at: at(1), requestId: 'r1', resourceId: 'prod-db' });
        const e3 = makeEvent({
          at: at(3),
          type: 'grant.activated',
          actor: 'system',
          requestId: 'r1',
          grantId: 'g1',
          details: { expiresAt: at(63).toISOString(), attempts: 1, ok: true, none: null },
        });
        const other = makeEvent({ at: at(0), requestId: 'r2', resourceId: 'staging-db' });
        for (const e of [e2, e1, e3, other]) await store.repos.audit.append(e);

        expect(await store.repos.audit.list({ requestId: 'r1' })).toEqual([e1, e2, e3]);
        expect(ids(await store.repos.audit.list({}))).toEqual([other.id, e1.id, e2.id, e3.id]);
        expect(ids(await store.repos.audit.list({ grantId: 'g1' }))).toEqual([e3.id]);
        expect(ids(await store.repos.audit.list({ resourceId: 'prod-db' }))).toEqual([e1.id]);
        expect(ids(await store.repos.audit.list({ actor: 'system' }))).toEqual([e3.id]);
        expect(ids(await store.repos.audit.list({ type: 'request.created' }))).toEqual([other.id, e1.id]);
        expect(ids(await store.repos.audit.list({ requestId: 'r1', limit: 2 }))).toEqual([e1.id, e2.id]);
      });

      it('keeps empty details and refuses a duplicate event id', async () => {
        const e = makeEvent({ details: {} });
        await store.repos.audit.append(e);
        expect(await store.repos.audit.list({})).toEqual([e]);
        await expectDuplicate(store.repos.audit.append({ ...e, type: 'request.cancelled' }), '_id');
      });

      it('refuses a second event under the same key (a move recorded once), and keeps events without one', async () => {
        const first = makeEvent({ id: 'e-1', key: 'r1:approved' });
        await store.repos.audit.append(first);
        await expectDuplicate(store.repos.audit.append(makeEvent({ id: 'e-2', key: 'r1:approved' })), 'key');
        await store.repos.audit.append(makeEvent({ id: 'e-3' }));
        await store.repos.audit.append(makeEvent({ id: 'e-4' }));
        expect((await store.repos.audit.list({})).map((e) => [e.id, e.key])).toEqual([
          ['e-1', 'r1:approved'],
          ['e-3', undefined],
          ['e-4', undefined],
        ]);
      });
    });

    describe('message references', () => {
      it('saves, finds, and replaces on (platform, subjectId, purpose, recipient)', async () => {
        const card = makeRef({ subjectId: 'r1', recipient: 'bob@example.com' });
        const card2 = makeRef({ subjectId: 'r1', recipient: 'carol@example.com', createdAt: at(1) });
        const status = makeRef({
          subjectId: 'r1',
          purpose: 'requester-status',
          recipient: 'alice@example.com',
        });
        const teams = makeRef({
          subjectId: 'r1',
          platform: 'teams',
          recipient: 'bob@example.com',
          createdAt: at(2),
        });
        for (const ref of [card, card2, status, teams]) await store.repos.messages.save(ref);
        await store.repos.messages.save(makeRef({ subjectId: 'r2' }));

        expect(await store.repos.messages.find({ subjectId: 'r1', purpose: 'approval-card' })).toEqual([
          card,
          card2,
          teams,
        ]);
        expect(await store.repos.messages.find({ subjectId: 'r1' })).toHaveLength(4);

        // A re-send replaces the old reference (and keeps the first id).
        const resent = makeRef({
          subjectId: 'r1',
          recipient: 'bob@example.com',
          address: '{"channel":"D999","ts":"1700000099.000200"}',
          createdAt: at(5),
        });
        await store.repos.messages.save(resent);
        const cards = await store.repos.messages.find({ subjectId: 'r1', purpose: 'approval-card' });
        expect(cards).toHaveLength(3);
        const bobs = cards.filter((c) => c.platform === 'slack' && c.recipient === 'bob@example.com');
        expect(bobs).toEqual([{ ...resent, id: card.id }]);
        expect(await store.repos.messages.find({ subjectId: 'r1', purpose: 'reminder' })).toEqual([]);
      });
      it('replaces an address only while it is the one expected (compare-and-swap)', async () => {
        const home = makeRef({ subjectId: 'home', purpose: 'home', address: '{"rev":"1"}' });
        await store.repos.messages.save(home);
        const next = { ...home, address: '{"rev":"2"}', createdAt: at(3) };
        expect(await store.repos.messages.replace(next, '{"rev":"1"}')).toBe(true);
        expect(await store.repos.messages.find({ subjectId: 'home' })).toEqual([next]);
        // Someone else's write came first: nothing changes.
        expect(await store.repos.messages.replace({ ...home, address: '{"rev":"3"}' }, '{"rev":"1"}')).toBe(
          false,
        );
        expect(await store.repos.messages.find({ subjectId: 'home' })).toEqual([next]);
        // Nothing is made where there was no record.
        const elsewhere = { ...home, recipient: 'nobody@example.com' };
        expect(await store.repos.messages.replace(elsewhere, '{"rev":"1"}')).toBe(false);
        expect(await store.repos.messages.find({ subjectId: 'home' })).toHaveLength(1);
      });
      it('finds by subject, purpose and recipient, oldest first', async () => {
        const bobCard = makeRef({ subjectId: 'r1', recipient: 'bob@example.com', createdAt: at(2) });
        const bobTeams = makeRef({
          subjectId: 'r1',
          platform: 'teams',
          recipient: 'bob@example.com',
          createdAt: at(1),
        });
        const carolCard = makeRef({ subjectId: 'r1', recipient: 'carol@example.com' });
        const bobStatus = makeRef({
          subjectId: 'r1',
          purpose: 'requester-status',
          recipient: 'bob@example.com',
        });
        const elsewhere = makeRef({ subjectId: 'r2', recipient: 'bob@example.com' });
        for (const ref of [bobCard, bobTeams, carolCard, bobStatus, elsewhere])
          await store.repos.messages.save(ref);

        expect(
          await store.repos.messages.find({
            subjectId: 'r1',
            purpose: 'approval-card',
            recipient: 'bob@example.com',
          }),
        ).toEqual([bobTeams, bobCard]);
        expect(
          ids(await store.repos.messages.find({ subjectId: 'r1', recipient: 'bob@example.com' })),
        ).toEqual([bobStatus.id, bobTeams.id, bobCard.id]);
        expect(
          await store.repos.messages.find({
            subjectId: 'r1',
            purpose: 'reminder',
            recipient: 'bob@example.com',
          }),
        ).toEqual([]);
      });
    });

    describe('sightings', () => {
      const seen = (platform: string, minute: number) => ({
        email: 'bob@example.com',
        platform,
        seenAt: at(minute),
      });

      it('keeps where each person was seen last, by email; nothing for a stranger', async () => {
        await store.repos.sightings.record(seen('slack', 1));
        await store.repos.sightings.record({ email: 'carol@example.com', platform: 'teams', seenAt: at(2) });
        expect(await store.repos.sightings.get('bob@example.com')).toEqual(seen('slack', 1));
        expect(await store.repos.sightings.get('carol@example.com')).toEqual({
          email: 'carol@example.com',
          platform: 'teams',
          seenAt: at(2),
        });
        expect(await store.repos.sightings.get('nobody@example.com')).toBeNull();
      });

      it('moves to a newer sighting, ignores an older one arriving late, and takes the same one twice', async () => {
        await store.repos.sightings.record(seen('slack', 1));
        await store.repos.sightings.record(seen('teams', 5));
        await store.repos.sightings.record(seen('slack', 4));
        expect(await store.repos.sightings.get('bob@example.com')).toEqual(seen('teams', 5));
        await store.repos.sightings.record(seen('teams', 5));
        expect(await store.repos.sightings.get('bob@example.com')).toEqual(seen('teams', 5));
      });
    });

    describe('conversation references', () => {
      it('saves one per person and gets it by email, nothing for a stranger', async () => {
        const bob = makeConversation();
        const carol = makeConversation({ email: 'carol@example.com', tz: undefined, updatedAt: at(1) });
        await store.repos.conversations.save(bob);
        await store.repos.conversations.save(carol);
        expect(await store.repos.conversations.get('bob@example.com')).toEqual(bob);
        expect(await store.repos.conversations.get('carol@example.com')).toEqual({
          email: 'carol@example.com',
          platform: 'teams',
          reference: carol.reference,
          updatedAt: at(1),
        });
        expect(await store.repos.conversations.get('nobody@example.com')).toBeNull();
      });

      it('replaces the reference with a newer sighting, keeping the zone when the newer one has none', async () => {
        await store.repos.conversations.save(makeConversation({ updatedAt: at(0) }));
        const newer = makeConversation({ tz: undefined, updatedAt: at(5) });
        await store.repos.conversations.save(newer);
        expect(await store.repos.conversations.get('bob@example.com')).toEqual({
          ...newer,
          tz: 'Europe/Berlin',
        });
        const moved = makeConversation({ tz: 'Asia/Tokyo', updatedAt: at(6) });
        await store.repos.conversations.save(moved);
        expect(await store.repos.conversations.get('bob@example.com')).toEqual(moved);
      });

      it('ignores an older sighting that arrives late, and saves the same one twice harmlessly', async () => {
        const newer = makeConversation({ updatedAt: at(5) });
        await store.repos.conversations.save(newer);
        await store.repos.conversations.save(makeConversation({ tz: 'UTC', updatedAt: at(4) }));
        expect(await store.repos.conversations.get('bob@example.com')).toEqual(newer);
        await store.repos.conversations.save(newer);
        expect(await store.repos.conversations.get('bob@example.com')).toEqual(newer);
      });

      it('lets one of two concurrent first sightings win without an error', async () => {
        const a = makeConversation({ updatedAt: at(1) });
        const b = makeConversation({ updatedAt: at(1) });
        await Promise.all([store.repos.conversations.save(a), store.repos.conversations.save(b)]);
        const stored = await store.repos.conversations.get('bob@example.com');
        expect([a.reference, b.reference]).toContain(stored?.reference);
        expect(stored?.updatedAt).toEqual(at(1));
      });
    });

    describe('resource settings (owners)', () => {
      const setting = (over: Partial<ResourceSetting> = {}): ResourceSetting => ({
        resourceId: 'acme-prod',
        jitEnabled: true,
        updatedBy: 'dave@example.com',
        updatedByName: 'Dave',
        updatedAt: at(0),
        version: 1,
        ...over,
      });

      it('stores the first setting of a resource, and nothing for a resource never set', async () => {
        expect(await store.repos.settings.get('acme-prod')).toBeNull();
        const first = setting({ windowEndsAt: at(60) });
        expect(await store.repos.settings.save(first, 0)).toEqual(first);
        expect(await store.repos.settings.get('acme-prod')).toEqual(first);
        expect(await store.repos.settings.get('other')).toBeNull();
      });

      it('replaces it only from the version it was read at: of two concurrent saves one wins', async () => {
        await store.repos.settings.save(setting({ windowEndsAt: at(60) }), 0);
        const a = setting({ jitEnabled: false, version: 2, updatedAt: at(1) });
        const b = setting({ jitEnabled: true, windowEndsAt: at(90), version: 2, updatedAt: at(1) });
        const results = await Promise.all([store.repos.settings.save(a, 1), store.repos.settings.save(b, 1)]);
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        const stored = await store.repos.settings.get('acme-prod');
        expect(stored).toEqual(results.find((r) => r !== null));
        // "Always allow" removes the window end
        if (stored?.windowEndsAt) expect(stored).toEqual(b);
        else expect(stored).toEqual(a);
        // a save from a stale version changes nothing
        expect(await store.repos.settings.save(setting({ version: 2 }), 1)).toBeNull();
      });

      it('refuses a second first save', async () => {
        const [x, y] = await Promise.all([
          store.repos.settings.save(setting({ updatedBy: 'x@example.com' }), 0),
          store.repos.settings.save(setting({ updatedBy: 'y@example.com' }), 0),
        ]);
        expect([x, y].filter((r) => r !== null)).toHaveLength(1);
      });

      it('lists the windows that have ended by a time, soonest first', async () => {
        await store.repos.settings.save(setting({ resourceId: 'late', windowEndsAt: at(30) }), 0);
        await store.repos.settings.save(setting({ resourceId: 'early', windowEndsAt: at(10) }), 0);
        await store.repos.settings.save(setting({ resourceId: 'open' }), 0);
        await store.repos.settings.save(setting({ resourceId: 'future', windowEndsAt: at(99) }), 0);
        const ended = await store.repos.settings.windowsEndedBy(at(30), 10);
        expect(ended.map((s) => s.resourceId)).toEqual(['early', 'late']);
      });

      it('keeps the mark of a save until that version is settled, and lists the marked oldest first', async () => {
        await store.repos.settings.save(setting({ resourceId: 'b', updatedAt: at(2), unsettled: 1 }), 0);
        await store.repos.settings.save(setting({ resourceId: 'a', updatedAt: at(1), unsettled: 1 }), 0);
        await store.repos.settings.save(setting({ resourceId: 'c', updatedAt: at(3) }), 0);
        expect((await store.repos.settings.findUnsettled(10)).map((s) => s.resourceId)).toEqual(['a', 'b']);
        // A later save's mark is kept by an earlier version's settle.
        await store.repos.settings.save(
          setting({ resourceId: 'a', version: 2, updatedAt: at(4), unsettled: 2 }),
          1,
        );
        await store.repos.settings.settle('a', 1);
        expect((await store.repos.settings.get('a'))?.unsettled).toBe(2);
        await store.repos.settings.settle('a', 2);
        await store.repos.settings.settle('b', 1);
        expect(await store.repos.settings.findUnsettled(10)).toEqual([]);
        expect(await store.repos.settings.get('a')).not.toHaveProperty('unsettled');
      });

      it('reads the settings of several resources at once, skipping those never set', async () => {
        await store.repos.settings.save(setting({ resourceId: 'a' }), 0);
        await store.repos.settings.save(setting({ resourceId: 'b', jitEnabled: false }), 0);
        const got = await store.repos.settings.getMany(['a', 'b', 'none', 'a']);
        expect(got.map((s) => s.resourceId).sort()).toEqual(['a', 'b']);
        expect(await store.repos.settings.getMany([])).toEqual([]);
      });

      it('lists the resources switched off, most recently changed first', async () => {
        await store.repos.settings.save(setting({ resourceId: 'a', jitEnabled: false, updatedAt: at(1) }), 0);
        await store.repos.settings.save(setting({ resourceId: 'b', jitEnabled: true, updatedAt: at(2) }), 0);
        await store.repos.settings.save(setting({ resourceId: 'c', jitEnabled: false, updatedAt: at(3) }), 0);
        expect((await store.repos.settings.switchedOff(10)).map((s) => s.resourceId)).toEqual(['c', 'a']);
      });
    });

    describe('outbox', () => {
      it('enqueues items whose key is new and returns only those, in order', async () => {
        const a = makeItem({ key: 'k-a' });
        const b = makeItem({ key: 'k-b' });
        expect(await store.repos.outbox.enqueue([a, b])).toEqual([a, b]);
        // A repeated event enqueues the same keys again (with new ids): nothing new is stored.
        const again = makeItem({ key: 'k-a' });
        const c = makeItem({ key: 'k-c' });
        const repeatInBatch = makeItem({ key: 'k-c' });
        expect(await store.repos.outbox.enqueue([again, c, repeatInBatch])).toEqual([c]);
        expect(await store.repos.outbox.enqueue([])).toEqual([]);
        expect(await store.repos.outbox.list({})).toEqual([a, b, c]);
      });

      it("gives the lane's oldest pending item as its head, by createdAt and then id", async () => {
        const lane = 'req-9|carol@example.com';
        const later = makeItem({ lane, createdAt: at(5) });
        const tieSecond = makeItem({ id: 'out-tie-2', lane, createdAt: at(3) });
        const tieFirst = makeItem({ id: 'out-tie-1', lane, createdAt: at(3) });
        const sent = makeItem({ lane, createdAt: at(1), status: 'sent', sentAt: at(2) });
        const otherLane = makeItem({ lane: 'req-9|dave@example.com', createdAt: at(0) });
        await store.repos.outbox.enqueue([later, tieSecond, tieFirst, sent, otherLane]);

        expect(await store.repos.outbox.head(lane)).toEqual(tieFirst);
        await store.repos.outbox.update(tieFirst.id, { status: 'pending' }, { set: { status: 'sent' } });
        expect(await store.repos.outbox.head(lane)).toEqual(tieSecond);
        await store.repos.outbox.update(
          tieSecond.id,
          { status: 'pending' },
          { set: { status: 'undeliverable' } },
        );
        expect((await store.repos.outbox.head(lane))?.id).toBe(later.id);
        await store.repos.outbox.update(later.id, { status: 'pending' }, { set: { status: 'sent' } });
        expect(await store.repos.outbox.head(lane)).toBeNull();
        expect(await store.repos.outbox.head('no-such-lane')).toBeNull();
      });

      it('updates as a compare-and-swap on status, nextAttemptAt and attempts', async () => {
        const item = makeItem({ attempts: 1, nextAttemptAt: at(10), lastError: 'HTTP 503' });
        await store.repos.outbox.enqueue([item]);
        const lease = { set: { nextAttemptAt: at(11) } };
        expect(await store.repos.outbox.update(item.id, { status: 'sent' }, lease)).toBeNull();
        expect(
          await store.repos.outbox.update(item.id, { status: 'pending', nextAttemptAt: at(9) }, lease),
        ).toBeNull();
        expect(
          await store.repos.outbox.update(item.id, { status: 'pending', attempts: 0 }, lease),
        ).toBeNull();
        expect(await store.repos.outbox.update('nope', { status: 'pending' }, lease)).toBeNull();
        expect(await store.repos.outbox.list({})).toEqual([item]);

        const leased = await store.repos.outbox.update(
          item.id,
          { status: 'pending', nextAttemptAt: new Date(at(10).getTime()), attempts: 1 },
          lease,
        );
        expect(leased).toEqual({ ...item, nextAttemptAt: at(11) });
        // The same guard again: the lease moved, so it no longer matches.
        expect(
          await store.repos.outbox.update(
            item.id,
            { status: 'pending', nextAttemptAt: at(10), attempts: 1 },
            lease,
          ),
        ).toBeNull();

        const done = await store.repos.outbox.update(
          item.id,
          { status: 'pending', nextAttemptAt: at(11), attempts: 1 },
          { set: { status: 'sent', sentAt: at(12), platform: 'slack', attempts: 2 }, unset: ['lastError'] },
        );
        const { lastError: _gone, ...rest } = item;
        expect(done).toEqual({
          ...rest,
          nextAttemptAt: at(11),
          status: 'sent',
          sentAt: at(12),
          platform: 'slack',
          attempts: 2,
        });
        expect(done).not.toHaveProperty('lastError');
        expect(await store.repos.outbox.list({})).toEqual([done]);
        // An empty change reads the item when the guard matches.
        expect(await store.repos.outbox.update(item.id, { status: 'sent' }, {})).toEqual(done);
        expect(await store.repos.outbox.update(item.id, { status: 'pending' }, {})).toBeNull();
      });

      it('lists the lanes with a pending item due, distinct, most overdue first, up to the limit', async () => {
        const now = at(100);
        await store.repos.outbox.enqueue([
          // Lane A: many due items, the most overdue at 50.
          ...Array.from({ length: 9 }, (_, i) => makeItem({ lane: 'A', nextAttemptAt: at(50 + i) })),
          makeItem({ lane: 'B', nextAttemptAt: at(60) }),
          makeItem({ lane: 'C', nextAttemptAt: at(20) }),
          makeItem({ lane: 'D', nextAttemptAt: at(100) }),
          makeItem({ lane: 'not-yet', nextAttemptAt: at(101) }),
          makeItem({ lane: 'sent', nextAttemptAt: at(1), status: 'sent' }),
          makeItem({ lane: 'given-up', nextAttemptAt: at(1), status: 'undeliverable' }),
        ]);
        expect(await store.repos.outbox.dueLanes(now, 10)).toEqual(['C', 'A', 'B', 'D']);
        expect(await store.repos.outbox.dueLanes(now, 2)).toEqual(['C', 'A']);
        // One lane's due items fill more than a read-ahead batch: the lanes behind it are still found.
        expect(await store.repos.outbox.dueLanes(now, 1)).toEqual(['C']);
        expect(await store.repos.outbox.dueLanes(at(55), 2)).toEqual(['C', 'A']);
        expect(await store.repos.outbox.dueLanes(at(10), 5)).toEqual([]);
        expect(await store.repos.outbox.dueLanes(now, 0)).toEqual([]);
      });

      it('finds the next due lane behind a lane with many due items', async () => {
        await store.repos.outbox.enqueue([
          ...Array.from({ length: 12 }, (_, i) => makeItem({ lane: 'busy', nextAttemptAt: at(i) })),
          makeItem({ lane: 'quiet', nextAttemptAt: at(50) }),
        ]);
        expect(await store.repos.outbox.dueLanes(at(100), 2)).toEqual(['busy', 'quiet']);
      });

      it('lists by lane, status, recipient and subject, oldest first, and counts by status', async () => {
        const a = makeItem({ createdAt: at(1), lane: 'L1', recipient: 'bob@example.com', subjectId: 's1' });
        const b = makeItem({
          createdAt: at(3),
          lane: 'L2',
          recipient: 'carol@example.com',
          subjectId: 's1',
          status: 'sent',
        });
        const c = makeItem({
          createdAt: at(2),
          lane: 'L1',
          recipient: 'bob@example.com',
          subjectId: 's2',
          status: 'undeliverable',
        });
        const d = makeItem({ createdAt: at(0), lane: 'L3', recipient: 'dave@example.com', subjectId: 's3' });
        await store.repos.outbox.enqueue([a, b, c, d]);

        expect(ids(await store.repos.outbox.list({}))).toEqual([d.id, a.id, c.id, b.id]);
        expect(ids(await store.repos.outbox.list({ lane: 'L1' }))).toEqual([a.id, c.id]);
        expect(ids(await store.repos.outbox.list({ status: 'pending' }))).toEqual([d.id, a.id]);
        expect(ids(await store.repos.outbox.list({ status: ['sent', 'undeliverable'] }))).toEqual([
          c.id,
          b.id,
        ]);
        expect(ids(await store.repos.outbox.list({ recipient: 'bob@example.com' }))).toEqual([a.id, c.id]);
        expect(ids(await store.repos.outbox.list({ subjectId: 's1' }))).toEqual([a.id, b.id]);
        expect(ids(await store.repos.outbox.list({ subjectId: 's1', status: 'sent' }))).toEqual([b.id]);
        expect(ids(await store.repos.outbox.list({ limit: 2 }))).toEqual([d.id, a.id]);
        expect(await store.repos.outbox.list({ lane: 'none' })).toEqual([]);

        expect(await store.repos.outbox.count({ status: 'pending' })).toBe(2);
        expect(await store.repos.outbox.count({ status: 'sent' })).toBe(1);
        expect(await store.repos.outbox.count({ status: 'undeliverable' })).toBe(1);
        await store.repos.outbox.update(a.id, { status: 'pending' }, { set: { attempts: 2 } });
        expect(await store.repos.outbox.count({ status: 'pending', retrying: true })).toBe(1);
        expect(await store.repos.outbox.count({ status: 'sent', retrying: true })).toBe(0);
      });

      it('purges the done items whose purgeAt has passed, and never a pending one', async () => {
        const old = makeItem({ status: 'sent', sentAt: at(1), purgeAt: at(10) });
        const givenUp = makeItem({ status: 'undeliverable', purgeAt: at(10) });
        const young = makeItem({ status: 'sent', sentAt: at(1), purgeAt: at(11) });
        const waiting = makeItem({ nextAttemptAt: at(0) });
        // A pending item never has a purgeAt; one that did would still be kept.
        const odd = makeItem({ purgeAt: at(0) });
        await store.repos.outbox.enqueue([old, givenUp, young, waiting, odd]);
        expect(await store.repos.outbox.purge(at(10))).toBe(2);
        expect(await store.repos.outbox.list({})).toEqual([young, waiting, odd]);
        expect(await store.repos.outbox.head(waiting.lane)).toEqual(waiting);
        expect(await store.repos.outbox.purge(at(10))).toBe(0);
        expect(await store.repos.outbox.purge(at(11))).toBe(1);
        // The key of a purged item is free again (the item is gone, not hidden).
        expect(await store.repos.outbox.enqueue([{ ...old, id: 'out-again' }])).toHaveLength(1);
      });

      it('marks an item done and drops its message data in one conditional write', async () => {
        const item = makeItem({ reqId: 'req-abc' });
        await store.repos.outbox.enqueue([item]);
        const done = await store.repos.outbox.update(
          item.id,
          { status: 'pending', nextAttemptAt: item.nextAttemptAt },
          {
            set: { status: 'sent', sentAt: at(2), message: { view: 'approvalCard' }, purgeAt: at(60) },
            unset: ['reqId', 'lastError'],
          },
        );
        const { reqId: _dropped, ...kept } = item;
        const expected = {
          ...kept,
          status: 'sent',
          sentAt: at(2),
          message: { view: 'approvalCard' },
          purgeAt: at(60),
        };
        expect(done).toEqual(expected);
        expect(await store.repos.outbox.list({})).toEqual([expected]);
        // Done: a second finish (a worker whose lease ran out) changes nothing.
        expect(
          await store.repos.outbox.update(
            item.id,
            { status: 'pending', nextAttemptAt: item.nextAttemptAt },
            { set: { status: 'sent', sentAt: at(3) } },
          ),
        ).toBeNull();
      });

      it('keeps an empty purpose and an empty message', async () => {
        const notice = makeItem({ purpose: '', message: {} });
        await store.repos.outbox.enqueue([notice]);
        expect(await store.repos.outbox.list({})).toEqual([notice]);
      });
    });

    describe('values', () => {
      it('gives Dates back as Date instances', async () => {
        const r = await store.repos.requests.insert(makeRequest());
        const decided = await store.repos.requests.decide(
          r.id,
          { status: 'approved', by: 'bob@example.com', byName: 'Bob' },
          at(1),
        );
        const g = await store.repos.grants.insert(
          makeGrant({ pendingExtension: { requestId: 'x', attempts: 0, nextAttemptAt: at(3) } }),
        );
        await store.repos.audit.append(makeEvent());
        await store.repos.messages.save(makeRef({ subjectId: 'dates' }));

        const got = await store.repos.requests.get(r.id);
        for (const d of [got?.createdAt, got?.decideBy, got?.decidedAt, decided?.decidedAt]) {
          expect(d).toBeInstanceOf(Date);
        }
        const listed = (await store.repos.requests.list({}))[0];
        expect(listed?.createdAt).toBeInstanceOf(Date);
        const grant = await store.repos.grants.get(g.id);
        for (const d of [
          grant?.createdAt,
          grant?.startsAt,
          grant?.expiresAt,
          grant?.pendingExtension?.nextAttemptAt,
        ]) {
          expect(d).toBeInstanceOf(Date);
        }
        expect((await store.repos.audit.list({}))[0]?.at).toBeInstanceOf(Date);
        expect((await store.repos.messages.find({ subjectId: 'dates' }))[0]?.createdAt).toBeInstanceOf(Date);
      });

      it("gives Dates back as Dates in outbox items, inside the message's snapshot too", async () => {
        const snapshot = makeRequest({ decidedAt: at(5) });
        const item = makeItem({
          message: {
            view: 'requesterStatus',
            request: snapshot,
            at: [at(1), at(2)],
            nested: { when: at(3) },
          },
          sentAt: at(4),
        });
        await store.repos.outbox.enqueue([item]);
        const [got] = await store.repos.outbox.list({});
        expect(got).toEqual(item);
        for (const d of [got?.createdAt, got?.nextAttemptAt, got?.giveUpAt, got?.sentAt]) {
          expect(d).toBeInstanceOf(Date);
        }
        if (!got) throw new Error('missing');
        const message = got.message as { request: AccessRequest; at: Date[]; nested: { when: Date } };
        for (const d of [
          message.request.createdAt,
          message.request.decideBy,
          message.request.decidedAt,
          ...message.at,
          message.nested.when,
        ]) {
          expect(d).toBeInstanceOf(Date);
        }
        const head = await store.repos.outbox.head(item.lane);
        expect((head?.message as { request: AccessRequest } | undefined)?.request.decideBy).toBeInstanceOf(
          Date,
        );
      });

      it('hands out copies: mutating what goes in or comes out changes nothing stored', async () => {
        const input = makeRequest();
        const inserted = await store.repos.requests.insert(input);
        const snapshot = structuredClone(input);
        input.status = 'approved';
        input.approvers.push('mallory@example.com');
        input.requester.email = 'mallory@example.com';
        input.createdAt.setTime(0);
        inserted.approvers.push('eve@example.com');
        inserted.decideBy.setTime(0);

        const got = await store.repos.requests.get(snapshot.id);
        expect(got).toEqual(snapshot);
        if (!got) throw new Error('missing');
        got.status = 'denied';
        got.requester.name = 'Changed';
        got.approvers.length = 0;
        got.decideBy.setTime(1);
        expect(await store.repos.requests.get(snapshot.id)).toEqual(snapshot);

        const decided = await store.repos.requests.decide(
          snapshot.id,
          { status: 'approved', by: 'bob@example.com', byName: 'Bob' },
          at(1),
        );
        decided?.decidedAt?.setTime(0);
        expect((await store.repos.requests.get(snapshot.id))?.decidedAt).toEqual(at(1));

        const g = makeGrant({ pendingExtension: { requestId: 'x', attempts: 0, nextAttemptAt: at(3) } });
        await store.repos.grants.insert(g);
        const gSnapshot = structuredClone(g);
        const set = { expiresAt: at(500) };
        await store.repos.grants.update(g.id, { status: 'active' }, { set });
        set.expiresAt.setTime(0);
        const listed = await store.repos.grants.list({});
        const first = listed[0];
        if (first?.pendingExtension) first.pendingExtension.attempts = 99;
        expect(await store.repos.grants.get(g.id)).toEqual({ ...gSnapshot, expiresAt: at(500) });
      });
    });
  });
}

// ---------------------------------------------------------------- the collection seam itself

export interface CollectionsUnderTest {
  collections: Collections;
  dispose(): Promise<void>;
}

function grantDoc(over: Partial<GrantDoc> = {}): GrantDoc {
  const { id, ...rest } = makeGrant();
  return { _id: id, ...rest, ...over };
}

function refDoc(over: Partial<MessageRecordDoc> = {}): MessageRecordDoc {
  const { id, ...rest } = makeRef();
  return { _id: id, ...rest, ...over };
}

/** Operations of the seam that no repository uses yet, or uses only one way. */
export function runCollectionContract(name: string, make: () => Promise<CollectionsUnderTest>): void {
  describe(name, () => {
    let under: CollectionsUnderTest;
    let c: Collections;
    beforeEach(async () => {
      under = await make();
      c = under.collections;
    });
    afterEach(async () => {
      await under.dispose();
    });

    it('counts, sorts on several keys and limits', async () => {
      const a = grantDoc({ resourceId: 'b', createdAt: at(1) });
      const b = grantDoc({ resourceId: 'a', createdAt: at(2) });
      const d = grantDoc({ resourceId: 'b', createdAt: at(3) });
      for (const doc of [a, b, d]) await c.grants.insertOne(doc);
      expect(await c.grants.countDocuments({})).toBe(3);
      expect(await c.grants.countDocuments({ resourceId: 'b' })).toBe(2);
      const sorted = await c.grants.find({}, { sort: { resourceId: 1, createdAt: -1 } });
      expect(sorted.map((x) => x._id)).toEqual([b._id, d._id, a._id]);
      const limited = await c.grants.find({ resourceId: 'b' }, { sort: { createdAt: 1 }, limit: 1 });
      expect(limited).toEqual([a]);
    });

    it('deleteMany deletes exactly the matching documents and frees their unique keys', async () => {
      const a = grantDoc({ attempts: 1 });
      const b = grantDoc({ attempts: 2 });
      const kept = grantDoc({ status: 'expired', attempts: 7 });
      for (const doc of [a, b, kept]) await c.grants.insertOne(doc);
      expect(await c.grants.deleteMany({ status: 'active', attempts: { $lte: 2 } })).toBe(2);
      expect(await c.grants.find({})).toEqual([kept]);
      expect(await c.grants.countDocuments({ status: 'active' })).toBe(0);
      expect(await c.grants.deleteMany({ status: 'active' })).toBe(0);
      // The same ids and unique keys can be stored again.
      await c.grants.insertOne(a);
      expect(await c.grants.findOne({ requestId: a.requestId })).toEqual(a);
    });

    it('updateMany reports matched and modified documents', async () => {
      const a = grantDoc({ attempts: 1 });
      const b = grantDoc({ attempts: 2 });
      const other = grantDoc({ status: 'expired', attempts: 7 });
      for (const doc of [a, b, other]) await c.grants.insertOne(doc);
      const inc = await c.grants.updateMany({ status: 'active' }, { $inc: { attempts: 10 } });
      expect(inc).toEqual({ matchedCount: 2, modifiedCount: 2 });
      expect((await c.grants.findOne({ _id: a._id }))?.attempts).toBe(11);
      expect((await c.grants.findOne({ _id: other._id }))?.attempts).toBe(7);
      const same = await c.grants.updateMany({ status: 'active' }, { $set: { status: 'active' } });
      expect(same).toEqual({ matchedCount: 2, modifiedCount: 0 });
      expect(await c.grants.updateMany({ status: 'revoked' }, { $set: { attempts: 0 } })).toEqual({
        matchedCount: 0,
        modifiedCount: 0,
      });
    });

    it("findOneAndUpdate returns the document 'before' or 'after'", async () => {
      const g = grantDoc({ attempts: 1 });
      await c.grants.insertOne(g);
      const before = await c.grants.findOneAndUpdate(
        { _id: g._id },
        { $set: { attempts: 2 } },
        { returnDocument: 'before' },
      );
      expect(before).toEqual(g);
      const after = await c.grants.findOneAndUpdate(
        { _id: g._id },
        { $set: { attempts: 3 }, $unset: { startsAt: '' } },
        { returnDocument: 'after' },
      );
      const { startsAt: _gone, ...rest } = g;
      expect(after).toEqual({ ...rest, attempts: 3 });
    });

    it('upserts from the filter, $setOnInsert and $set, and applies $setOnInsert only on insert', async () => {
      const key = {
        platform: 'teams',
        subjectId: 's1',
        purpose: 'reminder',
        recipient: 'x@example.com',
      } as const;
      const created = await c.messages.findOneAndUpdate(
        key,
        { $set: { address: 'C1/m1', createdAt: at(1) }, $setOnInsert: { _id: 'first' } },
        { returnDocument: 'after', upsert: true },
      );
      expect(created).toEqual({ _id: 'first', ...key, address: 'C1/m1', createdAt: at(1) });
      const updated = await c.messages.findOneAndUpdate(
        key,
        { $set: { address: 'C2/m2', createdAt: at(2) }, $setOnInsert: { _id: 'second' } },
        { returnDocument: 'after', upsert: true },
      );
      expect(updated).toEqual({ _id: 'first', ...key, address: 'C2/m2', createdAt: at(2) });
      const beforeInsert = await c.messages.findOneAndUpdate(
        { ...key, recipient: 'y@example.com' },
        { $set: { address: 'C3/m3', createdAt: at(3) }, $setOnInsert: { _id: 'third' } },
        { returnDocument: 'before', upsert: true },
      );
      expect(beforeInsert).toBeNull();
      expect(await c.messages.countDocuments({ subjectId: 's1' })).toBe(2);
      expect(
        await c.messages.findOneAndUpdate(
          { _id: 'nope' },
          { $set: { address: 'x' } },
          { returnDocument: 'after' },
        ),
      ).toBeNull();
    });

    it('refuses an update that would break a unique key, leaving the document unchanged', async () => {
      const a = refDoc({ recipient: 'a@example.com' });
      const b = refDoc({ recipient: 'b@example.com' });
      await c.messages.insertOne(a);
      await c.messages.insertOne(b);
      await expectDuplicate(
        c.messages.findOneAndUpdate(
          { _id: b._id },
          { $set: { recipient: 'a@example.com', address: 'changed' } },
          { returnDocument: 'after' },
        ),
        'platform+subjectId+purpose+recipient',
      );
      expect(await c.messages.findOne({ _id: b._id })).toEqual(b);
      await expectDuplicate(
        c.messages.insertOne({ ...b, _id: 'other' }),
        'platform+subjectId+purpose+recipient',
      );
    });
  });
}
