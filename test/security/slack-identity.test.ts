/**
 * Threat: acting through a Slack account that is not a person the policy can name: a bot user,
 * an account deactivated since the card was sent, an account whose email Slack has not confirmed
 * (someone who typed an approver's address into a new profile), or a stranger whose display name
 * or handle imitates an approver. The bot knows people only by the email Slack holds for the signed user id.
 * Expected refusal: nothing is decided; the imitator is just another person (NOT_AN_APPROVER); a
 * bot, deactivated or unconfirmed account is nobody (no decision, no audit entry in anyone's name).
 */
import { describe, expect, it } from 'vitest';
import { click, eventually, onlyRequest } from '../support/flows.js';
import { USERS } from '../support/system.js';
import { denyDialogs, pendingRequest, quiet, refusals, useSystem } from './support.js';

const { alice } = USERS;
const sys = useSystem();

describe('Slack identity', () => {
  it('takes nothing from a name or handle: an account imitating an approver is refused as itself', async () => {
    const t = sys();
    t.fake.addUser({
      id: 'UMALLORY',
      name: 'alice',
      realName: 'Alice Approver',
      displayName: 'alice@example.com',
      email: 'mallory@example.com',
      tz: 'UTC',
    });
    const { cards } = await pendingRequest(t, [alice]);
    await click(t, { id: 'UMALLORY' }, cards.get(alice)!, 'jit.request.approve');
    await eventually(async () =>
      expect(await refusals(t, 'mallory@example.com')).toEqual(['NOT_AN_APPROVER']),
    );
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(await refusals(t, alice.email)).toEqual([]);
  });

  it('treats a bot user, a deactivated account and an unconfirmed email as nobody, even with an approver’s email', async () => {
    const t = sys();
    const { cards } = await pendingRequest(t, [alice]);
    t.fake.addUser({
      id: 'UBOT',
      name: 'bot',
      realName: 'Alice Approver',
      email: alice.email,
      tz: 'UTC',
      isBot: true,
    });
    t.fake.addUser({
      id: 'UGONE',
      name: 'gone',
      realName: 'Gone',
      email: alice.email,
      tz: 'UTC',
      deleted: true,
    });
    t.fake.addUser({
      id: 'UUNCONFIRMED',
      name: 'alice2',
      realName: 'Alice Approver',
      email: alice.email,
      tz: 'UTC',
      emailConfirmed: false,
    });
    for (const id of ['UBOT', 'UGONE', 'UUNCONFIRMED']) {
      const res = await t.slack.blockAction({
        userId: id,
        actionId: 'jit.request.approve',
        message: cards.get(alice)!,
      });
      expect(res.status).toBe(200);
    }
    await quiet();
    expect((await onlyRequest(t)).status).toBe('pending');
    expect(await t.store.repos.grants.list({})).toHaveLength(0);
    expect(denyDialogs(t)).toHaveLength(0);
    expect(await t.store.repos.audit.list({ type: 'request.approved' })).toHaveLength(0);
    expect(await refusals(t, alice.email)).toEqual([]);
    expect(t.hooks.calls).toHaveLength(0);
    // Each was asked about and refused as unknown, so the checks above are the identity rule's.
    for (const id of ['UBOT', 'UGONE', 'UUNCONFIRMED']) {
      expect(t.fake.callsTo('users.info').some((c) => c.args.user === id)).toBe(true);
    }
    // The real Alice, confirmed, is still herself: the same click from her approves.
    await click(t, alice, cards.get(alice)!, 'jit.request.approve');
    await eventually(async () => expect((await onlyRequest(t)).status).toBe('approved'));
  });
});
