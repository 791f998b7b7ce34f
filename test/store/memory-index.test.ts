/**
 * The memory store's lookup indexes (src/store/memory-index.ts) only narrow which documents a query
 * reads: a collection with them must answer every query exactly as one without them, including
 * for documents whose indexed field is an array, nested under an array, missing, null or of
 * another type, and after updates that move documents between values.
 */
import { describe, expect, it } from 'vitest';
import type { Filter } from '../../src/store/collection.js';
import { createMemoryCollections, MemoryCollection } from '../../src/store/memory.js';

interface Doc {
  _id: string;
  status?: unknown;
  holder?: unknown;
  n?: unknown;
  at?: Date;
  tag?: unknown;
}

const INDEXES = [['status', 'at'], ['holder.email', 'at'], ['tag'], ['status', 'n', 'at']];

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['pending', 'active', 'expired'];
const EMAILS = ['a@x', 'b@x', 'c@x'];
const BASE = Date.UTC(2026, 0, 1);

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T;
}

/** A field value of any shape an equality may or may not match. */
function oddValue(random: () => number, values: readonly string[]): unknown {
  const r = random();
  if (r < 0.55) return pick(random, values);
  if (r < 0.65) return [pick(random, values), pick(random, values)];
  if (r < 0.72) return null;
  if (r < 0.8) return undefined;
  if (r < 0.86) return 3;
  if (r < 0.92) return { nested: pick(random, values) };
  return new Date(BASE);
}

function randomDoc(random: () => number, id: number): Doc {
  const holder =
    random() < 0.8
      ? { email: oddValue(random, EMAILS) }
      : random() < 0.5
        ? [{ email: pick(random, EMAILS) }, { email: pick(random, EMAILS) }]
        : undefined;
  const doc: Doc = {
    _id: `d${id}`,
    status: oddValue(random, STATUSES),
    holder,
    n: random() < 0.5 ? Math.floor(random() * 3) : String(Math.floor(random() * 3)),
    at: new Date(BASE + Math.floor(random() * 10) * 1000),
    tag: random() < 0.5 ? new Date(BASE + Math.floor(random() * 3) * 1000) : pick(random, ['x', 'y']),
  };
  for (const key of Object.keys(doc) as Array<keyof Doc>) if (doc[key] === undefined) delete doc[key];
  return doc;
}

function randomFilter(random: () => number): Filter<Doc> {
  const one = (): Record<string, unknown> => {
    const f: Record<string, unknown> = {};
    if (random() < 0.7) {
      const r = random();
      f.status =
        r < 0.5
          ? pick(random, STATUSES)
          : r < 0.7
            ? { $in: [pick(random, STATUSES), pick(random, STATUSES)] }
            : r < 0.85
              ? { $eq: pick(random, STATUSES), $ne: 'active' }
              : { $ne: pick(random, STATUSES) };
    }
    if (random() < 0.3) f['holder.email'] = pick(random, EMAILS);
    if (random() < 0.3) f.n = random() < 0.5 ? Math.floor(random() * 3) : { $in: [0, '1', 2] };
    if (random() < 0.3) f.at = { $lte: new Date(BASE + Math.floor(random() * 10) * 1000) };
    if (random() < 0.2) f.tag = random() < 0.5 ? new Date(BASE + 1000) : 'x';
    return f;
  };
  return (random() < 0.25 ? { $or: [one(), one()] } : one()) as Filter<Doc>;
}

describe('memory store lookup indexes', () => {
  it('answer every query as a full scan does, through inserts, updates and updateMany', async () => {
    const random = seeded(20261203);
    const indexed = new MemoryCollection<Doc>('docs', [], INDEXES);
    const scanned = new MemoryCollection<Doc>('docs', []);
    let id = 0;
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 15; i++) {
        const doc = randomDoc(random, id++);
        await indexed.insertOne(doc);
        await scanned.insertOne(doc);
      }
      for (let q = 0; q < 12; q++) {
        const filter = randomFilter(random);
        const sort = random() < 0.5 ? ({ at: -1, _id: 1 } as const) : undefined;
        const limit = random() < 0.3 ? 3 : undefined;
        const options = { ...(sort ? { sort } : {}), ...(limit ? { limit } : {}) };
        const label = JSON.stringify({ filter, options });
        expect(await indexed.find(filter, options), label).toEqual(await scanned.find(filter, options));
        expect(await indexed.countDocuments(filter), label).toBe(await scanned.countDocuments(filter));
        expect(await indexed.findOne(filter), label).toEqual(await scanned.findOne(filter));
      }
      // Move documents between indexed values, one at a time and many at once.
      const filter = randomFilter(random);
      const set = { status: oddValue(random, STATUSES) ?? 'expired', 'holder.email': pick(random, EMAILS) };
      const after = { returnDocument: 'after' } as const;
      expect(await indexed.findOneAndUpdate(filter, { $set: set }, after)).toEqual(
        await scanned.findOneAndUpdate(filter, { $set: set }, after),
      );
      const many = randomFilter(random);
      const tag = pick(random, ['x', 'y', 'z']);
      expect(await indexed.updateMany(many, { $set: { tag } })).toEqual(
        await scanned.updateMany(many, { $set: { tag } }),
      );
      expect(await indexed.find({})).toEqual(await scanned.find({}));
    }
  });

  it('are declared for every collection of the memory store, which still finds what it stores', async () => {
    const { grants } = createMemoryCollections();
    for (let i = 0; i < 50; i++) {
      await grants.insertOne({
        _id: `g${i}`,
        requestId: `r${i}`,
        resourceId: i % 2 ? 'db' : 'web',
        holder: { email: `p${i % 5}@x`, name: 'P' },
        duration: 'PT1H',
        justification: 'j',
        status: i % 3 ? 'active' : 'expired',
        createdAt: new Date(BASE + i),
        expiresAt: new Date(BASE + i * 1000),
        attempts: 0,
      });
    }
    const due = await grants.find(
      { $or: [{ status: 'active', expiresAt: { $lte: new Date(BASE + 10_000) } }] },
      { sort: { createdAt: 1, _id: 1 } },
    );
    expect(due.map((g) => g._id)).toEqual(['g1', 'g2', 'g4', 'g5', 'g7', 'g8', 'g10']);
    await grants.findOneAndUpdate(
      { _id: 'g1' },
      { $set: { status: 'expired' } },
      { returnDocument: 'after' },
    );
    expect(await grants.countDocuments({ status: 'active', 'holder.email': 'p1@x' })).toBe(
      (await grants.find({ 'holder.email': 'p1@x' })).filter((g) => g.status === 'active').length,
    );
    expect(await grants.findOne({ requestId: 'r1' })).toMatchObject({
      status: 'expired',
      expiresAt: new Date(BASE + 1000),
    });
  });
});
