/**
 * What every JobRunner does, in real time with short delays. Run against the in-process runner on
 * the system clock and against Agenda on MongoDB.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobData } from '../../src/domain/ports.js';
import type { JobRunner, RetryPolicy } from '../../src/jobs/runner.js';

export interface ContractOptions {
  /** Retries fast enough for a test. */
  retry: RetryPolicy;
}

export type MakeRunner = (options: ContractOptions) => Promise<JobRunner>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export function runRunnerContract(name: string, makeRunner: MakeRunner): void {
  describe(`JobRunner contract: ${name}`, () => {
    let runner: JobRunner | undefined;
    const make = async () => {
      runner = await makeRunner({ retry: { retries: 3, baseDelayMs: 100, maxDelayMs: 1_000 } });
      return runner;
    };

    afterEach(async () => {
      await runner?.stop();
      runner = undefined;
    });

    it('runs a job at its time, once, with its id', async () => {
      const r = await make();
      const calls: Array<{ data: JobData; at: number }> = [];
      r.define('grant.remind', async (data) => {
        calls.push({ data, at: Date.now() });
      });
      await r.start();
      const at = new Date(Date.now() + 300);
      await r.schedule('grant.remind', at, { id: 'g1' });
      await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 3_000, interval: 20 });
      expect(calls[0]?.data).toEqual({ id: 'g1' });
      expect(calls[0]?.at).toBeGreaterThanOrEqual(at.getTime() - 20);
      await sleep(400);
      expect(calls).toHaveLength(1);
    });

    it('scheduling the same name and id again replaces the pending job', async () => {
      const r = await make();
      const calls: number[] = [];
      r.define('grant.expire', async () => {
        calls.push(Date.now());
      });
      await r.start();
      const first = Date.now() + 200;
      await r.schedule('grant.expire', new Date(first), { id: 'g1' });
      const second = Date.now() + 700;
      await r.schedule('grant.expire', new Date(second), { id: 'g1' });
      await sleep(450);
      expect(calls).toHaveLength(0);
      await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 3_000, interval: 20 });
      expect(calls[0]).toBeGreaterThanOrEqual(second - 20);
      await sleep(300);
      expect(calls).toHaveLength(1);
    });

    it('jobs of other names or ids are separate', async () => {
      const r = await make();
      const calls: string[] = [];
      r.define('grant.remind', async ({ id }) => {
        calls.push(`remind:${id}`);
      });
      r.define('grant.expire', async ({ id }) => {
        calls.push(`expire:${id}`);
      });
      await r.start();
      const at = new Date(Date.now() + 100);
      await r.schedule('grant.remind', at, { id: 'g1' });
      await r.schedule('grant.remind', at, { id: 'g2' });
      await r.schedule('grant.expire', at, { id: 'g1' });
      await vi.waitFor(() => expect(calls).toHaveLength(3), { timeout: 3_000, interval: 20 });
      expect([...calls].sort()).toEqual(['expire:g1', 'remind:g1', 'remind:g2']);
    });

    it('cancel removes a pending job', async () => {
      const r = await make();
      const calls: string[] = [];
      r.define('request.expire', async ({ id }) => {
        calls.push(id);
      });
      await r.start();
      await r.schedule('request.expire', new Date(Date.now() + 200), { id: 'r1' });
      await r.schedule('request.expire', new Date(Date.now() + 200), { id: 'r2' });
      await r.cancel('request.expire', 'r1');
      await vi.waitFor(() => expect(calls).toEqual(['r2']), { timeout: 3_000, interval: 20 });
      await sleep(300);
      expect(calls).toEqual(['r2']);
    });

    it('a periodic task has run once by the time start() resolves', async () => {
      const r = await make();
      let runs = 0;
      r.every('grants.sweep', 60_000, async () => {
        runs++;
      });
      expect(r.ready()).toBe(false);
      await r.start();
      expect(runs).toBe(1);
      expect(r.ready()).toBe(true);
    });

    it('a periodic task that throws does not stop start()', async () => {
      const r = await make();
      r.every('grants.sweep', 60_000, async () => {
        throw new Error('store down');
      });
      await r.start();
      expect(r.ready()).toBe(true);
    });

    it('a handler that throws is retried with backoff', async () => {
      const r = await make();
      const calls: number[] = [];
      r.define('grant.retry', async () => {
        calls.push(Date.now());
        if (calls.length < 3) throw new Error('transient');
      });
      await r.start();
      await r.schedule('grant.retry', new Date(), { id: 'g1' });
      await vi.waitFor(() => expect(calls).toHaveLength(3), { timeout: 5_000, interval: 20 });
      const [a = 0, b = 0, c = 0] = calls;
      expect(b - a).toBeGreaterThanOrEqual(90);
      expect(c - b).toBeGreaterThanOrEqual(190);
      await sleep(500);
      expect(calls).toHaveLength(3);
    });

    it('a handler that reschedules its own job gets it run again', async () => {
      const r = await make();
      let calls = 0;
      r.define('grant.retry', async ({ id }) => {
        calls++;
        if (calls === 1) await r.schedule('grant.retry', new Date(Date.now() + 200), { id });
      });
      await r.start();
      await r.schedule('grant.retry', new Date(), { id: 'g1' });
      await vi.waitFor(() => expect(calls).toBe(2), { timeout: 3_000, interval: 20 });
      await sleep(400);
      expect(calls).toBe(2);
    });

    it('stop() waits for a running handler and then takes no more work', async () => {
      const r = await make();
      const started = deferred();
      const release = deferred();
      let finished = false;
      let later = 0;
      r.define('grant.expire', async () => {
        started.resolve();
        await release.promise;
        finished = true;
      });
      r.define('grant.remind', async () => {
        later++;
      });
      await r.start();
      await r.schedule('grant.expire', new Date(), { id: 'g1' });
      await started.promise;
      let stopped = false;
      const stopping = r.stop().then(() => {
        stopped = true;
      });
      expect(r.ready()).toBe(false);
      await r.schedule('grant.remind', new Date(), { id: 'g1' });
      await sleep(200);
      expect(stopped).toBe(false);
      release.resolve();
      await stopping;
      expect(finished).toBe(true);
      await sleep(300);
      expect(later).toBe(0);
    });

    it('stop() with a deadline returns by then while a handler hangs', async () => {
      const r = await make();
      const started = deferred();
      const never = deferred();
      r.define('grant.expire', async () => {
        started.resolve();
        await never.promise;
      });
      await r.start();
      await r.schedule('grant.expire', new Date(), { id: 'g1' });
      await started.promise;
      const before = Date.now();
      await r.stop({ deadline: before + 300 });
      const took = Date.now() - before;
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(1_500);
      expect(r.ready()).toBe(false);
      never.resolve();
    });

    it('a handler looping over items stops at the next item once stop() is called', async () => {
      const r = await make();
      const started = deferred();
      let items = 0;
      let stoppedAt = -1;
      r.define('outbox.deliver', async (_data, control) => {
        started.resolve();
        for (let i = 0; i < 1_000; i++) {
          if (control.shouldStop()) {
            stoppedAt = items;
            return;
          }
          await sleep(20);
          items++;
          await control.touch();
        }
      });
      await r.start();
      await r.schedule('outbox.deliver', new Date(), { id: 'lane' });
      await started.promise;
      await sleep(100);
      const before = Date.now();
      await r.stop();
      expect(Date.now() - before).toBeLessThan(1_000);
      expect(stoppedAt).toBeGreaterThan(0);
      expect(items).toBe(stoppedAt);
    });
  });
}
