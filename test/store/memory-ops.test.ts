/**
 * The memory store's fast paths (src/store/memory-ops.ts) may decline a filter, sort or update,
 * but must never answer differently from mingo, which the store used for everything before: for
 * documents whose fields are missing, null, of another type, nested, or arrays.
 */
import fc from 'fast-check';
import { Query } from 'mingo';
import type { AnyObject } from 'mingo/types';
import { update as mingoUpdate } from 'mingo/updater';
import { describe, expect, it } from 'vitest';
import { copyDoc, storedCopy } from '../../src/store/copy.js';
import { appliedFast, compareForSort, compileMatcher } from '../../src/store/memory-ops.js';

const BASE = Date.UTC(2026, 0, 1);
const scalar = fc.oneof(
  fc.constantFrom('a', 'b', 'c'),
  fc.integer({ min: 0, max: 3 }),
  fc.boolean(),
  fc.integer({ min: 0, max: 3 }).map((m) => new Date(BASE + m * 60_000)),
);
const value = fc.oneof(
  scalar,
  fc.constant(null),
  fc.array(scalar, { maxLength: 2 }),
  fc.record(
    { email: fc.constantFrom('a', 'b'), n: fc.integer({ min: 0, max: 3 }) },
    { requiredKeys: [], noNullPrototype: true },
  ),
);
const doc = fc.record(
  { _id: fc.constant('d1'), s: value, t: value, holder: value },
  { requiredKeys: ['_id'], noNullPrototype: true },
);
const path = fc.constantFrom('s', 't', 'holder.email', 'holder.n', 'missing');
const condition = fc.oneof(
  scalar,
  fc.constant(null),
  fc.record({ $eq: fc.oneof(scalar, fc.constant(null)) }, { noNullPrototype: true }),
  fc.record({ $ne: fc.oneof(scalar, fc.constant(null)) }, { noNullPrototype: true }),
  fc.record(
    { $in: fc.array(fc.oneof(scalar, fc.constant(null)), { minLength: 1, maxLength: 3 }) },
    { noNullPrototype: true },
  ),
  fc.record({ $exists: fc.boolean() }, { noNullPrototype: true }),
  fc.record({ $gt: scalar }, { noNullPrototype: true }),
  fc.record({ $lte: scalar, $gte: scalar }, { noNullPrototype: true }),
);
const plainFilter = fc.dictionary(path, condition, { maxKeys: 3, noNullPrototype: true });
const filter = fc.oneof(
  plainFilter,
  fc.record(
    { $or: fc.array(plainFilter, { minLength: 1, maxLength: 3 }), s: condition },
    { requiredKeys: ['$or'], noNullPrototype: true },
  ),
  fc.record({ $and: fc.array(plainFilter, { minLength: 1, maxLength: 2 }) }, { noNullPrototype: true }),
);

