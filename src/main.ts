/**
 * Start-up: read and validate configuration (exit 2 on a bad value, before anything starts),
 * open the store, start the scheduler and the chat front ends (Slack, Teams or both, by the
 * credentials present); reload the policy file on SIGHUP and when it changes (src/policy-reload.ts);
 * on SIGTERM or SIGINT stop taking work, drain running jobs until half the
 * shutdown timeout, close the store, stop the embedded MongoDB, exit (src/shutdown.ts). A shutdown
 * that outlasts its timeout exits 1.
 * Run through src/cli.ts (`jit-access-bot start`, `npm start`), or directly as `node dist/main.js`
 * (the container's command), which is the same.
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type ChatPlatformsToStart,
  ConfigError,
  chatPlatformsToStart,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  loadConfigOrExit,
  secretFor,
} from './config.js';
import { systemClock } from './domain/clock.js';
import { createAgendaRunner } from './jobs/agenda.js';
import { InProcessRunner } from './jobs/in-process.js';
import type { JobRunner } from './jobs/runner.js';
import { createLogger } from './log.js';
import { createPolicyReloader } from './policy-reload.js';
import { shutdown } from './shutdown.js';
import { connectMongo, createMemoryStore, type Store, startEmbeddedMongo } from './store/index.js';
import { startSystem } from './system.js';

/** Whether this module is the program itself (`node dist/main.js`), not imported by the CLI or a test. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

export async function main(): Promise<void> {
  const { env, access } = loadConfigOrExit();
  const log = createLogger(env.logLevel);
  let platforms: ChatPlatformsToStart;
  try {
    platforms = chatPlatformsToStart(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Configuration error:\n${error.message}\n`);
    process.exit(2);
  }

  let store: Store;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (env.store === 'memory') {
    log.warn(
      {},
      'STORE=memory: requests, grants and the audit trail live only in this process; NOTHING SURVIVES A RESTART and open access is not revoked after one. Use it for demos only.',
    );
    store = createMemoryStore();
  } else {
    let uri = env.mongodbUri;
    if (!uri) {
      try {
        const embedded = await startEmbeddedMongo(env.dataDir);
        uri = embedded.uri;
        stopEmbedded = embedded.stop;
        log.info({ dataDir: env.dataDir }, 'store.embedded_started');
      } catch (error) {
        process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      }
    }
    store = await connectMongo(uri, { log });
  }

  let runner: JobRunner;
  if (store.db) {
    runner = createAgendaRunner({ db: store.db, logger: log });
  } else {
    runner = new InProcessRunner({ clock: systemClock, logger: log });
  }

  const system = await startSystem({
    access,
    store,
    runner,
    clock: systemClock,
    log,
    http: { port: env.port },
    ...(platforms.slack ? { slack: platforms.slack } : {}),
    ...(platforms.teams ? { teams: platforms.teams } : {}),
    secretFor: (name) => secretFor(name),
    ...(env.apiToken ? { apiToken: env.apiToken } : {}),
    ...(env.publicUrl ? { publicUrl: env.publicUrl } : {}),
    ...(env.linkSigningSecret ? { linkSigningSecret: env.linkSigningSecret } : {}),
    outbox: { retentionMs: env.outboxRetentionMs },
  });

  // The policy file is reloaded on SIGHUP and when it changes; a bad file is refused and logged.
  const reloader = createPolicyReloader({
    path: env.accessConfigPath,
    apply: (next) => system.applyPolicy(next),
    log,
  });
  reloader.watch();
  process.on('SIGHUP', () => void reloader.reload('SIGHUP'));

  let shuttingDown = false;
  const stop = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    reloader.close();
    const timeoutMs = env.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    void shutdown(
      { system, store, stopEmbedded, log, timeoutMs, exit: (code) => process.exit(code) },
      signal,
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (isEntryPoint()) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `Fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
