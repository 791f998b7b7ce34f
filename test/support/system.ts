/**
 * The whole product, running for real on local ports: the Bolt app (HTTP, signature checks on),
 * the domain, the memory store, the in-process scheduler on a manual clock, the webhook connector
 * posting to a local receiver, and a faithful fake of the Slack Web API (and, when a test asks,
 * Microsoft Teams through a fake Bot Connector).
 */
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { TeamsAdapterSettings } from '../../src/bot/teams/adapter.js';
import type { OutboxPolicy } from '../../src/core/outbox.js';
import { ManualClock } from '../../src/domain/clock.js';
import { parseAccessConfig } from '../../src/domain/policy.js';
import { InProcessRunner } from '../../src/jobs/in-process.js';
import { createLogger } from '../../src/log.js';
import { createMemoryStore, type Store } from '../../src/store/index.js';
import { type RunningSystem, startSystem } from '../../src/system.js';
import type { FakeBotConnector } from './fake-bot-connector.js';
import { type FakeSlack, type FakeSlackUser, type FakeSlackUsergroup, startFakeSlack } from './fake-slack.js';
import { freePort } from './ports.js';
import { createSlackSender } from './slack-requests.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const HOOK_SECRET = 'test-hook-secret';

export const USERS = {
  alice: {
    id: 'UALICE',
    name: 'alice',
    realName: 'Alice Approver',
    email: 'alice@example.com',
    tz: 'Europe/London',
  },
  dave: {
    id: 'UDAVE',
    name: 'dave',
    realName: 'Dave Reviewer',
    email: 'dave@example.com',
    tz: 'America/New_York',
  },
  bob: { id: 'UBOB', name: 'bob', realName: 'Bob Support', email: 'bob@example.com', tz: 'Asia/Tokyo' },
  carol: {
    id: 'UCAROL',
    name: 'carol',
    realName: 'Carol Support',
    email: 'carol@example.com',
    tz: 'Europe/Berlin',
  },
  erin: { id: 'UERIN', name: 'erin', realName: 'Erin Outsider', email: 'erin@example.com', tz: 'UTC' },
  admin: { id: 'UADMIN', name: 'root', realName: 'Ada Admin', email: 'admin@example.com', tz: 'UTC' },
} satisfies Record<string, FakeSlackUser>;

/** The test policy; `{{HOOK}}` becomes the local webhook receiver's URL. */
export const TEST_POLICY = `
defaults:
  approvalWindow: PT1H
  remindBefore: PT5M
admins: [admin@example.com]
groups:
  support: [bob@example.com, carol@example.com]
resources:
  - id: acme-prod
    name: Acme Corp — production tenant
    approvers: [alice@example.com, dave@example.com, carol@example.com]
    requesters: [support]
    policy: { custom: { max: P3D } }
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
  - id: staging-db
    name: Staging database
    approvers: [alice@example.com]
    policy: { approval: auto, durations: [PT1H, PT4H] }
    connector: { type: webhook, url: "{{HOOK}}", secretEnv: HOOK_SECRET }
  - id: lonely
    name: Lonely box
    approvers: [bob@example.com]
    requesters: [bob@example.com]
    connector: { type: log }
`;

export interface TestSystem {
  clock: ManualClock;
  fake: FakeSlack;
  hooks: WebhookReceiver;
  store: Store;
  runner: InProcessRunner;
  system: RunningSystem;
  slack: ReturnType<typeof createSlackSender>;
  /** Starts the app again over the same store and a fresh scheduler, as after a crash or downtime. */
  restart(): Promise<void>;
  /** Resolves once every message due now went out (or was given up): nothing pending is due. */
  delivered(timeoutMs?: number): Promise<void>;
  /**
   * Another instance of the app over the same store, fake Slack, receiver and clock, with its own
   * scheduler and port: what a second process behind a load balancer is (one database, two apps).
   * Closed with the test system.
   */
  secondInstance(): Promise<{ system: RunningSystem; runner: InProcessRunner; slack: SlackSender }>;
  close(): Promise<void>;
}

type SlackSender = ReturnType<typeof createSlackSender>;

/**
 * Secrets and settings in `opts` are read at every (re)start, so a test can rotate one: change it on
 * the object it passed, then `restart()`.
 */
