import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/domain/model.js';
import { connectorFailing, grantStatus } from '../../src/domain/views/messages.js';

const resource = { id: 'prod', name: 'Production' };
const viewer = { tz: 'UTC', now: new Date('2026-11-23T09:00:00Z') };
const nameOf = (email: string) => email;
const base: Grant = {
  id: 'g1',
  requestId: 'r1',
  resourceId: 'prod',
  holder: { email: 'bob@example.com', name: 'Bob' },
  duration: 'PT4H',
  justification: 'deploy',
  status: 'provisioning',
  createdAt: new Date('2026-11-23T09:00:00Z'),
  attempts: 1,
  lastError: 'webhook answered 403',
};
const next = new Date('2026-11-23T09:00:10Z');
const lines = (v: { lines?: string[] }) => (v.lines ?? []).join(' ');

describe('what people are told about a failing connector', () => {
  it('says a retried failure keeps failing and when the next attempt is', () => {
    const v = connectorFailing({ ...base, nextAttemptAt: next }, resource, 'provision', viewer);
    expect(v.text).toBe('Granting access to Production for Bob keeps failing');
    expect(lines(v)).toContain('It is retried automatically; next attempt');
  });

  it('says a refused call is not retried, and what is left to do, per operation', () => {
    const provision = connectorFailing(base, resource, 'provision', viewer);
    expect(provision.text).toBe('Granting access to Production for Bob failed and is not retried');
    expect(lines(provision)).toContain('an administrator can end it and Bob can ask again');
    expect(provision.fields).toContainEqual({ label: 'Last error', value: 'webhook answered 403' });

    const revoke = connectorFailing({ ...base, status: 'revoking' }, resource, 'revoke', viewer);
    expect(lines(revoke)).toContain(
      'The access may still be open in Production: remove it there by hand, or fix Production and end the access again to retry.',
    );
    // A last revocation after the grant ended (nothing left to end again).
    const again = connectorFailing({ ...base, status: 'revoked' }, resource, 'revoke', viewer);
    expect(lines(again)).toContain('The access may still be open in Production: remove it there by hand.');

    const extend = connectorFailing({ ...base, status: 'active' }, resource, 'extend', viewer);
    expect(lines(extend)).toContain('Production was not told of the new expiry');
  });

  it('tells the holder a pending grant is retried, or that it was refused and is not', () => {
    expect(lines(grantStatus({ ...base, nextAttemptAt: next }, resource, viewer, nameOf))).toContain(
      'It is retried automatically',
    );
    expect(lines(grantStatus(base, resource, viewer, nameOf))).toContain(
      'Production refused it, so it is not retried automatically',
    );
    const revoking = { ...base, status: 'revoking' as const };
    expect(lines(grantStatus({ ...revoking, nextAttemptAt: next }, resource, viewer, nameOf))).toContain(
      'it is retried automatically',
    );
    expect(lines(grantStatus(revoking, resource, viewer, nameOf))).toContain(
      'Production refused the removal, so it is not retried automatically',
    );
  });
});
