/**
 * The composition root: puts the store, scheduler, connectors, domain service and Slack front end
 * together. Used by src/main.ts and by the end-to-end tests, so both run the same wiring.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import { createBoltApp, registerListeners } from './bot/slack/app.js';
import { SlackDirectory } from './bot/slack/directory.js';
import { SlackNotifier } from './bot/slack/notifier.js';
import { backoffDelayMs, MAX_ATTEMPTS_BEFORE_REPORT } from './connectors/backoff.js';
import { createConnectorRegistry } from './connectors/registry.js';
import type { Clock } from './domain/clock.js';
import type { AccessConfig } from './domain/policy.js';
import { AccessService } from './domain/service.js';
import { registerJobs, SWEEP_INTERVAL_MS } from './jobs/handlers.js';
import type { JobRunner } from './jobs/runner.js';
import type { Store } from './store/index.js';

export interface SystemParts {
  access: AccessConfig;
  store: Store;
  runner: JobRunner;
  clock: Clock;
  log: Logger;
  slack: { botToken: string; signingSecret?: string; appToken?: string; apiUrl: string; port: number };
  secretFor: (envName: string) => string;
  backoffMs?: (attempt: number) => number;
  sweepIntervalMs?: number;
}

export interface RunningSystem {
  service: AccessService;
  app: App;
  /** The HTTP port actually listened on (useful with port 0). */
  port: number;
  stop(): Promise<void>;
}

export async function startSystem(parts: SystemParts): Promise<RunningSystem> {
  const { store, runner, clock, log } = parts;
  let stopping = false;
  const app = createBoltApp({
    ...parts.slack,
    log,
    health: {
      live: () => !stopping,
      ready: async () => !stopping && runner.ready() && (await store.ping()),
    },
  });
  const directory = new SlackDirectory(app.client, () => clock.now().getTime());
  const notifier = new SlackNotifier(app.client, directory, store.repos.messages, clock, log, randomUUID);
  const connectors = createConnectorRegistry({
    resources: parts.access.resources,
    secretFor: parts.secretFor,
    clock,
    logger: log,
    slack: {
      client: app.client,
      lookupUserId: async (email) => {
        const person = await directory.byEmail(email);
        if (!person) throw new Error(`no Slack user with email ${email}`);
        return person.userId;
      },
    },
  });
  const service = new AccessService({
    config: parts.access,
    repos: store.repos,
    scheduler: runner,
    connectors,
    notifier,
    clock,
    log,
    newId: randomUUID,
    backoffMs: parts.backoffMs ?? ((attempt) => backoffDelayMs(attempt)),
    reportAfterAttempts: MAX_ATTEMPTS_BEFORE_REPORT,
  });
  // Grants of resources no longer in the policy file cannot be revoked by their connector.
  const known = new Set(parts.access.resources.map((r) => r.id));
  const stranded = (
    await store.repos.grants.list({ status: ['provisioning', 'active', 'revoking'], limit: 1000 })
  ).filter((g) => !known.has(g.resourceId));
  for (const g of stranded) {
    log.error(
      { grantId: g.id, resourceId: g.resourceId, holder: g.holder.email, status: g.status },
      'grant.resource_missing: this grant belongs to a resource that is no longer in the policy file, so its access cannot be revoked automatically; put the resource back or remove the access by hand',
    );
  }
  registerListeners(app, { service, directory, client: app.client, log });
  registerJobs(runner, service, parts.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
  await runner.start();
  const started = (await app.start(parts.slack.port)) as Server | undefined;
  const address = started?.address?.() as AddressInfo | null | undefined;
  const port = address && typeof address === 'object' ? address.port : parts.slack.port;
  log.info({ port, socketMode: Boolean(parts.slack.appToken), store: store.kind }, 'app.started');
  return {
    service,
    app,
    port,
    async stop() {
      stopping = true;
      await app.stop(); // stop taking requests
      await runner.stop(); // let running jobs finish
    },
  };
}
