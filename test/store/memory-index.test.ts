/**
 * The memory store's lookup indexes (src/store/memory-index.ts) only narrow which documents a query
 * reads: a collection with them must answer every query exactly as one without them, including
 * for documents whose indexed field is an array, nested under an array, missing, null or of
 * another type, and after updates that move documents between values.
 */
import { describe, expect, it } from 'vitest';
import { DuplicateKeyError } from '../../src/domain/ports.js';
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

  it('find the documents a partial index covers, as a scan does, while the field comes and goes', async () => {
    interface Marked {
      _id: string;
      at: Date;
      mark?: unknown;
    }
    const partial = [{ fields: ['at', '_id'], requires: ['mark'] }];
    const indexed = new MemoryCollection<Marked>('marked', [], partial);
    const scanned = new MemoryCollection<Marked>('marked', []);
    const random = seeded(7);
    const after = { returnDocument: 'after' } as const;
    const sort = { sort: { at: 1, _id: 1 } } as const;
    for (let i = 0; i < 200; i++) {
      const r = random();
      const doc: Marked = {
        _id: `m${i}`,
        at: new Date(BASE + Math.floor(random() * 50)),
        ...(r < 0.2 ? { mark: 'approved' } : r < 0.25 ? { mark: null } : r < 0.3 ? { mark: ['x'] } : {}),
      };
      await indexed.insertOne(doc);
      await scanned.insertOne(doc);
      if (i % 7 === 0) {
        // Settle one (the mark removed) and mark another.
        const target = `m${Math.floor(random() * (i + 1))}`;
        const update = random() < 0.5 ? { $unset: { mark: '' } } : { $set: { mark: 'ended' } };
        expect(await indexed.findOneAndUpdate({ _id: target }, update as never, after)).toEqual(
          await scanned.findOneAndUpdate({ _id: target }, update as never, after),
        );
      }
      const filter = { mark: { $exists: true } } as Filter<Marked>;
      expect(await indexed.find(filter, { ...sort, limit: 5 })).toEqual(
        await scanned.find(filter, { ...sort, limit: 5 }),
      );
      expect(await indexed.countDocuments(filter)).toBe(await scanned.countDocuments(filter));
    }
    const settled = {
      $or: [{ mark: { $exists: true }, at: { $gte: new Date(BASE + 25) } }],
    } as Filter<Marked>;
    expect(await indexed.find(settled, sort)).toEqual(await scanned.find(settled, sort));
  });

  it('enforce unique keys (found through the maps) exactly as a key-by-key comparison of every document does', async () => {
    interface Keyed {
      _id: string;
      k?: unknown;
      a?: unknown;
      b?: unknown;
    }
    const random = seeded(99);
    const odd = (): unknown => {
      const r = random();
      if (r < 0.5) return pick(random, ['x', 'y', 'z']);
      if (r < 0.6) return null;
      if (r < 0.7) return undefined;
      if (r < 0.8) return new Date(BASE + Math.floor(random() * 2));
      if (r < 0.9) return Math.floor(random() * 2);
      return [pick(random, ['x', 'y'])];
    };
    const randomKeyed = (id: string): Keyed => {
      const doc: Keyed = { _id: id, k: odd(), a: odd(), b: odd() };
      for (const key of ['k', 'a', 'b'] as const) if (doc[key] === undefined) delete doc[key];
      return doc;
    };
    // The reference: a key is the JSON of its fields' values, a missing one as null, Dates by time.
    const keyOf = (doc: Keyed, fields: Array<'k' | 'a' | 'b'>) =>
      JSON.stringify(
        fields.map((f) => (doc[f] instanceof Date ? { t: (doc[f] as Date).getTime() } : (doc[f] ?? null))),
      );
    const clashes = (docs: Keyed[]) =>
      [['k'], ['a', 'b']].some((fields) => {
        const keys = docs.map((d) => keyOf(d, fields as Array<'k' | 'a' | 'b'>));
        return new Set(keys).size !== keys.length;
      });
    const c = new MemoryCollection<Keyed>('keyed', [['k'], ['a', 'b']], [['a', 'b']]);
    let held: Keyed[] = [];
    const after = { returnDocument: 'after' } as const;
    for (let i = 0; i < 400; i++) {
      const r = random();
      if (r < 0.5) {
        const doc = randomKeyed(`d${i}`);
        const refused = clashes([...held, doc]);
        const outcome = await c.insertOne(doc).then(
          () => 'stored',
          (e: unknown) => e,
        );
        if (refused) expect(outcome, JSON.stringify(doc)).toBeInstanceOf(DuplicateKeyError);
        else expect(outcome, JSON.stringify(doc)).toBe('stored');
        if (!refused) held.push(doc);
      } else if (r < 0.85 && held.length > 0) {
        const target = pick(random, held);
        const changed = { ...randomKeyed(target._id) };
        const set: Record<string, unknown> = {};
        const unset: Record<string, ''> = {};
        for (const f of ['k', 'a', 'b'] as const) {
          if (changed[f] === undefined) unset[f] = '';
          else set[f] = changed[f];
        }
        const next = held.map((d) => (d._id === target._id ? changed : d));
        const refused = clashes(next);
        const update = {
          ...(Object.keys(set).length ? { $set: set } : {}),
          ...(Object.keys(unset).length ? { $unset: unset } : {}),
        };
        const outcome = await c
          .findOneAndUpdate({ _id: target._id }, update as never, after)
          .catch((e: unknown) => e);
        if (refused) expect(outcome).toBeInstanceOf(DuplicateKeyError);
        else held = next;
      } else {
        // updateMany: every document with k = 'x' (or an array holding it) gets b = 'y': all or nothing.
        const matches = (d: Keyed) => d.k === 'x' || (Array.isArray(d.k) && d.k.includes('x'));
        const next = held.map((d) => (matches(d) ? { ...d, b: 'y' } : d));
        const refused = clashes(next);
        const outcome = await c.updateMany({ k: 'x' }, { $set: { b: 'y' } }).catch((e: unknown) => e);
        if (refused) expect(outcome).toBeInstanceOf(DuplicateKeyError);
        else held = next;
      }
      expect(await c.find({}, { sort: { _id: 1 } })).toEqual(
        [...held].sort((x, y) => (x._id < y._id ? -1 : 1)),
      );
    }
  });

  it('keep unique keys, maps and partial sets right when an update writes only some fields (nested, parent or none of a key)', async () => {
    // An update through the fast path re-reads only the keys, maps and sets over the paths it
    // writes: checked here against a reference that applies each update itself and compares every
    // unique key of every document, and against a collection that scans.
    type Loose = { _id: string } & Record<string, unknown>;
    const random = seeded(424242);
    const uniques = [
      ['k'],
      ['a.b', 'c'],
      { fields: ['p'], partialFilterExpression: { p: { $exists: true as const } } },
    ];
    const indexed = new MemoryCollection<Loose>('loose', uniques, [['s', 't'], ['a.b'], ['a.d', 'n']]);
    const scanned = new MemoryCollection<Loose>('loose-scan', []);
    const PATHS = ['k', 'a', 'a.b', 'a.d', 'c', 'p', 's', 't', 'n', 'x'];
    const value = (path: string): unknown => {
      if (path === 'a') return random() < 0.5 ? { b: pick(random, ['x', 'y']) } : { d: 'x', b: 'y' };
      if (path === 'n') return Math.floor(random() * 3);
      return random() < 0.85 ? pick(random, ['x', 'y', 'z']) : null;
    };
    const get = (doc: Loose, path: string): unknown =>
      path
        .split('.')
        .reduce<unknown>(
          (v, part) => (v !== null && typeof v === 'object' ? (v as Loose)[part] : undefined),
          doc,
        );
    const keyOf = (doc: Loose, fields: string[]) => JSON.stringify(fields.map((f) => get(doc, f) ?? null));
    const clashes = (docs: Loose[]) =>
      [['k'], ['a.b', 'c']].some(
        (fields) => new Set(docs.map((d) => keyOf(d, fields))).size !== docs.length,
      ) ||
      (() => {
        const keys = docs.filter((d) => d.p !== undefined).map((d) => keyOf(d, ['p']));
        return new Set(keys).size !== keys.length;
      })();
    /** The update applied by hand (paths never inside one another). */
    const apply = (
      doc: Loose,
      set: Record<string, unknown>,
      unset: string[],
      inc: Record<string, number>,
    ) => {
      const out = structuredClone(doc);
      const parentOf = (path: string, create: boolean) => {
        const parts = path.split('.');
        let o: Record<string, unknown> = out;
        for (const part of parts.slice(0, -1)) {
          if (o[part] === undefined) {
            if (!create) return null;
            o[part] = {};
          }
          o = o[part] as Record<string, unknown>;
        }
        return { o, last: parts[parts.length - 1] as string };
      };
      for (const [path, v] of Object.entries(set)) {
        const at = parentOf(path, true);
        if (at) at.o[at.last] = structuredClone(v);
      }
      for (const path of unset) {
        const at = parentOf(path, false);
        if (at) delete at.o[at.last];
      }
      for (const [path, v] of Object.entries(inc)) {
        const at = parentOf(path, true);
        if (at) at.o[at.last] = ((at.o[at.last] as number | undefined) ?? 0) + v;
      }
      return out;
    };
    let held: Loose[] = [];
    const after = { returnDocument: 'after' } as const;
    for (let i = 0; i < 600; i++) {
      if (random() < 0.3 || held.length === 0) {
        const doc: Loose = { _id: `d${i}`, n: 0 };
        for (const path of ['k', 'a', 'c', 'p', 's', 't']) if (random() < 0.7) doc[path] = value(path);
        const refused = clashes([...held, doc]);
        const outcome = await indexed.insertOne(doc).then(
          () => 'stored',
          (e: unknown) => e,
        );
        if (refused) expect(outcome).toBeInstanceOf(DuplicateKeyError);
        else {
          expect(outcome).toBe('stored');
          await scanned.insertOne(doc);
          held.push(doc);
        }
      } else {
        const target = pick(random, held);
        // One to three paths, none inside another (an `a` and an `a.b` together are refused).
        const chosen: string[] = [];
        for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
          const path = pick(random, PATHS);
          if (!chosen.some((c) => c === path || c.startsWith(`${path}.`) || path.startsWith(`${c}.`)))
            chosen.push(path);
        }
        const set: Record<string, unknown> = {};
        const unset: string[] = [];
        const inc: Record<string, number> = {};
        for (const path of chosen) {
          const r = random();
          if (path === 'n') inc.n = 1;
          else if (r < 0.3 && !(path.startsWith('a.') && typeof target.a !== 'object')) unset.push(path);
          else if (!(path.startsWith('a.') && target.a === null)) set[path] = value(path);
        }
        const update = {
          ...(Object.keys(set).length ? { $set: set } : {}),
          ...(unset.length ? { $unset: Object.fromEntries(unset.map((p) => [p, ''])) } : {}),
          ...(Object.keys(inc).length ? { $inc: inc } : {}),
        };
        if (Object.keys(update).length === 0) continue;
        const changed = apply(target, set, unset, inc);
        const next = held.map((d) => (d._id === target._id ? changed : d));
        const refused = clashes(next);
        const outcome = await indexed
          .findOneAndUpdate({ _id: target._id }, update as never, after)
          .catch((e: unknown) => e);
        if (refused) expect(outcome, JSON.stringify(update)).toBeInstanceOf(DuplicateKeyError);
        else {
          expect(outcome, JSON.stringify(update)).toEqual(changed);
          await scanned.findOneAndUpdate({ _id: target._id }, update as never, after);
          held = next;
        }
      }
      expect(await indexed.find({}, { sort: { _id: 1 } })).toEqual(
        [...held].sort((x, y) => (x._id < y._id ? -1 : 1)),
      );
      if (i % 10 === 0) {
        const filters = [
          { s: pick(random, ['x', 'y', 'z']), t: pick(random, ['x', 'y']) },
          { 'a.b': pick(random, ['x', 'y']) },
          { 'a.d': 'x', n: { $in: [0, 1, 2] } },
          { p: { $exists: true } },
          { k: pick(random, ['x', 'y', 'z']) },
          { 'a.b': pick(random, ['x', 'y']), c: pick(random, ['x', 'y', null]) },
        ];
        for (const filter of filters) {
          expect(await indexed.find(filter as never, { sort: { _id: 1 } })).toEqual(
            await scanned.find(filter as never, { sort: { _id: 1 } }),
          );
        }
      }
    }
  });

  it('answer as a full scan does when most documents share a value, and after most of them move off it', async () => {
    interface Item {
      _id: string;
      status: string;
      lane: string;
    }
    // Enough documents that the bucket of the common status is kept only as a count (memory-index.ts).
    const indexed = new MemoryCollection<Item>('items', [], [['status'], ['lane', 'status']]);
    const scanned = new MemoryCollection<Item>('items', []);
    const random = seeded(3);
    const both = async (run: (c: MemoryCollection<Item>) => Promise<unknown>) => {
      const [a, b] = [await run(indexed), await run(scanned)];
      expect(a).toEqual(b);
      return a;
    };
    const queries = async () => {
      for (const status of ['sent', 'pending', 'archived', 'failed']) {
        await both((c) => c.countDocuments({ status }));
        const lane = `l${Math.floor(random() * 40)}`;
        await both((c) => c.find({ status, lane }, { limit: 5 }));
        await both((c) => c.findOne({ status: { $in: [status, 'failed'] } }));
      }
    };
    for (let i = 0; i < 3000; i++) {
      const status = random() < 0.9 ? 'sent' : 'pending';
      await both((c) => c.insertOne({ _id: `i${i}`, status, lane: `l${i % 40}` }));
      if (i % 500 === 0) await queries();
    }
    await queries();
    // Most move off the common value, in one go and one at a time; then some come back.
    const most = Array.from({ length: 31 }, (_, i) => `l${i}`);
    await both((c) => c.updateMany({ status: 'sent', lane: { $in: most } }, { $set: { status: 'failed' } }));
    await queries();
    for (let i = 0; i < 20; i++) {
      await both((c) => c.insertOne({ _id: `n${i}`, status: 'sent', lane: `l${35 + (i % 5)}` }));
    }
    await queries();
    await both((c) => c.updateMany({ status: 'sent' }, { $set: { status: 'archived' } }));
    await queries();
    for (let i = 0; i < 200; i++) {
      const id = `i${Math.floor(random() * 3000)}`;
      const status = pick(random, ['sent', 'pending', 'archived']);
      await both((c) => c.findOneAndUpdate({ _id: id }, { $set: { status } }, { returnDocument: 'after' }));
      if (i % 50 === 0) await queries();
    }
    await both((c) => c.deleteMany({ status: 'archived', lane: { $in: ['l5', 'l6'] } }));
    await queries();
    await both((c) => c.find({}));
  });
});
