/**
 * vitest global setup: finds out once, for the whole run, whether a MongoDB is reachable, and
 * provides the answer to every test file (`inject('mongoUri')`, `inject('mongoSkipReason')`).
 *
 * 1. `MONGODB_URI`, when set, is used as it is (a wrong one makes the MongoDB tests fail, loudly).
 * 2. Otherwise mongodb-memory-server is asked once for a throwaway `mongod` (it honours
 *    `MONGOMS_SYSTEM_BINARY` for a local binary). Where it cannot download one, that fails after
 *    a few seconds, and the MongoDB-backed tests are skipped with the reason in the output.
 */
import { MongoMemoryServer } from 'mongodb-memory-server';
import type { TestProject } from 'vitest/node';

/** It fails in about 7 s where nothing can be downloaded; slow DNS answers have made that 15 s. */
const PROBE_TIMEOUT_MS = 30_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env.MONGODB_URI?.trim();
  if (fromEnv) {
    project.provide('mongoUri', fromEnv);
    project.provide('mongoSkipReason', '');
    console.log(`[mongo-probe] using MONGODB_URI (${redact(fromEnv)}) for the MongoDB-backed tests`);
    return async () => {};
  }

  const started = Date.now();
  const creating = MongoMemoryServer.create();
  let server: MongoMemoryServer | null = null;
  let reason = '';
  try {
    server = await withTimeout(creating, PROBE_TIMEOUT_MS);
  } catch (e) {
    reason = brief(e);
    // Should it come up after all, once we stopped waiting, stop it again.
    creating.then((late) => late.stop()).catch(() => {});
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);

  if (server) {
    const uri = server.getUri();
    project.provide('mongoUri', uri);
    project.provide('mongoSkipReason', '');
    console.log(
      `[mongo-probe] started a throwaway mongod with mongodb-memory-server in ${seconds} s (${uri})`,
    );
  } else {
    project.provide('mongoUri', null);
    project.provide('mongoSkipReason', `no MongoDB: ${reason}`);
    console.log(
      `[mongo-probe] no MongoDB: ${reason} (after ${seconds} s) — MongoDB-backed tests will be skipped; set MONGODB_URI to run them`,
    );
  }

  const running = server;
  return async () => {
    await running?.stop();
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`mongodb-memory-server did not start within ${ms / 1000} s`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An error's message on one line, short enough for the output. */
function brief(e: unknown): string {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  return (message || 'unknown error').slice(0, 250);
}

/** Hides a password in a connection string. */
function redact(uri: string): string {
  return uri.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}
