import { afterEach, describe, expect, it } from 'vitest';
import { collectText } from '../support/fake-slack.js';
import { click, dmContaining, eventually, hasButton, requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, TEST_POLICY, type TestSystem, USERS } from '../support/system.js';

const { alice, carol } = USERS;
let t: TestSystem;
afterEach(async () => {
  await t.close();
});

describe('what people are told', () => {
  it('tells the requester which approvers could not be reached on Slack', async () => {
    t = await startTestSystem({
      policy: TEST_POLICY.replace(
        'approvers: [alice@example.com, dave@example.com, carol@example.com]',
        'approvers: [alice@example.com, ghost@example.com]',
      ),
    });
    await requestAccess(t, carol, { approvers: [alice.email, 'ghost@example.com'] });
    await waitForDm(t, alice, 'Approve');
    await waitForDm(t, carol, 'was sent to');
    const notice = await waitForDm(t, carol, 'Could not reach');
    expect(collectText(notice.blocks)).toContain(
      'Could not reach ghost@example.com on Slack; the others have it.',
    );
    expect(hasButton(notice, 'jit.request.cancel')).toBe(true);
    // Recorded as undeliverable, and sent once.
    const undeliverable = await t.store.repos.audit.list({ type: 'message.undeliverable' });
    expect(undeliverable.map((e) => e.details?.recipient)).toEqual(['ghost@example.com']);
    await t.delivered();
    expect(
      t.fake.messagesIn(t.fake.dmChannelFor(carol.id)).filter((m) => m.text.includes('Could not reach')),
    ).toHaveLength(1);
  });

  it("opens a person's direct-message channel once, not for every message (Slack limits conversations.open to 50 a minute)", async () => {
    t = await startTestSystem();
    const { bob } = USERS;
    for (const requester of [carol, bob]) {
      await t.system.service.submit({
        requester: { email: requester.email, name: requester.realName },
        resourceId: 'acme-prod',
        approvers: [alice.email],
        duration: 'PT4H',
        justification: 'Investigate ticket 42',
        submissionKey: `open-once-${requester.id}`,
      });
    }
    await t.delivered();
    const cards = t.fake
      .messagesIn(t.fake.dmChannelFor(alice.id))
      .filter((m) => hasButton(m, 'jit.request.approve'));
    expect(cards).toHaveLength(2);
    const opened = t.fake.callsTo('conversations.open').map((c) => c.args.users);
    expect(opened.filter((u) => u === alice.id)).toHaveLength(1);
  });

  it('asks Slack about a person once: who Carol is, learned from her slash command, also addresses her messages', async () => {
    t = await startTestSystem();
    await requestAccess(t, carol, { approvers: [alice.email] });
    await waitForDm(t, alice, 'Approve');
    await t.delivered();
    expect(t.fake.messagesIn(t.fake.dmChannelFor(carol.id)).length).toBeGreaterThan(0);
    // Her user id was resolved once (users.info, from the signed request); her email was never
    // looked up to reach her, and Alice, found by email, was not asked about again by id.
    expect(t.fake.callsTo('users.info').filter((c) => c.args.user === carol.id)).toHaveLength(1);
    expect(t.fake.callsTo('users.lookupByEmail').filter((c) => c.args.email === carol.email)).toHaveLength(0);
    expect(t.fake.callsTo('users.lookupByEmail').filter((c) => c.args.email === alice.email)).toHaveLength(1);
    expect(t.fake.callsTo('users.info').filter((c) => c.args.user === alice.id)).toHaveLength(0);
  });

  it('shows typed text verbatim, so a bare @here, #channel or link in it is not turned into a mention or link', async () => {
    t = await startTestSystem();
    await requestAccess(t, carol, {
      approvers: [alice.email],
      justification: '@here see #general and https://evil.example <@UALICE> <!channel>',
    });
    const card = await waitForDm(t, alice, 'Approve');
    const field = (card.blocks ?? [])
      .flatMap((b) =>
        Array.isArray(b.fields) ? (b.fields as Array<{ text: string; verbatim?: boolean }>) : [],
      )
      .find((f) => f.text.includes('Justification'));
    expect(field?.verbatim).toBe(true);
    expect(field?.text).toContain('&lt;@UALICE&gt; &lt;!channel&gt;');
    expect(field?.text).not.toMatch(/<[@!]/);
  });

  it('edits every message of a request even when the decision lands while they are still being sent', async () => {
    t = await startTestSystem();
    t.fake.setLatency(300, 'chat.postMessage');
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, 'Approve');
    // Carol's own status message is still on its way when Alice approves.
    expect(dmContaining(t, carol, 'was sent to')).toBeUndefined();
    await click(t, alice, card, 'jit.request.approve');
    await eventually(() => {
      const status = dmContaining(t, carol, 'Your access request');
      expect(status).toBeDefined();
      expect(collectText(status?.blocks)).toContain('Approved by Alice Approver');
      expect(hasButton(status, 'jit.request.cancel')).toBe(false);
    }, 8000);
  });

  it('answers a slash command from someone the bot cannot identify, privately, without opening the form', async () => {
    t = await startTestSystem();
    t.fake.addUser({
      id: 'UGONE',
      name: 'gone',
      realName: 'Gone',
      email: 'gone@example.com',
      tz: 'UTC',
      deleted: true,
    });
    const res = await t.slack.slashCommand({
      command: '/request-access',
      userId: 'UGONE',
      channelId: 'CXYZ',
    });
    expect(res.status).toBe(200);
    const reply = await t.fake.waitFor('response_url');
    expect(String(reply.args.text)).toContain('Slack gave it no confirmed email address');
    expect(reply.args.response_type).toBe('ephemeral');
    expect(t.fake.callsTo('views.open')).toHaveLength(0);
  });
});
