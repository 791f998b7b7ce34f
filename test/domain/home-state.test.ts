import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { homeAudience } from '../../src/domain/home/audience.js';
import { filterDashboard, initialHomeState, readHomeState, turnPage } from '../../src/domain/home/state.js';
import type { AccessRequest, Grant } from '../../src/domain/model.js';
import { parseAccessConfig } from '../../src/domain/policy.js';

describe('where a home stands', () => {
  it('turns pages of a list, never below the first', () => {
    let state = turnPage(initialHomeState(), 'history', 'next');
    state = turnPage(state, 'history', 'next');
    expect(state.pages.history).toBe(2);
    state = turnPage(
      turnPage(turnPage(state, 'history', 'previous'), 'history', 'previous'),
      'history',
      'previous',
    );
    expect(state.pages.history).toBe(0);
  });

  it("pages the dashboard by the read model's cursors, and starts it afresh when a filter changes", () => {
    let state = turnPage(initialHomeState(), 'dashboard', 'next');
    expect(state.dashboard.cursors).toEqual([]); // no next page known: nothing to turn to
    state = { ...state, dashboard: { ...state.dashboard, next: 'c1' } };
    state = turnPage(state, 'dashboard', 'next');
    expect(state.dashboard).toEqual({ filters: {}, cursors: ['c1'] });
    state = filterDashboard(state, { status: 'active' });
    expect(state.dashboard).toEqual({ filters: { status: 'active' }, cursors: [] });
  });

  it('reads back a stored or tampered state safely: anything unreadable starts afresh', () => {
    expect(readHomeState({ pages: { history: 3 } }).pages.history).toBe(3);
    expect(readHomeState({ pages: { history: -1 } })).toEqual(initialHomeState());
    expect(readHomeState({ dashboard: { filters: { status: 'everything' } } })).toEqual(initialHomeState());
    expect(readHomeState({ dashboard: { filters: { user: 'not an email' } } })).toEqual(initialHomeState());
    expect(readHomeState('garbage')).toEqual(initialHomeState());
    expect(() => filterDashboard(initialHomeState(), { expiresBy: 'tomorrow' })).toThrow();
  });
});

describe('whose home shows a change', () => {
  const config = parseAccessConfig(
    parseYaml(`
admins: [ada@example.com]
resources:
  - { id: prod, name: Prod, approvers: [alice@example.com, dave@example.com], owners: [olga@example.com] }
  - { id: other, name: Other, approvers: [zed@example.com] }
`),
  );
  const resource = { id: 'prod', name: 'Prod' };

  it('a request: its requester, its chosen approvers, the resource approvers and owners, and the admins', () => {
    const request = {
      resourceId: 'prod',
      requester: { email: 'bob@example.com', name: 'Bob' },
      approvers: ['alice@example.com'],
    } as AccessRequest;
    expect(homeAudience(config, { type: 'request.submitted', request, resource }).sort()).toEqual(
      [
        'ada@example.com',
        'alice@example.com',
        'bob@example.com',
        'dave@example.com',
        'olga@example.com',
      ].sort(),
    );
  });

  it("a grant: its holder and those who see the resource's grants, not other resources' approvers", () => {
    const grant = { resourceId: 'prod', holder: { email: 'bob@example.com', name: 'Bob' } } as Grant;
    const audience = homeAudience(config, { type: 'grant.ended', grant, resource });
    expect(audience).toContain('bob@example.com');
    expect(audience).toContain('olga@example.com');
    expect(audience).not.toContain('zed@example.com');
  });
});
