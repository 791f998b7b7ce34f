/**
 * The chat contract's harness for Teams. The delivery half is a real `TeamsPlatform` on the real
 * botbuilder `CloudAdapter`, built as the product builds it but with a short timeout, talking to
 * the faithful fake Bot Connector with authentication on both ways: the people it reaches installed
 * the app first, announced to the bot's `/api/messages` (on the app's own HTTP server) by signed
 * `installationUpdate` activities, so their conversation references were stored by the product's
 * own code (src/bot/teams/conversations.ts).
 *
 * The interactive half is the whole product (`startTestSystem` serving Teams beside Slack) with
 * people who installed the Teams app: the request is made through the domain (the Teams request form
 * is another branch's), the approval card reaches the approver's Teams chat through the outbox, and
 * a click is a signed `adaptiveCard/action` invoke whose answer is the invoke response, which Teams
 * shows to the clicker alone.
 */
import { type AddressInfo, createServer } from 'node:net';
import pino from 'pino';
import {
  createTeamsAdapter,
  type TeamsAdapter,
  type TeamsAdapterSettings,
} from '../../src/bot/teams/adapter.js';
import { createTeamsBot } from '../../src/bot/teams/bot.js';
import { TeamsIdentity } from '../../src/bot/teams/identity.js';
import { TeamsPlatform } from '../../src/bot/teams/platform.js';
import { createHttpServer, type HttpServer } from '../../src/http/server.js';
import { createMemoryStore, type Store } from '../../src/store/index.js';
import {
  type FakeBotConnector,
  type FakeTeamsUser,
  type StoredActivity,
  startFakeBotConnector,
} from '../support/fake-bot-connector.js';
import { pressButton } from '../support/teams-flows.js';
import { startTeamsSystem, type TeamsTestSystem, teamsUser } from '../support/teams-system.js';
import type { ChatContractHarness, Click, InteractionHarness, SeenMessage } from './contract.js';
import { activeMarkupOf, readActivity } from './teams-markup.js';

/** Short, so the hang test waits half a second, not the product's ten. */
const TIMEOUT_MS = 500;
export const APP_ID = '00000000-0000-0000-0000-00000000c0de';

export const PAT: FakeTeamsUser = {
  id: '29:1pat',
  aadObjectId: 'aad-pat',
  name: 'Pat Kawhia',
  email: 'pat@example.com',
  userPrincipalName: 'pat@example.com',
  tz: 'Pacific/Auckland',
};
/** Known to the bot, reached by no test before a fault: the one whose reach asks Teams under a fault. */
export const KIM: FakeTeamsUser = {
  id: '29:1kim',
  aadObjectId: 'aad-kim',
  name: 'Kim Larsen',
  email: 'kim@example.com',
  userPrincipalName: 'kim@example.com',
  tz: 'Europe/Copenhagen',
};
export const GONE: FakeTeamsUser = {
  id: '29:1gone',
  aadObjectId: 'aad-gone',
  name: 'Gone Away',
  email: 'gone@example.com',
  userPrincipalName: 'gone@example.com',
  tz: 'UTC',
};

/** A local port nothing listens on (it was free a moment ago): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The bot (adapter, route on the app's HTTP server, store) against a fake connector. */
export interface TeamsBotUnderTest {
  fake: FakeBotConnector;
  store: Store;
  http: HttpServer;
  settings: TeamsAdapterSettings;
  adapter: TeamsAdapter;
  platform: TeamsPlatform;
  /** The bot's `/api/messages`. */
  botUrl: string;
  close(): Promise<void>;
}

export async function startTeamsBot(options: {
  users: FakeTeamsUser[];
  /** Default: authentication on, with this app id. */
  appId?: string | null;
  timeoutMs?: number;
  log?: pino.Logger;
}): Promise<TeamsBotUnderTest> {
  const appId = options.appId === undefined ? APP_ID : options.appId;
  const fake = await startFakeBotConnector({ users: options.users, ...(appId ? { auth: { appId } } : {}) });
  const log = options.log ?? pino({ level: 'silent' });
  const store = createMemoryStore();
  const settings: TeamsAdapterSettings = appId
    ? {
        appId,
        appPassword: 'not-used-with-a-fake-token-source',
        appType: 'MultiTenant',
        dangerouslyAllowUnauthenticated: false,
        timeoutMs: options.timeoutMs ?? TIMEOUT_MS,
        fake: { openIdMetadataUrl: fake.openIdMetadataUrl, outboundToken: async () => fake.botToken(appId) },
      }
    : {
        appType: 'MultiTenant',
        dangerouslyAllowUnauthenticated: true,
        timeoutMs: options.timeoutMs ?? TIMEOUT_MS,
      };
  const adapter = createTeamsAdapter(settings, log);
  const http = createHttpServer(log);
  http.route(
    adapter.route(
      createTeamsBot({
        conversations: store.repos.conversations,
        identity: new TeamsIdentity(),
        now: () => new Date(),
        log,
      }),
    ),
  );
  const port = await http.listen(0, '127.0.0.1');
  const platform = new TeamsPlatform({
    adapter,
    conversations: store.repos.conversations,
    now: Date.now,
    log,
  });
  return {
    fake,
    store,
    http,
    settings,
    adapter,
    platform,
    botUrl: `http://127.0.0.1:${port}/api/messages`,
    async close() {
      await http.close();
      await fake.close();
    },
  };
}