export async function startTestSystem(
  opts: {
    policy?: string;
    start?: Date;
    /**
     * Socket Mode instead of HTTP: the app connects to the fake's WebSocket with `fake.appToken`, no signing
     * secret; events go through `fake.pushEnvelope`. Its HTTP server (custom routes only) listens on
     * `system.port`, a free port picked up front. `t.slack` (HTTP requests) has nothing to talk to then.
     */
    socketMode?: boolean;
    /** Slack user groups the fake starts with (for the slack-usergroup connector). */
    usergroups?: FakeSlackUsergroup[];
    /** Outbox settings, e.g. a short give-up time. */
    outbox?: Partial<OutboxPolicy>;
    /** Runs against the fake Slack before the app starts (e.g. to make Slack fail at start-up). */
    beforeStart?: (fake: FakeSlack) => void;
    /**
     * Serve Microsoft Teams as well (after Slack), against this fake Bot Connector: authenticated
     * when it checks tokens (its app id), otherwise in the unsafe local mode. Activities go to
     * `http://127.0.0.1:${system.port}/api/messages`.
     */
    teams?: FakeBotConnector;
    /** The app's logger (default: silent, or `TEST_LOG_LEVEL`). */
    log?: Logger;
    /**
     * What the app gets as its store, made afresh at every (re)start from the one memory store
     * (`t.store` stays the plain one, for the test's own reads): e.g. test/support/faulty-store.ts.
     */
    wrapStore?: (store: Store) => Store;
    /** How often the sweep runs (default 30 s, as in production). */
    sweepIntervalMs?: number;
    /** Serves the HTTP API under /api/v1 with this bearer token. */
    apiToken?: string;
    /** PUBLIC_URL: the base of the links the bot hands out. */
    publicUrl?: string;
    /** LINK_SIGNING_SECRET: signs report links and request links (unset: the unsigned request page). */
    linkSigningSecret?: string;
    /** SLACK_SIGNING_SECRET (default `SIGNING_SECRET`); `t.slack` signs with it. */
    signingSecret?: string;
    /** The value of the variable a webhook connector's `secretEnv` names (default: `HOOK_SECRET` for any). */
    secretFor?: (envName: string) => string;
  } = {},
): Promise<TestSystem> {
  const clock = new ManualClock(opts.start ?? new Date());
  const fake = await startFakeSlack({ users: Object.values(USERS), usergroups: opts.usergroups ?? [] });
  opts.beforeStart?.(fake);
  const hooks = await startWebhookReceiver({ secret: HOOK_SECRET, now: () => clock.now() });
  const access = parseAccessConfig(parseYaml((opts.policy ?? TEST_POLICY).replaceAll('{{HOOK}}', hooks.url)));
  const store = createMemoryStore();
  const log = opts.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const slack = opts.socketMode
    ? { botToken: fake.botToken, appToken: fake.appToken, apiUrl: fake.apiUrl, deliveryTimeoutMs: 1000 }
    : {
        botToken: fake.botToken,
        signingSecret: SIGNING_SECRET,
        apiUrl: fake.apiUrl,
        deliveryTimeoutMs: 1000,
      };
  const signingSecret = () => opts.signingSecret ?? SIGNING_SECRET;
  const port = opts.socketMode ? await freePort() : 0;
  const connector = opts.teams;
  const teamsAppId = connector?.appId;
  const teams: TeamsAdapterSettings | undefined = connector
    ? {
        ...(teamsAppId ? { appId: teamsAppId, appPassword: 'not-used-with-a-fake-token-source' } : {}),
        appType: 'MultiTenant',
        dangerouslyAllowUnauthenticated: !teamsAppId,
        timeoutMs: 1000,
        ...(teamsAppId
          ? {
              fake: {
                openIdMetadataUrl: connector.openIdMetadataUrl,
                outboundToken: async () => connector.botToken(teamsAppId),
              },
            }
          : {}),
      }
    : undefined;
  const boot = async () => {
    // Time moves only when a test says so; what is due now (messages, provisioning) runs by itself.
    const runner = new InProcessRunner({ clock, logger: log, retry: { retries: 0 }, runDueJobs: true });
    const system = await startSystem({
      access,
      store: opts.wrapStore ? opts.wrapStore(store) : store,
      runner,
      clock,
      log,
      http: { port },
      slack: 'signingSecret' in slack ? { ...slack, signingSecret: signingSecret() } : slack,
      ...(teams ? { teams } : {}),
      ...(opts.outbox ? { outbox: opts.outbox } : {}),
      ...(opts.sweepIntervalMs ? { sweepIntervalMs: opts.sweepIntervalMs } : {}),
      ...(opts.apiToken ? { apiToken: opts.apiToken } : {}),
      ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
      ...(opts.linkSigningSecret ? { linkSigningSecret: opts.linkSigningSecret } : {}),
      secretFor: (envName) => (opts.secretFor ? opts.secretFor(envName) : HOOK_SECRET),
      // deterministic backoff: 10 s, 20 s, 40 s … capped at 10 min
      backoffMs: (attempt) => Math.min(10_000 * 2 ** (attempt - 1), 600_000),
    });
    return { runner, system };
  };
  let current = await boot();
  const others: Array<Awaited<ReturnType<typeof boot>>> = [];
  const sender = (port = current.system.port) =>
    createSlackSender({
      url: `http://127.0.0.1:${port}/slack/events`,
      signingSecret: signingSecret(),
      users: Object.values(USERS),
      issueTriggerId: (userId) => fake.issueTriggerId(userId),
      issueResponseUrl: (ctx) => fake.issueResponseUrl(ctx),
    });
  const t: TestSystem = {
    clock,
    fake,
    hooks,
    store,
    runner: current.runner,
    system: current.system,
    slack: sender(),
    async restart() {
      await current.system.stop();
      current = await boot();
      t.runner = current.runner;
      t.system = current.system;
      t.slack = sender();
    },
    async delivered(timeoutMs = 15_000) {
      // A bound on waiting, not a timing assertion: generous, as the full suite runs on a loaded 2-core machine.
      // Done when no job runs or is due, and no lane's first pending message is due.
      const busy = async () => {
        const now = clock.now().getTime();
        const lanes = new Set(
          (await store.repos.outbox.list({ status: 'pending', limit: 10_000 })).map((i) => i.lane),
        );
        const heads = await Promise.all([...lanes].map((lane) => store.repos.outbox.head(lane)));
        const due = heads.filter((h) => h && h.nextAttemptAt.getTime() <= now);
        return t.runner.busy() ? [...due, { key: 'a job is running' }] : due;
      };
      const until = Date.now() + timeoutMs;
      for (;;) {
        const left = await busy();
        if (left.length === 0) {
          await new Promise((r) => setTimeout(r, 10));
          if ((await busy()).length === 0) return;
        }
        if (Date.now() > until) {
          throw new Error(`messages still being sent: ${JSON.stringify(left.map((i) => i?.key))}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async secondInstance() {
      const other = await boot();
      others.push(other);
      return { ...other, slack: sender(other.system.port) };
    },
    async close() {
      for (const other of others.splice(0)) await other.system.stop();
      await current.system.stop();
      await store.close();
      await hooks.close();
      await fake.close();
    },
  };
  return t;
}
