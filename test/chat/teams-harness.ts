/**
 * The chat contract's harness for Teams. The delivery half is a real `TeamsPlatform` on the real
 * botbuilder `CloudAdapter`, built as the product builds it but with a short timeout, talking to
 * the faithful fake Bot Connector with authentication on both ways: the people it reaches installed
 * the app first, announced to the bot's `/api/messages` (on the app's own HTTP server) by signed
 * `installationUpdate` activities, so their conversation references were stored by the product's
 * own code (src/bot/teams/conversations.ts).
 *
 * The interactive half (clicks on cards: `adaptiveCard/action` invokes) is not built yet: the
 * approval handlers are the next step of the Teams work, so those contract tests are skipped with
 * that reason (see ./teams.test.ts).
 */
import { type AddressInfo, createServer } from 'node:net';
import pino from 'pino';
import { createTeamsAdapter, type TeamsAdapterSettings } from '../../src/bot/teams/adapter.js';
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
import type { ChatContractHarness, SeenMessage } from './contract.js';
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
      throw new Error('clicks on Teams cards are not implemented yet');
    },
    async close() {
      await bot.close();
    },
  };
}