/** A Teams message address (`{"reference","activityId"}`, see src/bot/teams/platform.ts), or null. */
export function parseAddress(address: string): { conversationId: string; activityId: string } | null {
  try {
    const parsed = JSON.parse(address) as {
      reference?: { conversation?: { id?: unknown } };
      activityId?: unknown;
    };
    const conversationId = parsed.reference?.conversation?.id;
    const { activityId } = parsed;
    return typeof conversationId === 'string' && typeof activityId === 'string'
      ? { conversationId, activityId }
      : null;
  } catch {
    return null;
  }
}

export async function makeTeamsHarness(): Promise<ChatContractHarness> {
  const bot = await startTeamsBot({ users: [PAT, KIM, GONE] });
  let interaction: TeamsTestSystem | undefined;
  const { fake, store } = bot;
  // Each person installs the app; Teams tells the bot, which keeps their conversation reference.
  for (const user of [PAT, KIM, GONE]) {
    const answer = await fake.send(bot.botUrl, fake.installationUpdate(user.id));
    if (answer.status !== 200) throw new Error(`installing for ${user.email}: ${answer.status}`);
    if (!(await store.repos.conversations.get(user.email ?? '')))
      throw new Error(`no reference for ${user.email}`);
  }
  fake.deactivate(GONE.id);

  const unreachableAdapter = createTeamsAdapter(
    {
      ...bot.settings,
      fake: { ...bot.settings.fake, serviceUrl: `http://127.0.0.1:${await closedPort()}/teams/` },
    },
    pino({ level: 'silent' }),
  );
  const unreachable = new TeamsPlatform({
    adapter: unreachableAdapter,
    conversations: store.repos.conversations,
    now: Date.now,
  });

  const toSeen = (stored: StoredActivity): SeenMessage => ({
    id: `${stored.conversationId}/${stored.id}`,
    recipient: fake.emailInConversation(stored.conversationId) ?? '',
    ...readActivity(stored.activity),
  });
  const stored = (address: string) => {
    const at = parseAddress(address);
    return at ? fake.activity(at.conversationId, at.activityId) : undefined;
  };
  const patReference = JSON.parse((await store.repos.conversations.get(PAT.email ?? ''))?.reference ?? '{}');

  return {
    platform: bot.platform,
    unreachable,
    timeoutMs: TIMEOUT_MS,
    people: {
      reachable: { email: PAT.email ?? '', name: PAT.name, tz: PAT.tz ?? '' },
      unknownEmail: 'nobody@example.com',
      deactivatedEmail: GONE.email ?? '',
      lookupEmail: KIM.email ?? '',
    },
    async deactivate(email) {
      fake.deactivate(fake.userByEmail(email).id);
    },
    async seen(address) {
      const found = stored(address);
      return found ? toSeen(found) : null;
    },
    async conversationWith(email) {
      return fake.activitiesIn(fake.personalConversationId(fake.userByEmail(email).id)).map(toSeen);
    },
    async activeMarkup(address) {
      const found = stored(address);
      if (!found) throw new Error(`no message at ${address}`);
      return activeMarkupOf(found.activity);
    },
    addressesNotMade: [
      // Pat's chat exists, but holds no message with this id (Teams: 404 NotFound).
      JSON.stringify({ reference: patReference, activityId: '1000000000000' }),
      // A conversation Teams does not have (404 ConversationNotFound).
      JSON.stringify({
        reference: { ...patReference, conversation: { ...patReference.conversation, id: 'a:1nosuchchat' } },
        activityId: '1000000000000',
      }),
      // Not an address the adapter makes: no activity id, or a reference missing its parts.
      JSON.stringify({ reference: patReference }),
      JSON.stringify({ reference: { conversation: patReference.conversation }, activityId: '1' }),
      JSON.stringify({ reference: { ...patReference, serviceUrl: 'file:///etc/passwd' }, activityId: '1' }),
    ],
    faults: {
      serverError: () => fake.setFault({ status: 503 }),
      rateLimited: (retryAfterSec) => fake.setFault({ status: 429, retryAfterSec }),
      noSuchUser: () =>
        fake.setFault({ status: 403, code: 'BotNotInConversationRoster', operations: ['send', 'create'] }),
      hang: () => fake.setFault({ status: 503, hangMs: TIMEOUT_MS * 4 }),
      clear: () => fake.setFault(null),
    },
    async interaction() {
      interaction ??= await startTeamsSystem({
        users: [REQUESTER, APPROVER, OUTSIDER],
        policy: INTERACTION_POLICY,
      });
      return teamsInteraction(interaction);
    },
    async close() {
      await interaction?.close();
      await bot.close();
    },
  };
}

