/**
 * The domain on its own, for core and domain tests: the service over the memory store, the
 * in-process scheduler on a manual clock, a connector that always confirms, silent logs.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { ManualClock } from '../../src/domain/clock.js';
import { DomainError } from '../../src/domain/errors.js';
import { parseAccessConfig } from '../../src/domain/policy.js';
import { PolicySource } from '../../src/domain/policy-source.js';
import { AccessService } from '../../src/domain/service.js';
import { registerJobs } from '../../src/jobs/handlers.js';
import { InProcessRunner } from '../../src/jobs/in-process.js';
import { createLogger } from '../../src/log.js';
import { createMemoryStore, type Store } from '../../src/store/index.js';

export interface MemoryDomain {
  clock: ManualClock;
  store: Store;
  runner: InProcessRunner;
  service: AccessService;
}

/** Started: its jobs run when the test runs what is due (`runner.runDue()`, `runner.advance()`). */
export async function startMemoryDomain(
  policy: string,
  start = '2026-11-23T09:00:00Z',
): Promise<MemoryDomain> {
  const clock = new ManualClock(start);
  const store = createMemoryStore();
  const runner = new InProcessRunner({ clock, retry: { retries: 0 } });
  const service = new AccessService({
    policy: new PolicySource(parseAccessConfig(parseYaml(policy)), store.repos.settings),
    repos: store.repos,
    scheduler: runner,
    connectors: { forResource: () => ({ type: 'test', deliver: async () => {} }) },
    notifier: { notify: async () => {} },
    clock,
    log: createLogger('silent'),
    newId: randomUUID,
    backoffMs: (n) => 1000 * n,
    reportAfterAttempts: 3,
  });
  registerJobs(runner, service, { sweepIntervalMs: 60_000 });
  await runner.start();
  return { clock, store, runner, service };
}

/** The code of the domain refusal `p` ends in (fails when it resolves, or throws something else). */
export async function refusalCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  throw new Error('expected a refusal');
}
