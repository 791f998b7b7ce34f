/** Wires the domain's idempotent job handlers and the sweep into a runner. */
import type { AccessService } from '../domain/service.js';
import type { JobRunner } from './runner.js';

/** How often the sweep looks for overdue revocations, retries and expired requests. */
export const SWEEP_INTERVAL_MS = 30_000;

export function registerJobs(
  runner: JobRunner,
  service: AccessService,
  sweepIntervalMs = SWEEP_INTERVAL_MS,
): void {
  for (const name of Object.keys(service.jobs) as Array<keyof AccessService['jobs']>) {
    runner.define(name, (data) => service.jobs[name](data.id));
  }
  runner.every('grants.sweep', sweepIntervalMs, async () => {
    await service.sweep();
  });
}
