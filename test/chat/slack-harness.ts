/**
 * The chat contract's harness for Slack. The delivery half is a real `SlackPlatform`, built as the
 * product builds it (`deliveryClient` with a short timeout), talking to the faithful fake Slack
 * Web API; the interactive half is the whole product (`startTestSystem`: the Bolt app on a local
 * port) receiving requests signed as Slack signs them.
 */
import { type AddressInfo, createServer } from 'node:net';
import { deliveryClient, SlackPlatform } from '../../src/bot/slack/platform.js';
import {
  type FakeMessage,
  type FakeSlack,
  type FakeSlackUser,
  startFakeSlack,
} from '../support/fake-slack.js';
import { eventually, onlyRequest, requestAccess, waitForDm } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';
import type {
  ChatContractHarness,
  Click,
  InteractionHarness,
  PrivateAnswer,
  SeenMessage,
} from './contract.js';
import { activeMarkupOf, readable, readMessage } from './slack-markup.js';

/** Short, so the hang test waits half a second, not the product's ten. */
const TIMEOUT_MS = 500;

const PAT: FakeSlackUser = {
  id: 'UPAT',
  name: 'pat',
  realName: 'Pat Kawhia',
  email: 'pat@example.com',
  tz: 'Pacific/Auckland',
};
const GONE: FakeSlackUser = {
  id: 'UGONE',
  name: 'gone',
  realName: 'Gone Away',
  email: 'gone@example.com',
  tz: 'UTC',
  deleted: true,
};

/** A local port nothing listens on (it was free a moment ago): connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A Slack message address (`{"channel","ts"}`, see src/bot/slack/platform.ts), or null. */
function parseAddress(address: string): { channel: string; ts: string } | null {
  try {
    const parsed: unknown = JSON.parse(address);
    const { channel, ts } = (parsed ?? {}) as { channel?: unknown; ts?: unknown };
    return typeof channel === 'string' && typeof ts === 'string' ? { channel, ts } : null;
  } catch {
    return null;
  }
}

/** Reads messages and people out of one fake Slack. */
function reader(fake: FakeSlack, users: readonly FakeSlackUser[]) {
  const byEmail = (email: string) => {
    const user = users.find((u) => u.email === email.toLowerCase());
    if (!user) throw new Error(`no fake Slack user with email ${email}`);
    return user;
  };
  const emailOfDm = (channel: string) => users.find((u) => fake.dmChannelFor(u.id) === channel)?.email ?? '';
  const toSeen = (message: FakeMessage): SeenMessage => ({
    id: `${message.channel}/${message.ts}`,
    recipient: emailOfDm(message.channel),
    ...readMessage(message),
  });
  const message = (address: string) => {
    const at = parseAddress(address);
    return at ? fake.message(at.channel, at.ts) : undefined;
  };
  return {
    byEmail,
    message,
    seen: async (address: string) => {
      const found = message(address);
      return found ? toSeen(found) : null;
    },
    conversationWith: async (email: string) =>
      fake.messagesIn(fake.dmChannelFor(byEmail(email).id)).map(toSeen),
  };
}

export async function makeSlackHarness(): Promise<ChatContractHarness> {
  const users = [PAT, GONE];
  const fake = await startFakeSlack({ users });
  const read = reader(fake, users);
  const now = () => Date.now();
  let interaction: TestSystem | undefined;
  return {
    platform: new SlackPlatform(deliveryClient(fake.botToken, fake.apiUrl, TIMEOUT_MS), now),
    unreachable: new SlackPlatform(
      deliveryClient(fake.botToken, `http://127.0.0.1:${await closedPort()}/api/`, TIMEOUT_MS),
      now,
    ),
    timeoutMs: TIMEOUT_MS,
    people: {
      reachable: { email: PAT.email, name: PAT.realName, tz: PAT.tz },
      unknownEmail: 'nobody@example.com',
      deactivatedEmail: GONE.email,
    },
    async deactivate(email) {
      fake.addUser({ ...read.byEmail(email), deleted: true });
    },
    seen: read.seen,
    conversationWith: read.conversationWith,
    async activeMarkup(address) {
      const message = read.message(address);
      if (!message) throw new Error(`no message at ${address}`);
      return activeMarkupOf(message);
    },
    addressesNotMade: [
      // Pat's DM exists, but no message in it has this ts (Slack: message_not_found).
      JSON.stringify({ channel: fake.dmChannelFor(PAT.id), ts: '1000000000.000100' }),
      JSON.stringify({ channel: '', ts: '' }),
      JSON.stringify({ channel: fake.dmChannelFor(PAT.id) }),
    ],
    faults: {
      serverError: () => fake.setOutage({ error: 'service_unavailable', status: 503 }),
      rateLimited: (retryAfterSec) => fake.setOutage({ error: 'ratelimited', retryAfterSec }),
      noSuchUser: () =>
        fake.setOutage({ error: 'user_not_found', methods: ['conversations.open', 'chat.postMessage'] }),
      hang: () => fake.setOutage({ error: 'service_unavailable', status: 503, hangMs: TIMEOUT_MS * 4 }),
      clear: () => fake.setOutage(null),
    },
    async interaction() {
      interaction ??= await startTestSystem();
      return slackInteraction(interaction);
    },
    async close() {
      await interaction?.close();
      await fake.close();
    },
  };
}

