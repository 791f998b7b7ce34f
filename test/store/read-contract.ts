/**
 * The store side of the read model (dashboards, reports, history), run on every store like
 * ./contract.ts: grant searches with a viewer's scope, filters and keyset pages; batch reads by id;
 * a resource's history newest first.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessRequest, AuditEvent, Grant } from '../../src/domain/model.js';
import type { GrantSearch } from '../../src/domain/ports.js';
import type { Store } from '../../src/store/index.js';

const T0 = new Date('2030-03-01T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const ALL = ['provisioning', 'active', 'revoking', 'expired', 'revoked'] as const;

function grant(id: string, over: Partial<Grant> = {}): Grant {
  return {
    id,
    requestId: `req-${id}`,
    resourceId: 'db',
    holder: { email: 'alice@example.com', name: 'Alice' },
    duration: 'PT1H',
    justification: 'incident 42',
    status: 'expired',
    createdAt: at(0),
    startsAt: at(1),
    expiresAt: at(61),
    attempts: 0,
    ...over,
  };
}

function request(id: string, over: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id,
    kind: 'access',
    resourceId: 'db',
    requester: { email: 'alice@example.com', name: 'Alice' },
    approvers: ['bob@example.com'],
    duration: 'PT1H',
    justification: 'incident 42',
    approval: 'manual',
    status: 'approved',
    createdAt: at(0),
    decideBy: at(60),
    submissionKey: `sub-${id}`,
    ...over,
  };
}

const ids = (grants: Grant[]) => grants.map((g) => g.id);

export function runReadContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name}: reads for dashboards and reports`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    /** g1…g6 over two resources and two holders, created a minute apart (g3 and g4 at the same time). */
    async function seed() {
      const docs = [
        grant('g1', { createdAt: at(1), resourceId: 'db', status: 'expired', expiresAt: at(100) }),
        grant('g2', { createdAt: at(2), resourceId: 'web', status: 'revoked' }),
        grant('g3', {
          createdAt: at(3),
          resourceId: 'db',
          status: 'active',
          holder: { email: 'bob@example.com', name: 'Bob' },
          expiresAt: at(300),
        }),
        grant('g4', { createdAt: at(3), resourceId: 'web', status: 'provisioning' }),
        grant('g5', { createdAt: at(5), resourceId: 'web', status: 'revoking', expiresAt: at(200) }),
        grant('g6', {
          createdAt: at(6),
          resourceId: 'db',
          status: 'revoked',
          holder: { email: 'bob@example.com', name: 'Bob' },
        }),
      ];
      for (const g of docs) await store.repos.grants.insert(g);
    }

    it('finds grants newest first by status, resource, holder and expiry, and counts them', async () => {
      await seed();
      const search = (s: Partial<GrantSearch>) => store.repos.grants.search({ status: ALL, ...s }, 100);
      expect(ids(await search({}))).toEqual(['g6', 'g5', 'g4', 'g3', 'g2', 'g1']);
      expect(ids(await search({ status: ['expired', 'revoked'] }))).toEqual(['g6', 'g2', 'g1']);
      expect(ids(await search({ resourceIds: ['web'] }))).toEqual(['g5', 'g4', 'g2']);
      expect(ids(await search({ holderEmail: 'bob@example.com' }))).toEqual(['g6', 'g3']);
      expect(ids(await search({ expiresFrom: at(100), expiresTo: at(250) }))).toEqual(['g5', 'g1']);
      expect(ids(await search({ createdSince: at(3) }))).toEqual(['g6', 'g5', 'g4', 'g3']);
      expect(await store.repos.grants.count({ status: ['expired', 'revoked'] })).toBe(3);
      expect(await store.repos.grants.count({ status: ALL, expiresFrom: at(150) })).toBe(2);
    });

    it('keeps to the branches of a scope: these resources, or this holder', async () => {
      await seed();
      // Bob approves `db` and sees his own grants: every db grant, none of Alice's on web.
      const scope: GrantSearch['anyOf'] = [{ resourceIds: ['db'] }, { holderEmail: 'bob@example.com' }];
      expect(ids(await store.repos.grants.search({ status: ALL, anyOf: scope }, 100))).toEqual([
        'g6',
        'g3',
        'g1',
      ]);
      // A filter on web within that scope: nothing of Alice's on web.
      expect(
        ids(await store.repos.grants.search({ status: ALL, anyOf: scope, resourceIds: ['web'] }, 100)),
      ).toEqual([]);
      // Only her own: a filter for someone else finds nothing.
      const own: GrantSearch['anyOf'] = [{ holderEmail: 'alice@example.com' }];
      expect(
        ids(
          await store.repos.grants.search({ status: ALL, anyOf: own, holderEmail: 'bob@example.com' }, 100),
        ),
      ).toEqual([]);
      expect(
        ids(await store.repos.grants.search({ status: ALL, anyOf: own, resourceIds: ['db'] }, 100)),
      ).toEqual(['g1']);
      expect(await store.repos.grants.count({ status: ALL, anyOf: scope })).toBe(3);
    });

    it('pages through grants with a keyset cursor, grants created at the same moment included', async () => {
      await seed();
      const seen: string[] = [];
      const search: GrantSearch = { status: ALL };
      for (let round = 0; round < 10; round++) {
        const page = await store.repos.grants.search(search, 2);
        seen.push(...ids(page));
        const last = page.at(-1);
        if (page.length < 2 || !last) break;
        search.after = { createdAt: last.createdAt, id: last.id };
      }
      expect(seen).toEqual(['g6', 'g5', 'g4', 'g3', 'g2', 'g1']);
      // The cursor does not change the total.
      expect(await store.repos.grants.count({ status: ALL, after: { createdAt: at(3), id: 'g4' } })).toBe(6);
    });

    it('reads requests and grants by id in one call, ignoring ids that do not exist', async () => {
      await seed();
      await store.repos.requests.insert(request('r1'));
      await store.repos.requests.insert(request('r2'));
      expect(
        (await store.repos.requests.getMany(['r2', 'r1', 'nope', 'r1'])).map((r) => r.id).sort(),
      ).toEqual(['r1', 'r2']);
      expect(ids(await store.repos.grants.getMany(['g2', 'g9'])).sort()).toEqual(['g2']);
      expect(await store.repos.grants.getMany([])).toEqual([]);
    });

    it("reads a resource's history newest first, of the asked types, page by page", async () => {
      const event = (id: string, over: Partial<AuditEvent>): AuditEvent => ({
        id,
        type: 'grant.activated',
        at: at(0),
        actor: 'system',
        resourceId: 'db',
        grantId: 'g1',
        ...over,
      });
      for (const e of [
        event('e1', { at: at(1) }),
        event('e2', { at: at(2), type: 'access.used', actor: 'alice@example.com' }),
        event('e3', { at: at(2), type: 'access.used', actor: 'alice@example.com' }),
        event('e4', { at: at(3), type: 'request.created' }),
        event('e5', { at: at(4), resourceId: 'web' }),
        event('e6', { at: at(5), type: 'grant.expired' }),
      ])
        await store.repos.audit.append(e);
      const types = ['grant.activated', 'access.used', 'grant.expired'] as const;
      const all = await store.repos.audit.history({ resourceId: 'db', types: [...types], limit: 10 });
      expect(all.map((e) => e.id)).toEqual(['e6', 'e3', 'e2', 'e1']);
      const first = await store.repos.audit.history({ resourceId: 'db', types: [...types], limit: 2 });
      expect(first.map((e) => e.id)).toEqual(['e6', 'e3']);
      const last = first.at(-1) as AuditEvent;
      const second = await store.repos.audit.history({
        resourceId: 'db',
        types: [...types],
        limit: 2,
        before: { at: last.at, id: last.id },
      });
      expect(second.map((e) => e.id)).toEqual(['e2', 'e1']);
    });
  });
}
