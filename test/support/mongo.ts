/**
 * For tests that need a real MongoDB: run them when test/setup/mongo-probe.ts found one, and
 * otherwise skip them with the reason in the suite's name and in the output, never silently.
 */
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { describe, inject } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { connectMongo } from '../../src/store/mongo/connect.js';

let warned = false;

/** The URI of the MongoDB the probe found (or `MONGODB_URI`), or null. */
export function mongoUri(): string | null {
  return inject('mongoUri');
}

/** Why there is no MongoDB (empty when there is one). */
export function mongoSkipReason(): string {
  return inject('mongoSkipReason') || 'no MongoDB reachable';
}

/** `describe` when a MongoDB is reachable; otherwise `describe.skip`, saying why. */
export function describeMongo(name: string, fn: () => void): void {
  if (mongoUri()) {
    describe(name, fn);
    return;
  }
  const reason = mongoSkipReason();
  if (!warned) {
    warned = true;
    console.warn(`[mongo] skipping MongoDB-backed tests: ${reason} — set MONGODB_URI to run them`);
  }
  describe.skip(`${name} [skipped: ${reason} — set MONGODB_URI]`, fn);
}

/** A database name of its own for each test file (or test), so runs never share data. */
export function uniqueDbName(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 20);
  return `jit_${safe}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Drops database `dbName` on the reachable MongoDB. */
export async function dropDatabase(dbName: string): Promise<void> {
  const uri = mongoUri();
  if (!uri) return;
  const conn = await mongoose.createConnection(uri, { dbName, serverSelectionTimeoutMS: 10_000 }).asPromise();
  try {
    await conn.dropDatabase();
  } finally {
    await conn.close();
  }
}

/** A MongoDB store on a fresh database of its own, which `close()` drops. */
export async function connectTestMongoStore(label: string): Promise<Store> {
  const uri = mongoUri();
  if (!uri) throw new Error(`no MongoDB: ${mongoSkipReason()}`);
  const store = await connectMongo(uri, { dbName: uniqueDbName(label) });
  return {
    ...store,
    async close() {
      try {
        await store.db?.dropDatabase();
      } finally {
        await store.close();
      }
    },
  };
}