const REQUESTER = teamsUser('tara', 'Tara Requester', 'Asia/Kolkata');
const APPROVER = teamsUser('tina', 'Tina Approver', 'Australia/Sydney');
const OUTSIDER = teamsUser('otto', 'Otto Outsider', 'America/Chicago');
const INTERACTION_POLICY = `
defaults: { approvalWindow: PT1H }
resources:
  - id: teams-box
    name: Teams box
    approvers: [${APPROVER.email}]
    connector: { type: log }
`;

/** A card as its reader sees it: heading and body. */
function readCard(card: Record<string, unknown>): string {
  const seen = readActivity({
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
  });
  return `${seen.title}\n${seen.body}`;
}

function teamsInteraction(s: TeamsTestSystem): InteractionHarness {
  const { connector, t } = s;
  /** Cards as they were delivered, by address: what a stale client still shows. */
  const delivered = new Map<string, StoredActivity>();
  /** Invoke answers, by the email of the person Teams showed them to. */
  const answers = new Map<string, string[]>();
  const toSeen = (stored: StoredActivity): SeenMessage => ({
    id: `${stored.conversationId}/${stored.id}`,
    recipient: connector.emailInConversation(stored.conversationId) ?? '',
    ...readActivity(stored.activity),
  });
  return {
    requester: REQUESTER.email ?? '',
    approver: APPROVER.email ?? '',
    outsider: OUTSIDER.email ?? '',
    async pendingApproval() {
      const id = await s.submit({
        requester: REQUESTER.email ?? '',
        resourceId: 'teams-box',
        approvers: [APPROVER.email ?? ''],
        duration: 'PT4H',
        justification: 'Investigate ticket 42',
      });
      const card = await s.recorded(id, 'approval-card', APPROVER.email ?? '');
      const [record] = await t.store.repos.messages.find({ subjectId: id, purpose: 'approval-card' });
      if (!record) throw new Error('approval card not recorded');
      delivered.set(record.address, card);
      return { card: record.address };
    },
    async requestStatus() {
      const requests = await t.store.repos.requests.list({});
      if (requests.length !== 1) throw new Error(`${requests.length} requests stored, not one`);
      return requests[0]?.status ?? '';
    },
    async seen(address) {
      const at = parseAddress(address);
      const found = at ? connector.activity(at.conversationId, at.activityId) : undefined;
      return found ? toSeen(found) : null;
    },
    async click({ as, card, button, signature = 'valid' }): Promise<Click> {
      const on = delivered.get(card);
      if (!on) throw new Error(`no card delivered at ${card}`);
      const { result, answer } = await pressButton(
        connector,
        s.botUrl,
        connector.userByEmail(as).id,
        on,
        button,
        {
          signing: signature,
        },
      );
      const text =
        answer.kind === 'message' ? answer.text : answer.kind === 'card' ? readCard(answer.card) : null;
      if (text !== null) answers.set(as, [...(answers.get(as) ?? []), text]);
      return {
        status: result.status,
        // The invoke response is the answer: it is there as soon as the click is answered.
        async answer() {
          return text === null ? null : { to: as, text };
        },
      };
    },
    async visibleTo(email) {
      const messages = connector
        .activitiesIn(connector.personalConversationId(connector.userByEmail(email).id))
        .map(toSeen)
        .flatMap((m) => [m.notification, m.title, m.body, ...m.buttons]);
      return [...messages, ...(answers.get(email) ?? [])].filter((text) => text !== '');
    },
    async settle() {
      await t.delivered();
    },
  };
}
