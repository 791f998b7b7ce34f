/**
 * Threat: a form submission whose `private_metadata` (the state the bot handed Slack with the
 * view) was edited: not ours at all, a duration the form never offered, an extension of a grant
 * that does not exist or belongs to someone else. (Teams card data, `action.data`, is the same
 * threat on Teams: not yet covered, the Teams card actions have not landed on main.)
 * Expected refusal: the metadata is parsed with zod and re-checked against the store and the
 * policy; the person sees an inline error or "could not be read", nothing is stored or sent.
 */
import { describe, expect, it } from 'vitest';
import { collectText } from '../support/fake-slack.js';
import { click, eventually } from '../support/flows.js';
import { USERS } from '../support/system.js';
import { blockOf, filledForm, pendingRequest, quiet, submitTampered, useSystem } from './support.js';

const { alice, bob, carol } = USERS;
const sys = useSystem();

describe('tampered private_metadata', () => {
  it('refuses a submission whose private_metadata was tampered with, inline, and sends nothing', async () => {
    const t = sys();
    const view = await filledForm(t, carol);
    const values = { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Tampered' };
    const meta = JSON.parse(view.private_metadata) as Record<string, unknown>;
    const mark = t.fake.checkpoint();

    // Not our metadata at all.
    for (const privateMetadata of ['{not json', JSON.stringify({ ...meta, av: -1 }), 'x'.repeat(3000)]) {
      const res = await submitTampered(t, carol, view, values, () => {}, {
        private_metadata: privateMetadata,
      });
      expect(res.body).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
      expect(collectText((res.body as { view: { blocks: unknown[] } }).view.blocks)).toContain(
        'This form could not be read, so nothing was sent. Close it and start again.',
      );
    }

    // A duration the form never offered is not taken as chosen.
    const longer = await submitTampered(t, carol, view, values, () => {}, {
      private_metadata: JSON.stringify({ ...meta, duration: 'P30D' }),
    });
    expect(longer.body).toEqual({
      response_action: 'errors',
      errors: { [blockOf(view, 'jit.form.custom_amount')]: 'Choose a duration.' },
    });

    // An extension of a grant that does not exist.
    const extension = await submitTampered(t, carol, view, values, () => {}, {
      private_metadata: JSON.stringify({ ...meta, kind: 'extension', grantId: 'someone-elses-grant' }),
    });
    expect(extension.status).toBe(200);
    expect((extension.body as { response_action?: string }).response_action).toBe('errors');

    await quiet();
    expect(await t.store.repos.requests.list({})).toHaveLength(0);
    expect(t.fake.calls.filter((c) => c.seq >= mark && c.method === 'chat.postMessage')).toHaveLength(0);
  });

  it('refuses an extension of someone else’s access named in tampered private_metadata', async () => {
    const t = sys();
    const { cards } = await pendingRequest(t, [alice]);
    await click(t, alice, cards.get(alice)!, 'jit.request.approve');
    const grant = await eventually(async () => {
      const [g] = await t.store.repos.grants.list({ status: 'active' });
      expect(g).toBeDefined();
      return g!;
    });

    // Bob, Carol's colleague, edits his own form's metadata to extend Carol's grant.
    const view = await filledForm(t, bob);
    const meta = JSON.parse(view.private_metadata) as Record<string, unknown>;
    const mark = t.fake.checkpoint();
    const res = await submitTampered(
      t,
      bob,
      view,
      { 'jit.form.approvers': [alice.email], 'jit.form.justification': 'Mine now' },
      () => {},
      { private_metadata: JSON.stringify({ ...meta, kind: 'extension', grantId: grant.id }) },
    );
    expect(res.body).toMatchObject({ response_action: 'errors' });
    expect(Object.values((res.body as { errors: Record<string, string> }).errors)).toEqual([
      'You can only extend your own access.',
    ]);
    await quiet();
    expect(await t.store.repos.requests.list({ requesterEmail: bob.email })).toHaveLength(0);
    expect(t.fake.calls.filter((c) => c.seq >= mark && c.method === 'chat.postMessage')).toHaveLength(0);
    expect((await t.store.repos.grants.get(grant.id))?.expiresAt).toEqual(grant.expiresAt);
  });
});
