import fc from 'fast-check';
import mongoose from 'mongoose';
import { describe, expect, it } from 'vitest';
import { DuplicateKeyError } from '../../src/domain/ports.js';
import { copyDoc, storedCopy } from '../../src/store/copy.js';
import { type CollectionName, INDEXES, uniqueKeyName, uniqueKeys } from '../../src/store/indexes.js';
import { createMemoryCollections, createMemoryStore, MemoryCollection } from '../../src/store/memory.js';
import { buildSchemas, createModels } from '../../src/store/mongo/schemas.js';
import { runCollectionContract, runStoreContract } from './contract.js';
import { runReadContract } from './read-contract.js';

runStoreContract('memory store', async () => createMemoryStore());
runReadContract('memory store', async () => createMemoryStore());

runCollectionContract('memory collections', async () => ({
  collections: createMemoryCollections(),
  dispose: async () => {},
}));

/** One valid document per collection; unique-key tests vary it field by field. */
const BASE: Record<CollectionName, Record<string, unknown>> = {
  requests: {
    _id: 'r1',
    kind: 'access',
    resourceId: 'db',
    requester: { email: 'a@example.com', name: 'A' },
    approvers: ['b@example.com'],
    duration: 'PT1H',
    justification: 'j',
    approval: 'manual',
    status: 'pending',
    createdAt: new Date(0),
    decideBy: new Date(1),
    submissionKey: 'k1',
  },
  grants: {
    _id: 'g1',
    requestId: 'r1',
    resourceId: 'db',
    holder: { email: 'a@example.com', name: 'A' },
    duration: 'PT1H',
    justification: 'j',
    status: 'active',
    createdAt: new Date(0),
    attempts: 0,
    openKey: 'a@example.com|db',
  },
  audit: { _id: 'e1', type: 'request.created', at: new Date(0), actor: 'a@example.com', key: 'r1:created' },
  messages: {
    _id: 'm1',
    platform: 'slack',
    subjectId: 's1',
    purpose: 'approval-card',
    recipient: 'b@example.com',
    address: '{"channel":"D1","ts":"t1"}',
    createdAt: new Date(0),
  },
  outbox: {
    _id: 'o1',
    key: 'k1',
    lane: 'r1|b@example.com',
    recipient: 'b@example.com',
    mode: 'send',
    subjectId: 'r1',
    purpose: 'approval-card',
    message: { view: 'approvalCard' },
    status: 'pending',
    createdAt: new Date(0),
    attempts: 0,
    nextAttemptAt: new Date(0),
    giveUpAt: new Date(1),
  },
  conversations: {
    _id: 'b@example.com',
    platform: 'teams',
    reference: '{"conversation":{"id":"a:1"}}',
    tz: 'Europe/Berlin',
    updatedAt: new Date(0),
  },
  resource_settings: {
    _id: 'db',
    jitEnabled: true,
    updatedBy: 'o@example.com',
    updatedByName: 'O',
    updatedAt: new Date(0),
    version: 1,
  },
  sightings: { _id: 'b@example.com', platform: 'slack', seenAt: new Date(0) },
};

const COLLECTIONS = Object.keys(INDEXES) as CollectionName[];

/** Models on a connection that never connects: enough to validate documents offline. */
const models = createModels(mongoose.createConnection());

/** `doc` with the value at dotted `path` replaced by a distinct one. */
function varied(doc: Record<string, unknown>, path: string, suffix: string): Record<string, unknown> {
  const copy = structuredClone(doc);
  const parts = path.split('.');
  let target: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
  const last = parts.at(-1) as string;
  target[last] = `${String(target[last])}-${suffix}`;
  return copy;
}