describe('the memory store fast paths', () => {
  it('match every document exactly as mingo does, or leave it to mingo', () => {
    let decided = 0;
    fc.assert(
      fc.property(filter, doc, (f, d) => {
        const ours = compileMatcher(f)?.(d) ?? null;
        if (ours === null) return;
        decided++;
        expect(ours).toBe(new Query(f as AnyObject).test(d));
      }),
      { numRuns: 3000 },
    );
    // Most of them are answered by the fast path (arrays on the way are left to mingo).
    expect(decided).toBeGreaterThan(1500);
  });

  it('match a document as the store keeps it (its Dates as bigints) exactly as mingo matches it with Dates', () => {
    let decided = 0;
    fc.assert(
      fc.property(filter, doc, (f, d) => {
        const ours = compileMatcher(f)?.(storedCopy(d)) ?? null;
        if (ours === null) return;
        decided++;
        expect(ours).toBe(new Query(f as AnyObject).test(d));
      }),
      { numRuns: 3000 },
    );
    expect(decided).toBeGreaterThan(1500);
  });

  it('match an array field against a scalar equality (the approvers of a request) as mingo does, with or without Dates as bigints', () => {
    const element = fc.oneof(
      { weight: 6, arbitrary: scalar },
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.array(scalar, { maxLength: 2 }) },
      { weight: 1, arbitrary: fc.record({ email: fc.constantFrom('a', 'b') }, { noNullPrototype: true }) },
    );
    const arrayDoc = fc.record(
      { _id: fc.constant('d1'), s: fc.array(element, { maxLength: 4 }), t: value },
      { requiredKeys: ['_id', 's'], noNullPrototype: true },
    );
    const onS = fc.dictionary(fc.constantFrom('s', 't'), condition, {
      minKeys: 1,
      maxKeys: 2,
      noNullPrototype: true,
    });
    let decided = 0;
    let arraysDecided = 0;
    fc.assert(
      fc.property(onS, arrayDoc, (f, d) => {
        for (const shown of [d, storedCopy(d)]) {
          const ours = compileMatcher(f)?.(shown) ?? null;
          if (ours === null) continue;
          decided++;
          if (Object.hasOwn(f, 's')) arraysDecided++;
          expect(ours).toBe(new Query(f as AnyObject).test(d));
        }
      }),
      { numRuns: 4000 },
    );
    expect(arraysDecided).toBeGreaterThan(1500);
    expect(decided).toBeGreaterThan(arraysDecided);
  });

  it('sort as mingo does, or leave it to mingo', () => {
    const sortable = fc.record(
      { _id: fc.string({ maxLength: 3 }), s: value, t: value },
      { requiredKeys: ['_id'], noNullPrototype: true },
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(sortable, { selector: (d) => d._id, maxLength: 6 }),
        fc.constantFrom<Record<string, 1 | -1>>(
          { s: 1, _id: 1 },
          { t: -1, _id: 1 },
          { s: -1, t: 1, _id: -1 },
        ),
        (docs, sort) => {
          const theirs = new Query({})
            .find<AnyObject>(docs)
            .sort(sort)
            .all()
            .map((d) => d._id);
          const compare = compareForSort(sort, docs);
          if (compare) expect([...docs].sort(compare).map((d) => d._id)).toEqual(theirs);
          // The same documents as the store keeps them, their Dates as bigints.
          const stored = docs.map((d) => storedCopy(d));
          const compareStored = compareForSort(sort, stored);
          expect(Boolean(compareStored)).toBe(Boolean(compare));
          if (compareStored) expect([...stored].sort(compareStored).map((d) => d._id)).toEqual(theirs);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('apply $set, $unset and $inc as mingo does, without changing the original, or leave it to mingo', () => {
    const setValue = fc.oneof(scalar, fc.constant(null), fc.record({ x: scalar }, { noNullPrototype: true }));
    const update = fc.record(
      {
        $set: fc.dictionary(path, setValue, { maxKeys: 2, noNullPrototype: true }),
        $unset: fc.dictionary(path, fc.constant(''), { maxKeys: 2, noNullPrototype: true }),
        $inc: fc.dictionary(fc.constantFrom('holder.n', 'count'), fc.integer({ min: -2, max: 2 }), {
          maxKeys: 1,
          noNullPrototype: true,
        }),
      },
      { requiredKeys: [], noNullPrototype: true },
    );
    let applied = 0;
    fc.assert(
      fc.property(doc, update, (d, u) => {
        const before = structuredClone(d);
        const ours = appliedFast(d, u as Record<string, AnyObject>);
        expect(d).toEqual(before);
        if (!ours) return;
        applied++;
        const theirs = structuredClone(d) as AnyObject;
        try {
          mingoUpdate(theirs, structuredClone(u) as AnyObject);
        } catch {
          return; // mingo refuses it (e.g. conflicting paths); ours declines such updates too
        }
        expect(ours).toEqual(theirs);
        // The same update of the document as the store keeps it (Dates as bigints), handed back with Dates.
        const stored = appliedFast(storedCopy(d), storedCopy(u) as Record<string, AnyObject>);
        expect(stored && copyDoc(stored)).toEqual(theirs);
      }),
      { numRuns: 3000 },
    );
    expect(applied).toBeGreaterThan(1000);
  });
});
