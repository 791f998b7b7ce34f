/**
 * The composition root: puts the store, scheduler, connectors, domain service, the outbox and the
 * configured chat front ends together behind the app's one HTTP server. Used by src/main.ts and by
 * the end-to-end tests, so both run the same wiring.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  createSlackFrontEnd,
  registerListeners,
  SLACK_EVENTS_PATH,
  type SlackFrontEnd,
} from './bot/slack/app.js';
import { SlackDirectory } from './bot/slack/directory.js';
import { SlackHomeSurface } from './bot/slack/home-surface.js';
import { deliveryClient, SlackPlatform } from './bot/slack/platform.js';
// Types only: the Teams front end (botbuilder) is loaded by `import()` when Teams is configured.
import type {
  TeamsAdapter,
  TeamsAdapterSettings,
  TeamsHomeSurface,
  TeamsPlatform,
  TeamsPlatformDeps,
} from './bot/teams/index.js';
import { backoffDelayMs, MAX_ATTEMPTS_BEFORE_REPORT } from './connectors/backoff.js';
import { createConnectorRegistry } from './connectors/registry.js';
import type { ChatPlatform } from './core/chat.js';
import { HomeRefreshNotifier, type HomeSurface, Homes, Notifiers } from './core/home.js';
import { webhookSink } from './core/notifications.js';
import { OutboxNotifier } from './core/notifier.js';
import { Outbox, type OutboxPolicy } from './core/outbox.js';
import { preferredPlatform, sightingRecorder } from './core/presence.js';
import { ReportLinks } from './core/reports/links.js';
import { RequestLinks } from './core/request-links.js';
import type { Clock } from './domain/clock.js';
import type { Notifier } from './domain/events.js';
import type { Grant, Person } from './domain/model.js';
import type { AccessConfig } from './domain/policy.js';
import { PolicySource } from './domain/policy-source.js';
import { ConnectorError } from './domain/ports.js';
import { AccessService } from './domain/service.js';
import { mountApi } from './http/api/routes.js';
import { createMetrics } from './http/metrics.js';
import { reportDownloadRoute } from './http/report-download.js';
import { baseUrl, chatLinks, requestLinkRoutes, requestUrlFor } from './http/request-link.js';
import { createHttpServer, sendJson } from './http/server.js';
import { carryingRequestIds, registerJobs, SWEEP_INTERVAL_MS } from './jobs/handlers.js';
import type { JobRunner, StopOptions } from './jobs/runner.js';
import type { Store } from './store/index.js';

/** How many open grants the start-up check for grants of removed resources reads at a time. */
const STRANDED_PAGE = 1000;

export interface SlackSettings {
  botToken: string;
  signingSecret?: string;
  /** Socket Mode when set. */
  appToken?: string;
  apiUrl: string;
  /** How long one outbox call to Slack may take (default 10 s). */
  deliveryTimeoutMs?: number;
}

export interface SystemParts {
  access: AccessConfig;
  store: Store;
  runner: JobRunner;
  clock: Clock;
  log: Logger;
  /** The app's HTTP server; port 0 picks a free one. */
  http: { port: number; host?: string };
  slack?: SlackSettings;
  /** Microsoft Teams (on `POST /api/messages`) when set. */
  teams?: TeamsAdapterSettings;
  secretFor: (envName: string) => string;
  backoffMs?: (attempt: number) => number;
  sweepIntervalMs?: number;
  outbox?: Partial<OutboxPolicy>;
  /** Wall-clock ms for inbound request timestamps (tests with a manual clock keep real time here). */
  wallClock?: () => number;
  /** `API_TOKEN`: serves the HTTP API under /api/v1 with this bearer token; unset, /api/v1 is 404. */
  apiToken?: string;
  /** `PUBLIC_URL`: the base of the links the bot hands out (request links, report downloads). */
  publicUrl?: string;
  /**
   * `LINK_SIGNING_SECRET`: signs report download links (unset: a random key per process) and request
   * links (unset: the API's requestUrl is the unsigned page that says how to ask).
   */
  linkSigningSecret?: string;
}

