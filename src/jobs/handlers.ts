/** Wires the domain's idempotent job handlers, the outbox and the sweep into a runner. */
import type { Outbox } from '../core/outbox.js';
import type { AccessService } from '../domain/service.js';
import type { JobRunner } from './runner.js';

/** How often the sweep looks for overdue revocations, retries, expired requests and unsent messages. */
export const SWEEP_INTERVAL_MS = 30_000;

export function registerJobs(
  runner: JobRunner,
  service: AccessService,
  opts: { outbox?: Outbox; sweepIntervalMs?: number } = {},
): void {
  for (const name of Object.keys(service.jobs) as Array<keyof AccessService['jobs']>) {
    runner.define(name, (data) => service.jobs[name](data.id));
  }
  const outbox = opts.outbox;
  if (outbox) runner.define('outbox.deliver', (data) => outbox.deliverLane(data.id));
  runner.every('grants.sweep', opts.sweepIntervalMs ?? SWEEP_INTERVAL_MS, async () => {
    await service.sweep();
    await outbox?.sweep();
  });
}
