/**
 * `jit-access-bot migrate`: rebuilds the MongoDB indexes whose definition changed. Instances only
 * ever create missing indexes at start (src/store/mongo/create-index.ts); dropping one, which
 * leaves its key unenforced until it is built again, happens only here, on purpose, once.
 * Run it with the bot stopped, or with one instance: see README.md.
 */
import type { Connection } from 'mongoose';
import { ConfigError, readEnv } from './config.js';
import type { Log } from './domain/events.js';
import { JOB_INDEXES, JOBS_COLLECTION } from './jobs/agenda.js';
import { createLogger } from './log.js';
import { migrateMongoIndexes, openConnection, startEmbeddedMongo } from './store/index.js';

export interface MigrateIo {
  /** The environment to read (config.ts reads the process's when omitted). */
  env?: NodeJS.ProcessEnv;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

/** Runs the migration; returns the exit status (0 done, 1 failed, 2 bad configuration). */
export async function migrate(io: MigrateIo): Promise<number> {
  let env: ReturnType<typeof readEnv>;
  try {
    env = io.env ? readEnv(io.env) : readEnv();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`Configuration error:\n${error.message}`);
    return 2;
  }
  if (env.store === 'memory') {
    io.stderr('STORE=memory keeps nothing on disk: there are no indexes to migrate.');
    return 2;
  }
  const log = createLogger(env.logLevel);
  let uri = env.mongodbUri;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!uri) {
    const embedded = await startEmbeddedMongo(env.dataDir);
    uri = embedded.uri;
    stopEmbedded = embedded.stop;
  }
  try {
    const conn = await openConnection(uri);
    try {
      const changes = await migrateIndexes(conn, log);
      for (const { collection, dropped, created } of changes) {
        if (dropped.length === 0 && created.length === 0) continue;
        io.stdout(
          `${collection}: dropped ${dropped.join(', ') || 'nothing'}; created ${created.join(', ') || 'nothing'}`,
        );
      }
      const changed = changes.some((c) => c.dropped.length > 0 || c.created.length > 0);
      io.stdout(changed ? 'Indexes migrated.' : 'Indexes already match their declarations; nothing to do.');
      return 0;
    } finally {
      await conn.close();
    }
  } finally {
    await stopEmbedded?.();
  }
}

/** Every index of the store and the scheduler brought in line; what changed, per collection. */
export async function migrateIndexes(conn: Connection, log: Log): Promise<IndexChanges[]> {
  const changes = await migrateMongoIndexes(conn, log);
  const db = conn.db;
  if (!db) throw new Error('mongoose connection has no database after connecting');
  changes.push(await migrateJobIndexes(db.collection(JOBS_COLLECTION), log));
  return changes;
}

interface IndexChanges {
  collection: string;
  dropped: string[];
  created: string[];
}

interface JobsCollection {
  readonly collectionName: string;
  listIndexes(): { toArray(): Promise<Array<{ name?: string; key?: Record<string, unknown> }>> };
  dropIndex(name: string): Promise<unknown>;
  createIndex(key: Record<string, 1 | -1>, options: { name: string }): Promise<string>;
}

/** The scheduler's indexes (`JOB_INDEXES`): one whose key differs is dropped and built again. */
async function migrateJobIndexes(jobs: JobsCollection, log: Log): Promise<IndexChanges> {
  const existing = await jobs
    .listIndexes()
    .toArray()
    .catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 26) return []; // no collection yet
      throw error;
    });
  const dropped: string[] = [];
  const created: string[] = [];
  const collection = jobs.collectionName;
  for (const index of JOB_INDEXES) {
    const found = existing.find((i) => i.name === index.name);
    if (found && JSON.stringify(found.key) === JSON.stringify(index.key)) continue;
    if (found) {
      await jobs.dropIndex(index.name);
      dropped.push(index.name);
      log.info({ collection, index: index.name }, 'store.index_dropped');
    }
    await jobs.createIndex(index.key, { name: index.name });
    created.push(index.name);
    log.info({ collection, index: index.name }, 'store.index_created');
  }
  return { collection, dropped, created };
}
