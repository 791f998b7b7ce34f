/** The embedded default: a local `mongod` started through mongodb-memory-server, data kept on disk. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MongoMemoryServer } from 'mongodb-memory-server';

/**
 * Starts a local `mongod` through mongodb-memory-server, with its data under `<dataDir>/mongo`
 * (kept on disk, so a restart loses nothing). `stop()` stops the server and keeps the data.
 */
export async function startEmbeddedMongo(dataDir: string): Promise<{ uri: string; stop(): Promise<void> }> {
  const dbPath = path.join(dataDir, 'mongo');
  let server: MongoMemoryServer;
  try {
    await mkdir(dbPath, { recursive: true });
    server = await MongoMemoryServer.create({ instance: { dbPath, storageEngine: 'wiredTiger' } });
  } catch (e) {
    throw new Error(
      `Could not start the embedded MongoDB (${briefReason(e)}). Set MONGODB_URI to a MongoDB server, or STORE=memory for a throwaway in-memory store.`,
      { cause: e },
    );
  }
  return {
    uri: server.getUri(),
    async stop() {
      await server.stop({ doCleanup: false });
    },
  };
}

/** An error's message on one line, short enough to read. */
function briefReason(e: unknown): string {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  return (message || 'unknown error').slice(0, 300);
}
