/**
 * The mingo stand-in for the MongoDB driver (mingo-db.ts) on its own: what it claims to model, as
 * MongoDB does it. The store and Agenda suites trust it, so it is checked here, directly, on the
 * points where a stand-in most easily goes wrong: which document a sorted findOneAndUpdate picks,
 * unique and partial unique indexes with MongoDB's E11000 errors, and upserts.
 */
import { MongoClient, MongoServerError, ObjectId } from 'mongodb';
import mongoose from 'mongoose';
import { beforeEach, describe, expect, it } from 'vitest';
import { createMingoDb, MingoClient, type MingoCollection } from './mingo-db.js';

type Doc = Record<string, unknown>;

/** A fresh collection of a fresh stand-in database. */
function freshCollection(name = 'things'): MingoCollection {
  return createMingoDb('mingo_test').collection(name) as unknown as MingoCollection;
}

/** The MongoServerError `promise` rejects with. */
async function serverError(promise: Promise<unknown>): Promise<MongoServerError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}

describe('mingo stand-in for the MongoDB driver', () => {
  let c: MingoCollection;
  beforeEach(() => {
    c = freshCollection();
  });

  describe('findOneAndUpdate picks the document MongoDB would', () => {
    beforeEach(async () => {
      for (const doc of [
        { _id: 'a', group: 'x', rank: 2, at: new Date(30) },
        { _id: 'b', group: 'y', rank: 1, at: new Date(10) },
        { _id: 'c', group: 'x', rank: 1, at: new Date(20) },
        { _id: 'd', group: 'x', rank: 1, at: new Date(10) },
      ]) {
        await c.insertOne(doc);
      }
    });

    const pick = async (filter: Doc, sort?: unknown) =>
      (await c.findOneAndUpdate(filter, { $inc: { picked: 1 } }, sort === undefined ? {} : { sort }))?._id;

    it('the first in natural (insertion) order without a sort', async () => {
      expect(await pick({ group: 'x' })).toBe('a');
      // An update keeps a document's place in natural order.
      expect(await pick({ group: 'x' })).toBe('a');
      expect((await c.find({}).toArray()).map((d) => d._id)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('the first by the sort, ascending or descending, key after key', async () => {
      expect(await pick({ group: 'x' }, { rank: 1, at: 1 })).toBe('d');
      expect(await pick({ group: 'x' }, { rank: 1, at: -1 })).toBe('c');
      expect(await pick({ group: 'x' }, { rank: -1 })).toBe('a');
      expect(await pick({}, { at: 1, _id: -1 })).toBe('d');
      expect(await pick({}, { at: 1, _id: 1 })).toBe('b');
      // Agenda sorts with 'asc'/'desc'.
      expect(await pick({ group: 'x' }, { at: 'desc' })).toBe('a');
      expect(await pick({ group: 'x' }, { at: 'asc', _id: 'asc' })).toBe('d');
    });

    it('only among the documents that match, and none when none do', async () => {
      expect(await pick({ group: 'y' }, { at: -1 })).toBe('b');
      expect(await pick({ group: 'z' }, { at: -1 })).toBeUndefined();
      expect(await c.findOneAndUpdate({ group: 'z' }, { $set: { n: 1 } }, {})).toBeNull();
    });

    it("returns the document before the update by default (the driver's default), or after it", async () => {
      const before = await c.findOneAndUpdate({ _id: 'b' }, { $set: { rank: 5 } });
      expect(before).toEqual({ _id: 'b', group: 'y', rank: 1, at: new Date(10) });
      const after = await c.findOneAndUpdate(
        { _id: 'b' },
        { $set: { rank: 6 }, $unset: { at: '' } },
        { returnDocument: 'after' },
      );
      expect(after).toEqual({ _id: 'b', group: 'y', rank: 6 });
    });

    it('refuses a sort it cannot read', async () => {
      await expect(c.findOneAndUpdate({}, { $set: { n: 1 } }, { sort: [['rank', 1]] })).rejects.toThrow(
        /not modelled/,
      );
      await expect(c.findOneAndUpdate({}, { $set: { n: 1 } }, { sort: { rank: 2 } })).rejects.toThrow(
        /not modelled/,
      );
    });
  });

  describe('unique indexes', () => {
    it('refuse a duplicate with E11000: code 11000, keyPattern, keyValue and the server message', async () => {
      await c.createIndex({ email: 1, tenant: 1 }, { unique: true, name: 'email+tenant' });
      await c.insertOne({ _id: 'a', email: 'x@example.com', tenant: 't1' });
      await c.insertOne({ _id: 'b', email: 'x@example.com', tenant: 't2' });
      const error = await serverError(c.insertOne({ _id: 'c', email: 'x@example.com', tenant: 't1' }));
      expect(error.code).toBe(11000);
      expect(error.keyPattern).toEqual({ email: 1, tenant: 1 });
      expect(error.keyValue).toEqual({ email: 'x@example.com', tenant: 't1' });
      expect(error.message).toBe(
        'E11000 duplicate key error collection: mingo_test.things index: email+tenant dup key: { email: "x@example.com", tenant: "t1" }',
      );
      expect(await c.countDocuments({})).toBe(2);
    });

    it('always hold on _id', async () => {
      await c.insertOne({ _id: 'a' });
      const error = await serverError(c.insertOne({ _id: 'a', other: 1 }));
      expect(error.code).toBe(11000);
      expect(error.keyPattern).toEqual({ _id: 1 });
      expect(error.message).toMatch(/index: _id_ dup key: \{ _id: "a" \}/);
    });

    it('count a missing field as null', async () => {
      await c.createIndex({ k: 1 }, { unique: true });
      await c.insertOne({ _id: 'a' });
      const error = await serverError(c.insertOne({ _id: 'b', k: null }));
      expect(error.keyValue).toEqual({ k: null });
      await c.insertOne({ _id: 'c', k: 'x' });
    });

    it('leave the document unchanged when an update would break one', async () => {
      await c.createIndex({ k: 1 }, { unique: true, name: 'k' });
      await c.insertOne({ _id: 'a', k: 1, n: 0 });
      await c.insertOne({ _id: 'b', k: 2, n: 0 });
      const error = await serverError(
        c.findOneAndUpdate({ _id: 'b' }, { $set: { k: 1, n: 9 } }, { returnDocument: 'after' }),
      );
      expect(error.code).toBe(11000);
      expect(await c.findOne({ _id: 'b' })).toEqual({ _id: 'b', k: 2, n: 0 });
      // A document may keep its own key.
      expect(
        await c.findOneAndUpdate({ _id: 'b' }, { $set: { k: 2, n: 1 } }, { returnDocument: 'after' }),
      ).toEqual({ _id: 'b', k: 2, n: 1 });
    });

    it('stop updateMany at the first clash, keeping what it changed before it', async () => {
      await c.createIndex({ k: 1 }, { unique: true });
      await c.insertOne({ _id: 'a', k: 1, tag: 't' });
      await c.insertOne({ _id: 'b', k: 2, tag: 't' });
      await c.insertOne({ _id: 'c', k: 3, tag: 't' });
      await serverError(c.updateMany({ tag: 't' }, { $set: { k: 7 } }));
      expect((await c.find({}, { sort: { _id: 1 } }).toArray()).map((d) => d.k)).toEqual([7, 2, 3]);
    });

    it('cannot be created over documents that already clash', async () => {
      await c.insertOne({ _id: 'a', k: 1 });
      await c.insertOne({ _id: 'b', k: 1 });
      const error = await serverError(c.createIndex({ k: 1 }, { unique: true }));
      expect(error.code).toBe(11000);
      await c.createIndex({ k: 1 });
    });

    it('refuse the same name with another key or other options', async () => {
      await c.createIndex({ k: 1 }, { unique: true, name: 'k' });
      expect(await c.createIndex({ k: 1 }, { unique: true, name: 'k' })).toBe('k');
      expect((await serverError(c.createIndex({ j: 1 }, { name: 'k' }))).code).toBe(86);
      expect((await serverError(c.createIndex({ k: 1 }, { name: 'k' }))).code).toBe(85);
      expect((await serverError(c.createIndex({ k: 1 }, { unique: true, name: 'other' }))).code).toBe(85);
    });
  });

  describe('partial unique indexes', () => {
    const partial = {
      unique: true,
      name: 'openKey',
      partialFilterExpression: { openKey: { $exists: true } },
    };

    it('constrain only the documents that match the filter', async () => {
      await c.createIndex({ openKey: 1 }, partial);
      await c.insertOne({ _id: 'a', openKey: 'alice|db' });
      await c.insertOne({ _id: 'b' });
      await c.insertOne({ _id: 'c' });
      await c.insertOne({ _id: 'd', openKey: 'bob|db' });
      const error = await serverError(c.insertOne({ _id: 'e', openKey: 'alice|db' }));
      expect(error.code).toBe(11000);
      expect(error.keyPattern).toEqual({ openKey: 1 });
      expect(error.keyValue).toEqual({ openKey: 'alice|db' });
      expect(error.message).toMatch(/index: openKey dup key: \{ openKey: "alice\|db" \}/);
    });

    it('let a key go when its document loses the field, and refuse taking one that is held', async () => {
      await c.createIndex({ openKey: 1 }, partial);
      await c.insertOne({ _id: 'a', openKey: 'k' });
      await c.insertOne({ _id: 'b' });
      expect((await serverError(c.updateOne({ _id: 'b' }, { $set: { openKey: 'k' } }))).code).toBe(11000);
      await c.updateOne({ _id: 'a' }, { $unset: { openKey: '' } });
      await c.updateOne({ _id: 'b' }, { $set: { openKey: 'k' } });
      expect((await serverError(c.insertOne({ _id: 'c', openKey: 'k' }))).code).toBe(11000);
    });

    it('can be created over documents that clash only outside the filter', async () => {
      await c.insertOne({ _id: 'a', openKey: 'k', status: 'done' });
      await c.insertOne({ _id: 'b', openKey: 'k', status: 'open' });
      await c.createIndex({ openKey: 1 }, { ...partial, partialFilterExpression: { status: 'open' } });
      await c.insertOne({ _id: 'c', openKey: 'k', status: 'done' });
      expect((await serverError(c.insertOne({ _id: 'd', openKey: 'k', status: 'open' }))).code).toBe(11000);
      await expect(c.createIndex({ openKey: 1 }, { unique: true, name: 'all' })).rejects.toThrow(/E11000/);
    });

    it('are listed with their filter, as the server lists them', async () => {
      await c.createIndex({ openKey: 1 }, partial);
      await c.createIndex({ status: 1, at: -1 });
      expect(await c.listIndexes().toArray()).toEqual([
        { v: 2, key: { _id: 1 }, name: '_id_' },
        {
          v: 2,
          key: { openKey: 1 },
          name: 'openKey',
          unique: true,
          partialFilterExpression: { openKey: { $exists: true } },
        },
        { v: 2, key: { status: 1, at: -1 }, name: 'status_1_at_-1' },
      ]);
    });

    it('refuse a filter the server refuses, or one not modelled here', async () => {
      const refused = await serverError(
        c.createIndex({ k: 1 }, { unique: true, partialFilterExpression: { k: { $exists: false } } }),
      );
      expect(refused.code).toBe(67);
      await expect(
        c.createIndex({ k: 1 }, { unique: true, partialFilterExpression: { $or: [{ k: 1 }, { j: 1 }] } }),
      ).rejects.toThrow(/not modelled/);
      await expect(
        c.createIndex({ k: 1 }, { unique: true, partialFilterExpression: { k: { $ne: 1 } } }),
      ).rejects.toThrow(/not modelled/);
    });
  });

  describe('upserts', () => {
    it("insert the filter's equalities, then $setOnInsert and the update, returning the new document", async () => {
      const created = await c.findOneAndUpdate(
        { kind: 'card', 'to.email': 'b@example.com', n: { $eq: 3 }, $and: [{ tag: 't' }], m: { $gt: 1 } },
        { $set: { address: 'C1' }, $setOnInsert: { _id: 'first', createdAt: new Date(5) } },
        { upsert: true, returnDocument: 'after' },
      );
      // Conditions that are not equalities ($gt) are not copied.
      expect(created).toEqual({
        _id: 'first',
        kind: 'card',
        to: { email: 'b@example.com' },
        n: 3,
        tag: 't',
        createdAt: new Date(5),
        address: 'C1',
      });
      expect(await c.findOne({ _id: 'first' })).toEqual(created);
    });

    it("return null with returnDocument 'before' when they insert", async () => {
      expect(
        await c.findOneAndUpdate(
          { kind: 'card' },
          { $set: { address: 'C1' }, $setOnInsert: { _id: 'x' } },
          { upsert: true, returnDocument: 'before' },
        ),
      ).toBeNull();
      expect(await c.findOne({ kind: 'card' })).toEqual({ _id: 'x', kind: 'card', address: 'C1' });
    });

    it('update a matching document instead, ignoring $setOnInsert', async () => {
      await c.insertOne({ _id: 'a', kind: 'card', address: 'C0' });
      const before = await c.findOneAndUpdate(
        { kind: 'card' },
        { $set: { address: 'C2' }, $setOnInsert: { _id: 'b', createdAt: new Date(1) } },
        { upsert: true, returnDocument: 'before' },
      );
      expect(before).toEqual({ _id: 'a', kind: 'card', address: 'C0' });
      expect(await c.find({}).toArray()).toEqual([{ _id: 'a', kind: 'card', address: 'C2' }]);
    });

    it('give the new document an ObjectId when neither the filter nor the update names an _id', async () => {
      const result = await c.updateOne({ name: 'job' }, { $set: { n: 1 } }, { upsert: true });
      expect(result).toMatchObject({ matchedCount: 0, modifiedCount: 0, upsertedCount: 1 });
      expect(result.upsertedId).toBeInstanceOf(ObjectId);
      const [doc] = await c.find({ name: 'job' }).toArray();
      expect(doc?._id).toEqual(result.upsertedId);
    });

    it('respect unique indexes: a clashing upsert fails with E11000 and inserts nothing', async () => {
      await c.createIndex({ k: 1 }, { unique: true });
      await c.insertOne({ _id: 'a', k: 1, tag: 'old' });
      const error = await serverError(
        c.findOneAndUpdate({ tag: 'new' }, { $set: { k: 1 } }, { upsert: true, returnDocument: 'after' }),
      );
      expect(error.code).toBe(11000);
      expect(await c.countDocuments({})).toBe(1);
    });
  });

  describe('values and refusals', () => {
    it('stores values as BSON does: Dates stay Dates, undefined becomes null, nothing is shared', async () => {
      const doc: Doc = { _id: 'a', at: new Date(7), nested: { list: [new Date(8)] }, gone: undefined };
      await c.insertOne(doc);
      (doc.at as Date).setTime(0);
      const got = await c.findOne({ _id: 'a' });
      expect(got).toEqual({ _id: 'a', at: new Date(7), nested: { list: [new Date(8)] }, gone: null });
      (got?.at as Date | undefined)?.setTime(0);
      expect((await c.findOne({ _id: 'a' }))?.at).toEqual(new Date(7));
    });

    it('refuses updates MongoDB refuses', async () => {
      await c.insertOne({ _id: 'a', n: 1 });
      await expect(c.findOneAndUpdate({ _id: 'a' }, { n: 2 })).rejects.toThrow(/atomic operators/);
      expect((await serverError(c.findOneAndUpdate({ _id: 'a' }, { $set: { _id: 'b' } }))).code).toBe(66);
      expect(
        (await serverError(c.findOneAndUpdate({ _id: 'a' }, { $set: { n: 2 }, $inc: { n: 1 } }))).code,
      ).toBe(40);
    });

    it('throws on an option it does not model, instead of ignoring it', async () => {
      await expect(c.findOneAndUpdate({}, { $set: { n: 1 } }, { arrayFilters: [] } as never)).rejects.toThrow(
        /option 'arrayFilters' is not modelled/,
      );
      await expect(
        c.findOneAndUpdate({}, { $set: { n: 1 } }, { includeResultMetadata: true }),
      ).rejects.toThrow(/includeResultMetadata: true/);
      expect(() => c.find({}, { collation: { locale: 'fr' } } as never)).toThrow(/collation/);
      await expect(c.createIndex({ k: 1 }, { sparse: true } as never)).rejects.toThrow(/sparse/);
      await expect(c.createIndex({ k: 'text' })).rejects.toThrow(/not modelled/);
    });
  });

  describe('collections and databases', () => {
    it('a collection exists once created, written to or indexed; listIndexes of one that does not fails', async () => {
      const db = createMingoDb('mingo_test');
      const error = await serverError(
        (db.collection('nothing') as unknown as MingoCollection).listIndexes().toArray(),
      );
      expect(error.code).toBe(26);
      expect(error.codeName).toBe('NamespaceNotFound');
      await db.createCollection('made');
      expect((await serverError(db.createCollection('made'))).code).toBe(48);
      await db.collection('written').insertOne({ _id: 'a' } as never);
      expect((await serverError(db.createCollection('written'))).codeName).toBe('NamespaceExists');
      expect(await (db.collection('made') as unknown as MingoCollection).listIndexes().toArray()).toEqual([
        { v: 2, key: { _id: 1 }, name: '_id_' },
      ]);
    });

    it('answers ping and nothing else', async () => {
      const db = createMingoDb('mingo_test');
      expect(await db.command({ ping: 1 })).toEqual({ ok: 1 });
      await expect(db.command({ serverStatus: 1 })).rejects.toThrow(/not modelled/);
    });

    it('drops an index by name, but never _id_', async () => {
      await c.createIndex({ k: 1 }, { unique: true, name: 'k' });
      await c.dropIndex('k');
      await c.insertOne({ _id: 'a', k: 1 });
      await c.insertOne({ _id: 'b', k: 1 });
      expect((await serverError(c.dropIndex('k'))).code).toBe(27);
      expect((await serverError(c.dropIndex('_id_'))).code).toBe(72);
    });
  });

  describe('MingoClient', () => {
    it('is a MongoClient that mongoose takes through setClient once connected, and never dials', async () => {
      const client = new MingoClient('client_test');
      expect(client).toBeInstanceOf(MongoClient);
      expect(() => mongoose.createConnection().setClient(client)).toThrow(/connect\(\)/);
      await client.connect();
      const conn = mongoose.createConnection().setClient(client);
      try {
        expect(conn.readyState).toBe(mongoose.ConnectionStates.connected);
        expect(conn.name).toBe('client_test');
        expect(conn.db).toBe(client.db());
        expect(client.db('client_test')).toBe(client.db());
        expect(client.db('other')).not.toBe(client.db());
        const Thing = conn.model(
          'Thing',
          new mongoose.Schema({ _id: String, n: Number }, { versionKey: false }),
        );
        await Thing.create({ _id: 'a', n: 1 });
        expect(
          await client
            .db()
            .collection('things')
            .findOne({ _id: 'a' as never }),
        ).toEqual({ _id: 'a', n: 1 });
      } finally {
        await conn.close();
      }
    });
  });
});
