/** Wires the domain's idempotent job handlers, the outbox and the sweep into a runner. */
import type { Homes } from '../core/home.js';
import type { Outbox } from '../core/outbox.js';
import type { AccessService } from '../domain/service.js';
import type { JobControl, JobRunner } from './runner.js';

/** How often the sweep looks for overdue revocations, retries, expired requests and unsent messages. */
export const SWEEP_INTERVAL_MS = 30_000;

/**
 * How long one sweep run may keep taking items. It stops at the first item after this and the next
 * run resumes (what is left is still due, oldest first). With one item's worst case on top (a
 * connector call of at most 50 s, or one outbox message), a run stays well inside the sweep's lock
 * lifetime (`LOCK_LIFETIME_MS['grants.sweep']` in agenda.ts), even before its lock is renewed.
 */
export const SWEEP_BUDGET_MS = 2 * 60_000;

export function registerJobs(
  runner: JobRunner,
  service: AccessService,
  opts: { outbox?: Outbox; homes?: Homes; sweepIntervalMs?: number; sweepBudgetMs?: number } = {},
): void {
  for (const name of Object.keys(service.jobs) as Array<keyof AccessService['jobs']>) {
    runner.define(name, (data) => service.jobs[name](data.id));
  }
  const outbox = opts.outbox;
  if (outbox) {
    runner.define('outbox.deliver', (data, control) => outbox.deliverLane(data.id, itemControl(control)));
  }
  const homes = opts.homes;
  if (homes) runner.define('home.refresh', (data) => homes.refresh(data.id));
  const budgetMs = opts.sweepBudgetMs ?? SWEEP_BUDGET_MS;
  runner.every('grants.sweep', opts.sweepIntervalMs ?? SWEEP_INTERVAL_MS, async (control) => {
    // The service's clock, so a test's manual clock decides when the budget is used up.
    const deadline = service.now().getTime() + budgetMs;
    const bounded = itemControl(control, () => service.now().getTime() >= deadline);
    await service.sweep(bounded);
    await outbox?.sweep(undefined, bounded);
  });
}

/** Stop between items when the runner stops (or `overBudget` says so); renew the lock after each. */
function itemControl(control: JobControl, overBudget: () => boolean = () => false) {
  return {
    shouldStop: () => control.shouldStop() || overBudget(),
    heartbeat: () => control.touch(),
  };
}
