/** The embedded default: a local `mongod` started through mongodb-memory-server, data kept on disk. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MongoMemoryServer } from 'mongodb-memory-server';

type ServerOptions = NonNullable<Parameters<typeof MongoMemoryServer.create>[0]>;

/**
 * The `mongod` version the embedded store runs, pinned here rather than left to
 * mongodb-memory-server's default (or `MONGOMS_VERSION`), so that a dependency update never starts
 * another server version on existing data. Changing it is a data upgrade: see README.md.
 */
export const EMBEDDED_MONGOD_VERSION = '8.2.6';

/**
 * How long `mongod` may take to start: after an unclean stop it recovers its journal first, which
 * takes far longer than mongodb-memory-server's default of 10 s.
 */
export const EMBEDDED_START_TIMEOUT_MS = 120_000;

/** Written next to the data: the `mongod` version (major.minor) that last ran on it. */
const VERSION_FILE = 'mongod-version';

/** The options the embedded server is created with (exported for tests). */
export function embeddedServerOptions(dbPath: string) {
  return {
    binary: { version: EMBEDDED_MONGOD_VERSION },
    instance: { dbPath, storageEngine: 'wiredTiger', launchTimeout: EMBEDDED_START_TIMEOUT_MS },
    // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and mongod
    // would stop at once while the app still drains its jobs. The app stops it last instead
    // (src/shutdown.ts); mongodb-memory-server's watchdog stops it if the app dies.
    spawn: { detached: true },
  } satisfies ServerOptions;
}

/**
 * Starts a local `mongod` through mongodb-memory-server, with its data under `<dataDir>/mongo`
 * (kept on disk, so a restart loses nothing). `stop()` stops the server and keeps the data.
 * Refuses data last run by another `mongod` major.minor version than `EMBEDDED_MONGOD_VERSION`.
 */
export async function startEmbeddedMongo(dataDir: string): Promise<{ uri: string; stop(): Promise<void> }> {
  const dbPath = path.join(dataDir, 'mongo');
  const versionFile = path.join(dbPath, VERSION_FILE);
  const wanted = majorMinor(EMBEDDED_MONGOD_VERSION);
  const found = await readFile(versionFile, 'utf8').then(
    (text) => text.trim(),
    () => null,
  );
  if (found !== null && found !== wanted) {
    throw new Error(
      `The embedded MongoDB data in ${dbPath} was last run by mongod ${found}, and this version of jit-access-bot runs mongod ${EMBEDDED_MONGOD_VERSION}. Refusing to start another server version on it: upgrade the data (see README.md, "The embedded MongoDB"), or set MONGODB_URI to a MongoDB server.`,
    );
  }
  let server: MongoMemoryServer;
  try {
    await mkdir(dbPath, { recursive: true });
    server = await MongoMemoryServer.create(embeddedServerOptions(dbPath));
  } catch (e) {
    throw new Error(
      `Could not start the embedded MongoDB (${briefReason(e)}). Set MONGODB_URI to a MongoDB server, or STORE=memory for a throwaway in-memory store.`,
      { cause: e },
    );
  }
  if (found === null) await writeFile(versionFile, `${wanted}\n`);
  return {
    uri: server.getUri(),
    async stop() {
      await server.stop({ doCleanup: false });
    },
  };
}

function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/** An error's message on one line, short enough to read. */
function briefReason(e: unknown): string {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  return (message || 'unknown error').slice(0, 300);
}