export interface RunningSystem {
  service: AccessService;
  outbox: Outbox;
  slack: SlackFrontEnd | null;
  /** The HTTP port actually listened on (useful with port 0). */
  port: number;
  /** Every route the app's server answers (method and path), in order. */
  routes(): Array<{ method: string; path: string }>;
  /**
   * A short-lived signed link to `person`'s access report of `query` (the words of /access-report),
   * on PUBLIC_URL (else this server's local address): how Teams delivers the report.
   */
  reportLink(person: Person, query: string): string;
  /** The policy in force: the file, with the owners' settings layered over it. */
  policy: PolicySource;
  /**
   * Puts a reloaded policy file in force, connectors included (src/policy-reload.ts reads and
   * checks the file). Throws, and changes nothing, when a connector cannot be built from it.
   */
  applyPolicy(access: AccessConfig): Promise<void>;
  /**
   * Stops taking requests, waits for work already acknowledged, drains running jobs (until
   * `options.deadline` at most; see `JobRunner.stop`).
   */
  stop(options?: StopOptions): Promise<void>;
}

export async function startSystem(parts: SystemParts): Promise<RunningSystem> {
  const { store, runner, clock, log } = parts;
  let stopping = false;
  const http = createHttpServer(log);

  const platforms: ChatPlatform[] = [];
  let slack: SlackFrontEnd | null = null;
  let directory: SlackDirectory | null = null;
  if (parts.slack) {
    slack = createSlackFrontEnd({
      ...parts.slack,
      log,
      ...(parts.wallClock ? { now: parts.wallClock } : {}),
    });
    directory = new SlackDirectory(slack.client, () => clock.now().getTime());
    platforms.push(
      new SlackPlatform(
        deliveryClient(parts.slack.botToken, parts.slack.apiUrl),
        () => clock.now().getTime(),
        directory,
      ),
    );
  }
  // Teams after Slack: someone never seen on either is tried on Slack first (see core/presence.ts).
  let teams: TeamsAdapter | null = null;
  let teamsForm: TeamsPlatformDeps['requestForm'];
  let teamsPlatform: TeamsPlatform | null = null;
  // Loaded only when Teams is configured: botbuilder costs a Slack-only instance ~45 MB for nothing.
  const teamsModule = parts.teams ? await import('./bot/teams/index.js') : null;
  if (parts.teams && teamsModule) {
    const { createTeamsAdapter, TeamsPlatform } = teamsModule;
    teams = createTeamsAdapter(parts.teams, log);
    teamsPlatform = new TeamsPlatform({
      adapter: teams,
      conversations: store.repos.conversations,
      now: () => clock.now().getTime(),
      log,
      // The form card needs the domain service, made below (messages go out only after start).
      requestForm: (person, resourceId, intro) =>
        teamsForm?.(person, resourceId, intro) ?? Promise.resolve(null),
    });
    platforms.push(teamsPlatform);
  }
  if (platforms.length === 0) throw new Error('no chat platform is configured');

  const scheduler = carryingRequestIds(runner);
  // The policy file in force (replaced on reload, see applyPolicy) with the owners' settings over it.
  const policy = new PolicySource(parts.access, store.repos.settings);
  const outbox = new Outbox({
    repos: store.repos,
    scheduler,
    platforms,
    preferred: preferredPlatform(parts.access.chat.prefer, store.repos.sightings, log, () =>
      clock.now().getTime(),
    ),
    clock,
    log,
    newId: randomUUID,
    ...(parts.outbox ? { policy: parts.outbox } : {}),
    notifications: webhookSink({
      webhook: () => policy.current().notifications.webhook,
      secretFor: parts.secretFor,
      clock,
    }),
  });
  const slackDirectory = directory;
  const buildConnectors = (access: AccessConfig) =>
    createConnectorRegistry({
      resources: access.resources,
      secretFor: parts.secretFor,
      clock,
      logger: log,
      ...(slack && slackDirectory
        ? {
            slack: {
              client: slack.client,
              lookupUserId: async (email: string) => {
                const person = await slackDirectory.byEmail(email);
                // Not retried: Slack has nobody with this email, so the group cannot hold them.
                if (!person) throw new ConnectorError(`no Slack user with email ${email}`, false);
                return person.userId;
              },
            },
          }
        : {}),
    });
  // Replaced as a whole when the policy file is reloaded (applyPolicy below).
  let connectors = buildConnectors(parts.access);
  // Homes (Slack's App Home, Teams' "my access" and "dashboard" cards) are refreshed after every
  // change they show, as a job per person.
  const homeSurface = slack && directory ? new SlackHomeSurface(slack.client, directory) : null;
  const teamsHomeSurface: TeamsHomeSurface | null =
    teamsModule && teamsPlatform ? new teamsModule.TeamsHomeSurface(teamsPlatform) : null;
  const homeSurfaces: HomeSurface[] = [homeSurface, teamsHomeSurface].filter((s) => s !== null);
  const notifiers: Notifier[] = [
    new OutboxNotifier(outbox, log, () => Boolean(policy.current().notifications.webhook)),
  ];
  if (homeSurfaces.length > 0) {
    notifiers.push(new HomeRefreshNotifier({ scheduler, clock, config: () => policy.current() }));
  }
  const metrics = createMetrics(store.repos, clock);
  const service = new AccessService({
    policy,
    repos: store.repos,
    scheduler,
    connectors: { forResource: (resourceId) => connectors.forResource(resourceId) },
    notifier: new Notifiers(notifiers),
    clock,
    log,
    newId: randomUUID,
    backoffMs: parts.backoffMs ?? ((attempt) => backoffDelayMs(attempt)),
    reportAfterAttempts: MAX_ATTEMPTS_BEFORE_REPORT,
    metrics: metrics.port,
  });
  if (teamsModule)
    teamsForm = teamsModule.linkedFormCard({ service, conversations: store.repos.conversations });
  const homes =
    homeSurfaces.length > 0
      ? new Homes({ service, repos: store.repos, surfaces: homeSurfaces, clock, newId: randomUUID, log })
      : null;
  // Grants of resources no longer in the policy file: at start-up nothing knows their connector; after
  // a reload, the connector the previous file named revokes them when they end (see applyPolicy).
  // Every open grant is looked at, a page at a time (newest first, keyset cursor), however many there are.
  const reportStranded = async (access: AccessConfig, reloaded = false) => {
    const known = new Set(access.resources.map((r) => r.id));
    const stranded: Grant[] = [];
    for (let after: { createdAt: Date; id: string } | undefined; ; ) {
      const page = await store.repos.grants.search(
        { status: ['provisioning', 'active', 'revoking'], ...(after ? { after } : {}) },
        STRANDED_PAGE,
      );
      for (const g of page) if (!known.has(g.resourceId)) stranded.push(g);
      const last = page.at(-1);
      if (page.length < STRANDED_PAGE || !last) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
    for (const g of stranded) {
      log.error(
        { grantId: g.id, resourceId: g.resourceId, holder: g.holder.email, status: g.status },
        reloaded
          ? 'grant.resource_missing: this grant belongs to a resource the reloaded policy file no longer has; it is kept until it ends, and then revoked through the connector the previous file named (until this process stops: after a restart it cannot be revoked automatically, so put the resource back or remove the access by hand)'
          : 'grant.resource_missing: this grant belongs to a resource that is no longer in the policy file, so its access cannot be revoked automatically; put the resource back or remove the access by hand',
      );
    }
  };
  await reportStranded(parts.access);

  // Routes: health, metrics, each front end (Slack's receiver, Teams' /api/messages), the links the
  // bot hands out, and the HTTP API under /api/v1 when API_TOKEN is set (else 404 like any unknown path).
  http.route({
    method: 'GET',
    path: '/healthz',
    handler: (_req, res) => sendJson(res, stopping ? 503 : 200, { ok: !stopping }),
  });
  http.route({
    method: 'GET',
    path: '/readyz',
    handler: async (_req, res) => {
      const ok = !stopping && runner.ready() && (await store.ping().catch(() => false));
      sendJson(res, ok ? 200 : 503, { ok });
    },
  });
  http.route({ method: 'GET', path: '/metrics', handler: metrics.handler });
  if (slack && directory) {
    registerListeners(slack.app, {
      service,
      directory,
      client: slack.client,
      log,
      ...(homes && homeSurface ? { home: { homes, surface: homeSurface } } : {}),
      seen: sightingRecorder(store.repos.sightings, 'slack', clock, log),
    });
    const handle = slack.handleRequest;
    if (handle) http.route({ method: 'POST', path: SLACK_EVENTS_PATH, handler: handle });
  }
  // Report download links (Teams' "access report"): on this server, once it listens.
  const reportLinks = new ReportLinks(parts.linkSigningSecret, () => clock.now().getTime());
  let listening = 0;
  const reportLink = (person: Person, query: string) =>
    reportLinks.url(parts.publicUrl ?? `http://127.0.0.1:${listening}`, person, query);
  if (teams && teamsPlatform && teamsModule) {
    const { createTeamsBot, TeamsIdentity, TEAMS_PLATFORM } = teamsModule;
    const reachable = teamsPlatform;
    http.route(
      teams.route(
        createTeamsBot({
          conversations: store.repos.conversations,
          identity: new TeamsIdentity(() => clock.now().getTime()),
          now: () => clock.now(),
          log,
          messages: store.repos.messages,
          service,
          nameOf: async (email) => (await reachable.reach(email).catch(() => null))?.name ?? email,
          seen: sightingRecorder(store.repos.sightings, TEAMS_PLATFORM, clock, log),
          reportLink: (person, query) => reportLink(person, query),
          ...(homes && teamsHomeSurface ? { home: { homes, surface: teamsHomeSurface } } : {}),
        }),
      ),
    );
  }

  // Links the bot hands out: request links (the API's requestUrl) and report downloads (Teams).
  const slackFront = slack;
  const slackTarget = async () => (slackFront ? slackFront.target() : null);
  // Signed request links need a key that every instance shares; without one, the unsigned page.
  const requestLinks = parts.linkSigningSecret
    ? new RequestLinks(parts.linkSigningSecret, () => clock.now().getTime())
    : null;
  const routes = requestLinkRoutes({
    slack: slackTarget,
    ...(requestLinks
      ? {
          signed: {
            links: requestLinks,
            prompts: { service, outbox, log },
            chatUrl: chatLinks(slackTarget, teams?.appId ?? ''),
          },
        }
      : {}),
  });
  for (const route of routes) http.route(route);
  http.route(reportDownloadRoute(service, reportLinks));
  if (parts.apiToken) {
    const publicUrl = parts.publicUrl;
    mountApi(http, {
      service,
      token: parts.apiToken,
      log,
      requestUrl: (email, resourceId, req) =>
        requestLinks
          ? requestLinks.url(baseUrl(publicUrl, req), email, resourceId)
          : requestUrlFor(publicUrl, resourceId, req),
    });
  }

  registerJobs(runner, service, {
    outbox,
    ...(homes ? { homes } : {}),
    sweepIntervalMs: parts.sweepIntervalMs ?? SWEEP_INTERVAL_MS,
  });
  await runner.start();
  const port = await http.listen(parts.http.port, parts.http.host);
  listening = port;
  await slack?.start();
  log.info(
    {
      port,
      slack: slack ? (parts.slack?.appToken ? 'socket-mode' : 'http') : 'off',
      teams: teams ? (teams.authenticated ? 'authenticated' : 'UNAUTHENTICATED') : 'off',
      store: store.kind,
      api: parts.apiToken ? 'on' : 'off',
    },
    'app.started',
  );
  return {
    service,
    outbox,
    slack,
    port,
    routes: () => http.routes(),
    reportLink,
    policy,
    async applyPolicy(access) {
      // Connectors first: a connector that cannot be built (a missing secret) refuses the whole file.
      const next = buildConnectors(access);
      // A resource the new file removed keeps the connector the old file named, so its grants are
      // still revoked through it when they end (they are kept until then, and logged).
      const previous = connectors;
      const named = new Set(access.resources.map((r) => r.id));
      policy.replace(access);
      connectors = {
        forResource: (id) => (named.has(id) ? next.forResource(id) : previous.forResource(id)),
      };
      await reportStranded(access, true);
      // A resource the new file closes (`ownerControlled: true` and no owner setting stored) is
      // closed at once: open grants revoked, waiting requests closed. A failure is the sweep's.
      try {
        await service.closeClosedResources();
      } catch (error) {
        log.error({ err: error }, 'policy.close_resources_failed: the sweep will close them');
      }
    },
    async stop(options) {
      stopping = true;
      await http.close(); // stop taking requests
      await slack?.stop();
      await slack?.idle(); // work begun for requests already acknowledged
      await runner.stop(options); // let running jobs finish, until the deadline
    },
  };
}