const { carol: requester, alice: approver, erin: outsider } = USERS;

function slackInteraction(t: TestSystem): InteractionHarness {
  const users = Object.values(USERS);
  const read = reader(t.fake, users);
  /** Cards as they were delivered, by address: what a stale client still shows. */
  const delivered = new Map<string, FakeMessage>();
  const settle = async () => {
    await t.system.slack?.idle();
    await t.delivered();
  };
  return {
    requester: requester.email,
    approver: approver.email,
    outsider: outsider.email,
    async pendingApproval() {
      await requestAccess(t, requester, { approvers: [approver.email] });
      const message = await waitForDm(t, approver, 'Approve');
      const { id } = await onlyRequest(t);
      // The address the product stored for the card: the one it will update.
      const record = await eventually(async () => {
        const [found] = await t.store.repos.messages.find({
          subjectId: id,
          purpose: 'approval-card',
          recipient: approver.email,
        });
        if (!found) throw new Error('approval card not recorded yet');
        return found;
      });
      delivered.set(record.address, message);
      return { card: record.address };
    },
    async requestStatus() {
      return (await onlyRequest(t)).status;
    },
    seen: read.seen,
    async click({ as, card, button, signature = 'valid' }): Promise<Click> {
      const message = delivered.get(card);
      if (!message) throw new Error(`no card delivered at ${card}`);
      const clicker = read.byEmail(as);
      const responseUrl = t.fake.issueResponseUrl({
        userId: clicker.id,
        channelId: message.channel,
        messageTs: message.ts,
      });
      const res = await t.slack.blockAction(
        { userId: clicker.id, actionId: button, message, responseUrl },
        signature === 'forged'
          ? { signature: `v0=${'0'.repeat(64)}` }
          : signature === 'missing'
            ? { signature: '' }
            : undefined,
      );
      const urlId = responseUrl.slice(responseUrl.indexOf('/hooks/') + '/hooks/'.length);
      return {
        status: res.status,
        async answer(withinMs = 5000): Promise<PrivateAnswer | null> {
          const until = Date.now() + withinMs;
          for (;;) {
            await t.system.slack?.idle();
            // Slack shows what is posted to a click's response_url, ephemeral, only to the clicker.
            const reply = t.fake
              .callsTo('response_url')
              .find(
                (c) =>
                  c.args.response_url === urlId &&
                  c.response.ok &&
                  c.args.response_type !== 'in_channel' &&
                  c.args.replace_original !== true &&
                  c.args.delete_original !== true,
              );
            if (reply) {
              return { to: clicker.email, text: readable({ type: 'mrkdwn', text: String(reply.args.text) }) };
            }
            if (Date.now() > until) return null;
            await new Promise((r) => setTimeout(r, 20));
          }
        },
      };
    },
    async visibleTo(email) {
      const user = read.byEmail(email);
      const messages = (await read.conversationWith(email)).flatMap((m) => [
        m.notification,
        m.title,
        m.body,
        ...m.buttons,
      ]);
      const ephemerals = t.fake.ephemeralsTo(user.id).flatMap((e) => {
        const seen = readMessage(e);
        return [seen.notification, seen.title, seen.body, ...seen.buttons];
      });
      return [...messages, ...ephemerals].filter((text) => text !== '');
    },
    settle,
  };
}