describe('unique keys: indexes.ts, the mongoose schemas and the memory store agree', () => {
  it.each(COLLECTIONS)('%s: the mongoose schema declares exactly the indexes of indexes.ts', (name) => {
    const declared = buildSchemas()
      [name].indexes()
      .map(([fields, options]) => ({
        fields,
        unique: options?.unique === true,
        partialFilterExpression: options?.partialFilterExpression,
        expireAfterSeconds: options?.expireAfterSeconds,
      }));
    expect(declared).toEqual(
      INDEXES[name].map((i) => ({
        fields: i.fields,
        unique: i.unique === true,
        partialFilterExpression: i.partialFilterExpression,
        expireAfterSeconds: i.expireAfterSeconds,
      })),
    );
  });

  it.each(COLLECTIONS)('%s: the memory store enforces every unique key, and only those', async (name) => {
    const keys = uniqueKeys(name);
    expect(keys[0]).toEqual({ fields: ['_id'] });
    const allFields = keys.flatMap((k) => k.fields);
    const base = BASE[name];
    // The base document is valid for the mongoose schema, so the keys are exercised on real shapes.
    await expect(new models[name](base).validate()).resolves.toBeUndefined();

    for (const { fields, partialFilterExpression } of keys) {
      const collections = createMemoryCollections();
      const collection = collections[name] as unknown as MemoryCollection<{ _id: string }>;
      await collection.insertOne(base as { _id: string });
      // Same key, every other field (including the other unique keys) different: refused.
      let clash = structuredClone(base);
      for (const other of allFields) if (!fields.includes(other)) clash = varied(clash, other, 'x');
      const error = await collection.insertOne(clash as { _id: string }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicateKeyError);
      expect((error as DuplicateKeyError).key).toBe(uniqueKeyName(fields));
      // Any one field of the key different (and the other keys too): accepted.
      for (const field of fields) {
        let distinct = varied(base, field, `y-${field}`);
        for (const other of allFields)
          if (!fields.includes(other)) distinct = varied(distinct, other, `z-${field}`);
        await collection.insertOne(distinct as { _id: string });
      }
      expect(await collection.countDocuments({})).toBe(1 + fields.length);
      if (partialFilterExpression) {
        // A partial key constrains only the documents that have its fields: any number lack them.
        for (const suffix of ['p', 'q']) {
          let without = structuredClone(base);
          for (const other of allFields)
            if (!fields.includes(other)) without = varied(without, other, suffix);
          for (const field of Object.keys(partialFilterExpression)) delete without[field];
          await collection.insertOne(without as { _id: string });
        }
        expect(await collection.countDocuments({})).toBe(3 + fields.length);
      }
    }
  });

  it('a partial unique key holds only while a document has its field, and frees it when the field goes', async () => {
    const c = new MemoryCollection<{ _id: string; k?: string; n: number }>('t', [
      { fields: ['k'], partialFilterExpression: { k: { $exists: true } } },
    ]);
    await c.insertOne({ _id: 'a', k: 'x', n: 1 });
    await c.insertOne({ _id: 'b', n: 1 });
    await c.insertOne({ _id: 'c', n: 1 });
    await expect(c.insertOne({ _id: 'd', k: 'x', n: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
    await expect(
      c.findOneAndUpdate({ _id: 'b' }, { $set: { k: 'x' } }, { returnDocument: 'after' }),
    ).rejects.toBeInstanceOf(DuplicateKeyError);
    // `a` gives the key up: `b` may take it, and `a` may not take it back.
    await c.findOneAndUpdate({ _id: 'a' }, { $unset: { k: '' } }, { returnDocument: 'after' });
    await c.findOneAndUpdate({ _id: 'b' }, { $set: { k: 'x' } }, { returnDocument: 'after' });
    await expect(
      c.findOneAndUpdate({ _id: 'a' }, { $set: { k: 'x' } }, { returnDocument: 'after' }),
    ).rejects.toBeInstanceOf(DuplicateKeyError);
    // updateMany: removing the field from many documents is fine, giving it to two is not.
    expect(await c.updateMany({}, { $unset: { k: '' } })).toEqual({ matchedCount: 3, modifiedCount: 1 });
    await expect(c.updateMany({ n: 1 }, { $set: { k: 'y' } })).rejects.toBeInstanceOf(DuplicateKeyError);
    expect(await c.countDocuments({ k: { $exists: true } })).toBe(0);
  });

  it('refuses a partial filter it does not implement', () => {
    expect(
      () =>
        new MemoryCollection('t', [{ fields: ['k'], partialFilterExpression: { k: { $gt: 1 } as never } }]),
    ).toThrow(/\$exists: true/);
  });

  it('a missing field of a unique key counts as null, as in MongoDB', async () => {
    const c = new MemoryCollection<{ _id: string; k?: string }>('t', [['k']]);
    await c.insertOne({ _id: 'a' });
    await expect(c.insertOne({ _id: 'b' })).rejects.toBeInstanceOf(DuplicateKeyError);
    await c.insertOne({ _id: 'c', k: 'x' });
  });
});

describe('memory collection specifics', () => {
  it('hands Dates back as Dates, whether a query and update take its fast paths or mingo, and refuses a bigint', async () => {
    type Doc = { _id: string; at: Date; n: number; tags?: string[]; seen?: Date; nested?: { at: Date } };
    const c = new MemoryCollection<Doc>('t', [], [['n', 'at']]);
    const at = new Date('2026-03-01T10:00:00.000Z');
    await c.insertOne({ _id: 'a', at, n: 1, nested: { at } });
    await c.insertOne({ _id: 'b', at: new Date(at.getTime() + 1), n: 1, tags: ['x'] });
    const [a] = await c.find({ n: 1, at: { $lte: at } });
    expect(a?.at).toBeInstanceOf(Date);
    expect(a).toEqual({ _id: 'a', at, n: 1, nested: { at } });
    // $max and $push go to mingo, which is shown Dates: the result is stored and handed out as ever.
    const later = new Date(at.getTime() + 60_000);
    const b = await c.findOneAndUpdate(
      { _id: 'b', at: { $gt: at } },
      { $max: { at: later }, $push: { tags: 'y' }, $set: { seen: later } },
      { returnDocument: 'after' },
    );
    expect(b).toEqual({ _id: 'b', at: later, n: 1, tags: ['x', 'y'], seen: later });
    expect(b?.seen).toBeInstanceOf(Date);
    // A filter mingo evaluates ($elemMatch) and a sort it performs (over an array) see Dates too.
    expect(await c.findOne({ tags: { $elemMatch: { $eq: 'y' } }, at: later })).toEqual(b);
    expect((await c.find({}, { sort: { tags: 1, at: -1 } })).map((d) => d._id)).toEqual(['a', 'b']);
    expect(await c.countDocuments({ 'nested.at': at })).toBe(1);
    await expect(c.insertOne({ _id: 'c', at, n: 2n as unknown as number })).rejects.toThrow(/bigint/);
  });

  it('keeps every string as it was given, whatever its text (property-like names, indexes, control characters)', () => {
    // storedCopy internalizes each string through a property key of a shared object (copy.ts).
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '0', '4294967295', '-1', '')),
          { minLength: 1, maxLength: 5 },
        ),
        (texts) => {
          const doc = {
            _id: 'a',
            list: [...texts],
            nested: Object.fromEntries(texts.map((t, i) => [`k${i}`, t])),
          };
          const stored = storedCopy(doc);
          expect(stored).toEqual(doc);
          expect(copyDoc(stored)).toEqual(doc);
          // A transient field (an outbox item's message) is copied the same, without internalizing.
          const at = new Date(Date.UTC(2026, 0, 1));
          const withMessage = { ...doc, message: { nested: doc.nested, list: doc.list, at } };
          const kept = storedCopy(withMessage, new Set(['message']));
          expect(kept.message).not.toBe(withMessage.message);
          expect(kept.message.nested).not.toBe(doc.nested);
          expect(typeof kept.message.at).toBe('bigint');
          expect(copyDoc(kept)).toEqual(withMessage);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects updates MongoDB would reject', async () => {
    const c = new MemoryCollection<{ _id: string; n: number }>('t');
    await c.insertOne({ _id: 'a', n: 1 });
    await expect(c.findOneAndUpdate({ _id: 'a' }, {}, { returnDocument: 'after' })).rejects.toThrow(/atomic/);
    await expect(
      c.findOneAndUpdate({ _id: 'a' }, { n: 2 } as never, { returnDocument: 'after' }),
    ).rejects.toThrow(/atomic/);
    await expect(
      c.findOneAndUpdate({ _id: 'a' }, { $set: { _id: 'b' } } as never, { returnDocument: 'after' }),
    ).rejects.toThrow(/_id/);
    await expect(
      c.findOneAndUpdate({ _id: 'x' }, { $set: { n: 1 } }, { returnDocument: 'after', upsert: true }),
    ).resolves.toEqual({
      _id: 'x',
      n: 1,
    });
    await expect(
      c.findOneAndUpdate({ n: 5 }, { $set: { n: 6 } }, { returnDocument: 'after', upsert: true }),
    ).rejects.toThrow(/_id/);
    expect(await c.find({}, { sort: { _id: 1 } })).toEqual([
      { _id: 'a', n: 1 },
      { _id: 'x', n: 1 },
    ]);
  });

  it('updateMany is all or nothing when it would break a unique key', async () => {
    const c = new MemoryCollection<{ _id: string; k: string; tag: string }>('t', [['k']]);
    await c.insertOne({ _id: 'a', k: 'a', tag: 'x' });
    await c.insertOne({ _id: 'b', k: 'b', tag: 'x' });
    await expect(c.updateMany({ tag: 'x' }, { $set: { k: 'same' } })).rejects.toBeInstanceOf(
      DuplicateKeyError,
    );
    expect((await c.find({}, { sort: { _id: 1 } })).map((d) => d.k)).toEqual(['a', 'b']);
  });
});

describe('memory collection indexes', () => {
  type Doc = { _id: string; k: string; n: number };

  it('looks up by _id and still applies the rest of the filter', async () => {
    const c = new MemoryCollection<Doc>('t', [['k']]);
    await c.insertOne({ _id: 'a', k: 'a', n: 1 });
    await c.insertOne({ _id: 'b', k: 'b', n: 2 });
    expect(await c.findOne({ _id: 'a', n: 1 })).toEqual({ _id: 'a', k: 'a', n: 1 });
    expect(await c.findOne({ _id: 'a', n: 2 })).toBeNull();
    expect(await c.findOne({ _id: 'a', $or: [{ n: 5 }, { k: 'a' }] })).toEqual({ _id: 'a', k: 'a', n: 1 });
    expect(await c.findOne({ _id: 'zz' })).toBeNull();
    expect(await c.countDocuments({ _id: 'b', n: { $gt: 1 } })).toBe(1);
    expect(await c.find({ _id: 'b' }, { sort: { n: -1 }, limit: 5 })).toEqual([{ _id: 'b', k: 'b', n: 2 }]);
    expect(
      await c.findOneAndUpdate({ _id: 'a', n: 2 }, { $inc: { n: 1 } }, { returnDocument: 'after' }),
    ).toBeNull();
    expect(
      await c.findOneAndUpdate({ _id: 'a', n: 1 }, { $inc: { n: 1 } }, { returnDocument: 'after' }),
    ).toEqual({ _id: 'a', k: 'a', n: 2 });
    await expect(c.findOne({ _id: 'a', n: { $nope: 1 } } as never)).rejects.toThrow();
  });

  it('frees a unique key when its document moves off it, and keeps it after a refused change', async () => {
    const c = new MemoryCollection<Doc>('t', [['k']]);
    await c.insertOne({ _id: 'a', k: 'x', n: 1 });
    await c.insertOne({ _id: 'b', k: 'y', n: 1 });
    await expect(
      c.findOneAndUpdate({ _id: 'b' }, { $set: { k: 'x' } }, { returnDocument: 'after' }),
    ).rejects.toBeInstanceOf(DuplicateKeyError);
    await expect(c.insertOne({ _id: 'c', k: 'y', n: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
    await c.findOneAndUpdate({ _id: 'a' }, { $set: { k: 'z' } }, { returnDocument: 'after' });
    await c.insertOne({ _id: 'c', k: 'x', n: 1 });
    await expect(c.insertOne({ _id: 'd', k: 'z', n: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
    // An upsert claims its key too.
    await c.findOneAndUpdate(
      { _id: 'u', k: 'w' },
      { $set: { n: 2 } },
      { returnDocument: 'after', upsert: true },
    );
    await expect(c.insertOne({ _id: 'e', k: 'w', n: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
    // Changing other fields keeps the key held.
    await c.findOneAndUpdate({ _id: 'u' }, { $inc: { n: 1 } }, { returnDocument: 'after' });
    await expect(c.insertOne({ _id: 'e', k: 'w', n: 1 })).rejects.toBeInstanceOf(DuplicateKeyError);
  });

  it('updateMany checks keys against the collection as it would be', async () => {
    const c = new MemoryCollection<{ _id: string; k: number; tag: string }>('t', [['k']]);
    await c.insertOne({ _id: 'a', k: 1, tag: 'x' });
    await c.insertOne({ _id: 'b', k: 2, tag: 'x' });
    await c.insertOne({ _id: 'c', k: 5, tag: 'y' });
    // a takes the key b gives up: accepted.
    expect(await c.updateMany({ tag: 'x' }, { $inc: { k: 1 } })).toEqual({
      matchedCount: 2,
      modifiedCount: 2,
    });
    // b would take the key of c, which it does not change: refused, nothing changed.
    const error = await c.updateMany({ tag: 'x' }, { $inc: { k: 2 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateKeyError);
    expect((error as DuplicateKeyError).key).toBe('k');
    expect((await c.find({}, { sort: { _id: 1 } })).map((d) => d.k)).toEqual([2, 3, 5]);
    // The keys given up are free, the keys taken are held.
    await c.insertOne({ _id: 'd', k: 1, tag: 'z' });
    await expect(c.insertOne({ _id: 'e', k: 2, tag: 'z' })).rejects.toBeInstanceOf(DuplicateKeyError);
    await expect(c.insertOne({ _id: 'e', k: 3, tag: 'z' })).rejects.toBeInstanceOf(DuplicateKeyError);
  });
});
