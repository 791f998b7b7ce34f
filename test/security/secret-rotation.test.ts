/**
 * Rotating a secret (docs/security.md, "Secrets: how they are held and rotated"): a new value is set
 * and the app restarted over the same store. Expected: from the restart on, only the new value works
 * and nothing the bot holds still depends on the old one: a webhook call retried after the rotation is
 * signed with the new secret; Slack requests signed with the old signing secret, API calls with the
 * old token and links signed with the old link secret are all refused, and the new ones accepted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/connectors/signing.js';
import { click, eventually, requestAccess, waitForDm } from '../support/flows.js';
import { createSlackSender } from '../support/slack-requests.js';
import { HOOK_SECRET, SIGNING_SECRET, startTestSystem, type TestSystem, USERS } from '../support/system.js';

const { alice, carol } = USERS;
const NEW_HOOK_SECRET = 'rotated-hook-secret-0123456789';
const NEW_SIGNING_SECRET = 'rotated-signing-secret-0123456789';
const OLD_API_TOKEN = 'old-api-token-0123456789abcdef0123456789ab';
const NEW_API_TOKEN = 'new-api-token-0123456789abcdef0123456789ab';
const OLD_LINK_SECRET = 'old-link-secret-0123456789abcdef0123456789';
const NEW_LINK_SECRET = 'new-link-secret-0123456789abcdef0123456789';

let t: TestSystem | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Whether a received webhook call verifies with `secret`. */
function signedWith(
  call: { headers: Record<string, string | string[] | undefined>; rawBody: string },
  secret: string,
  now: Date,
): boolean {
  const h = (name: string) => String(call.headers[name] ?? '');
  return verifySignature(secret, h('x-jit-timestamp'), call.rawBody, h('x-jit-signature'), now);
}

describe('rotating a secret', () => {
  it('signs a webhook call retried after the rotation with the new secret, never the old one', async () => {
    const opts: Parameters<typeof startTestSystem>[0] = {};
    t = await startTestSystem(opts);
    t.hooks.setStatus(503);
    await requestAccess(t, carol, { approvers: [alice.email] });
    await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
    await eventually(async () => expect((await t?.store.repos.grants.list({}))?.[0]?.attempts).toBe(1));
    const failed = t.hooks.calls.at(-1);
    expect(failed && signedWith(failed, HOOK_SECRET, t.clock.now())).toBe(true);

    // The receiver and the bot both switch to the new secret; the bot restarts.
    opts.secretFor = () => NEW_HOOK_SECRET;
    await t.restart();
    const before = t.hooks.calls.length;
    t.hooks.setStatus(200);
    await t.runner.advance(60_000);
    await waitForDm(t, carol, 'is active until');
    const retried = t.hooks.calls.slice(before);
    expect(retried.length).toBeGreaterThan(0);
    for (const call of retried) {
      expect(signedWith(call, NEW_HOOK_SECRET, t.clock.now())).toBe(true);
      expect(signedWith(call, HOOK_SECRET, t.clock.now())).toBe(false);
    }
    expect((await t.store.repos.grants.list({}))[0]?.status).toBe('active');
  });

  it('refuses Slack requests signed with the old signing secret after the rotation, and takes the new', async () => {
    const opts: Parameters<typeof startTestSystem>[0] = {};
    t = await startTestSystem(opts);
    const command = { command: '/request-access', text: 'acme-prod', userId: carol.id };
    expect((await t.slack.slashCommand(command)).status).toBe(200);
    await t.fake.waitFor('views.open');

    opts.signingSecret = NEW_SIGNING_SECRET;
    await t.restart();
    const oldSender = createSlackSender({
      url: `http://127.0.0.1:${t.system.port}/slack/events`,
      signingSecret: SIGNING_SECRET,
      users: Object.values(USERS),
      issueTriggerId: (userId) => t?.fake.issueTriggerId(userId) ?? '',
    });
    const opened = t.fake.callsTo('views.open').length;
    expect((await oldSender.slashCommand(command)).status).toBe(401);
    // t.slack now signs with the new secret
    expect((await t.slack.slashCommand(command)).status).toBe(200);
    await eventually(() => expect(t?.fake.callsTo('views.open')).toHaveLength(opened + 1));
  });

  it('refuses the old API token after the rotation, and takes the new', async () => {
    const opts: Parameters<typeof startTestSystem>[0] = { apiToken: OLD_API_TOKEN };
    t = await startTestSystem(opts);
    const grants = (token: string) =>
      fetch(`http://127.0.0.1:${t?.system.port}/api/v1/grants`, {
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await grants(OLD_API_TOKEN)).status).toBe(200);
    opts.apiToken = NEW_API_TOKEN;
    await t.restart();
    expect((await grants(OLD_API_TOKEN)).status).toBe(401);
    expect((await grants(NEW_API_TOKEN)).status).toBe(200);
  });

  it('refuses a request link signed with the old link secret after the rotation, and takes a new link', async () => {
    const opts: Parameters<typeof startTestSystem>[0] = {
      apiToken: OLD_API_TOKEN,
      publicUrl: 'https://jit.example.com',
      linkSigningSecret: OLD_LINK_SECRET,
    };
    t = await startTestSystem(opts);
    // The request link the API hands out for carol and acme-prod.
    const link = async () => {
      const res = await fetch(
        `http://127.0.0.1:${t?.system.port}/api/v1/access?email=${encodeURIComponent(carol.email)}&resource=acme-prod`,
        { headers: { authorization: `Bearer ${OLD_API_TOKEN}` } },
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as { requestUrl?: string };
      expect(body.requestUrl).toBeTruthy();
      return new URL(String(body.requestUrl));
    };
    const open = (url: URL) => fetch(`http://127.0.0.1:${t?.system.port}${url.pathname}${url.search}`);
    const handedOut = await link();
    expect((await open(handedOut)).status).toBe(200);

    opts.linkSigningSecret = NEW_LINK_SECRET;
    await t.restart();
    expect((await open(handedOut)).status).toBe(403);
    expect((await open(await link())).status).toBe(200);
  });
});
