/**
 * The process dies at every write of a whole access lifecycle in turn (request, approval,
 * provisioning, reminder, extension, its approval, expiry, revocation and the messages between),
 * and starts again over the same data: nothing is duplicated, nothing is lost, every overdue
 * revocation is done. See ./crash-scenario.ts. `npm run test:faults` also dies just after each write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConverged, type Outcome, runScenario } from './crash-scenario.js';
import { expectOwnerCloseConverged, runOwnerCloseScenario } from './owner-close-scenario.js';

let baseline: Outcome;
beforeAll(async () => {
  baseline = await runScenario({});
});
afterAll(async () => {
  await baseline.t.close();
});

/** `npm run test:faults` (JIT_FAULTS=all): every write, dying before and after it; `npm test`: the first write of each step. */
const EVERY_WRITE = process.env.JIT_FAULTS === 'all';

describe('a crash at any step', () => {
  it('runs the lifecycle without a crash as the baseline', async () => {
    expect(baseline.diedAt).toBeUndefined();
    expect(baseline.writes.length).toBeGreaterThan(20);
    await expectConverged(baseline, baseline);
  });

  for (const when of EVERY_WRITE ? (['before', 'after'] as const) : (['before'] as const)) {
    const which = EVERY_WRITE ? 'each write' : 'the first write of each step';
    it(`converges after dying ${when} ${which} in turn`, async () => {
      const total = baseline.writes.length;
      const failures: string[] = [];
      const writes = EVERY_WRITE
        ? Array.from({ length: total }, (_, i) => i + 1)
        : [...new Set(baseline.stepStarts.map((s) => s.write).filter((n) => n <= total))];
      expect(writes.length, JSON.stringify(baseline.stepStarts)).toBeGreaterThanOrEqual(EVERY_WRITE ? 20 : 6);
      for (const n of writes) {
        const outcome = await runScenario({ dieAtWrite: n, when }).catch((error: Error) => error);
        if (outcome instanceof Error) {
          failures.push(`write ${n} (${baseline.writes[n - 1]}): ${outcome.message.split('\n')[0]}`);
          continue;
        }
        try {
          expect(outcome.diedAt, `write ${n} of ${total}`).toBeDefined();
          await expectConverged(outcome, baseline);
        } catch (error) {
          failures.push(`write ${n}: ${(error as Error).message.split('\n')[0]}`);
        } finally {
          await outcome.t.close();
        }
      }
      expect(failures).toEqual([]);
    }, 600_000);
  }
});

describe('a crash while an owner switches a resource off', () => {
  let ownerBaseline: Outcome;
  beforeAll(async () => {
    ownerBaseline = await runOwnerCloseScenario({});
  });
  afterAll(async () => {
    await ownerBaseline.t.close();
  });

  it('runs without a crash as the baseline', async () => {
    expect(ownerBaseline.diedAt).toBeUndefined();
    await expectOwnerCloseConverged(ownerBaseline, ownerBaseline);
  });

  // The writes from the save on (the save, its audit event, the approvers' message, the revocation,
  // the request's closing and their messages), dying before each; `npm run test:faults` also after.
  for (const when of EVERY_WRITE ? (['before', 'after'] as const) : (['before'] as const)) {
    it(`converges after dying ${when} ${EVERY_WRITE ? 'each write' : 'the first write of each kind'} of the save and what follows`, async () => {
      const save = ownerBaseline.stepStarts.find((s) => s.step === 'switch off')!.write;
      const revoke = ownerBaseline.stepStarts.find((s) => s.step === 'deliver the rest')!.write;
      const all = Array.from({ length: revoke - save }, (_, i) => save + i);
      // `npm test`: the first write of each kind (`repo.method`) from the save on; JIT_FAULTS=all: each.
      const kinds = new Map<string, number>();
      for (const n of all)
        if (!kinds.has(ownerBaseline.writes[n - 1]!)) kinds.set(ownerBaseline.writes[n - 1]!, n);
      const writes = EVERY_WRITE ? all : [...kinds.values()];
      expect([...kinds.keys()]).toEqual(
        expect.arrayContaining(['settings.save', 'requests.close', 'settings.settle']),
      );
      const failures: string[] = [];
      for (const n of writes) {
        const outcome = await runOwnerCloseScenario({ dieAtWrite: n, when }).catch((error: Error) => error);
        if (outcome instanceof Error) {
          failures.push(`write ${n} (${ownerBaseline.writes[n - 1]}): ${outcome.message.split('\n')[0]}`);
          continue;
        }
        try {
          expect(outcome.diedAt, `write ${n}`).toBeDefined();
          await expectOwnerCloseConverged(outcome, ownerBaseline);
        } catch (error) {
          failures.push(`write ${n}: ${(error as Error).message.split('\n')[0]}`);
        } finally {
          await outcome.t.close();
        }
      }
      expect(failures).toEqual([]);
    }, 600_000);
  }
});
