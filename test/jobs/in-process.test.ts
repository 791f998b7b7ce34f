import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/domain/clock.js';
import type { Log } from '../../src/domain/events.js';
import type { JobName } from '../../src/domain/ports.js';
import { InProcessRunner } from '../../src/jobs/in-process.js';
import { runRunnerContract } from './runner-contract.js';

const T0 = '2026-11-23T09:00:00.000Z';
const MIN = 60_000;

function recordingLog() {
  const lines: Array<{ level: string; msg: string | undefined; obj: object }> = [];
  const log: Log = {
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
    debug: (obj, msg) => lines.push({ level: 'debug', msg, obj }),
    child: () => log,
  };
  return { log, lines };
}

function setup() {
  const clock = new ManualClock(T0);
  const { log, lines } = recordingLog();
  const runner = new InProcessRunner({ clock, logger: log });
  const seen: string[] = [];
  const record = (name: JobName) =>
    runner.define(name, async ({ id }) => {
      seen.push(`${name}:${id}@${clock.now().toISOString()}`);
    });
  return { clock, runner, seen, record, lines };
}

const at = (ms: number) => new Date(new Date(T0).getTime() + ms);
const iso = (ms: number) => at(ms).toISOString();

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('InProcessRunner (manual clock)', () => {
  it('keeps one pending job per name and id: scheduling again replaces, cancel removes', async () => {
    const { runner } = setup();
    await runner.schedule('grant.expire', at(30 * MIN), { id: 'g1' });
    await runner.schedule('grant.remind', at(20 * MIN), { id: 'g1' });
    await runner.schedule('grant.expire', at(60 * MIN), { id: 'g1' });
    await runner.schedule('grant.expire', at(45 * MIN), { id: 'g2' });
    expect(runner.pending()).toEqual([
      { name: 'grant.remind', id: 'g1', at: at(20 * MIN) },
      { name: 'grant.expire', id: 'g2', at: at(45 * MIN) },
      { name: 'grant.expire', id: 'g1', at: at(60 * MIN) },
    ]);
    await runner.cancel('grant.expire', 'g1');
    await runner.cancel('grant.expire', 'nothing-here');
    expect(runner.pending().map((j) => `${j.name}:${j.id}`)).toEqual(['grant.remind:g1', 'grant.expire:g2']);
  });

  it('rejects an invalid date', async () => {
    const { runner } = setup();
    await expect(runner.schedule('grant.expire', new Date('nonsense'), { id: 'g1' })).rejects.toThrow(
      /invalid date/,
    );
  });

  it('runDue() runs what is due, earliest first and ties in scheduling order, without moving the clock', async () => {
    const { runner, clock, seen, record } = setup();
    record('grant.remind');
    record('grant.expire');
    record('request.expire');
    await runner.schedule('grant.expire', at(0), { id: 'b' });
    await runner.schedule('grant.remind', at(-5 * MIN), { id: 'a' });
    await runner.schedule('request.expire', at(0), { id: 'c' });
    await runner.schedule('grant.expire', at(1), { id: 'later' });
    expect(await runner.runDue()).toBe(3);
    expect(seen).toEqual([
      `grant.remind:a@${iso(0)}`,
      `grant.expire:b@${iso(0)}`,
      `request.expire:c@${iso(0)}`,
    ]);
    expect(clock.now()).toEqual(at(0));
    expect(runner.pending().map((j) => j.id)).toEqual(['later']);
    expect(await runner.runDue()).toBe(0);
  });

  it('advance() runs jobs in time order, each seeing now equal to its due time, and ends at start + ms', async () => {
    const { runner, clock, seen, record } = setup();
    record('grant.remind');
    record('grant.expire');
    record('request.expire');
    await runner.schedule('grant.expire', at(60 * MIN), { id: 'g1' });
    await runner.schedule('grant.remind', at(45 * MIN), { id: 'g1' });
    await runner.schedule('request.expire', at(10 * MIN), { id: 'r1' });
    await runner.schedule('grant.expire', at(3 * 60 * MIN), { id: 'g2' });
    expect(await runner.advance(90 * MIN)).toBe(3);
    expect(seen).toEqual([
      `request.expire:r1@${iso(10 * MIN)}`,
      `grant.remind:g1@${iso(45 * MIN)}`,
      `grant.expire:g1@${iso(60 * MIN)}`,
    ]);
    expect(clock.now()).toEqual(at(90 * MIN));
    expect(runner.pending().map((j) => j.id)).toEqual(['g2']);
  });

  it('a follow-up that a handler schedules runs within the same advance, at its own time', async () => {
    const { runner, clock, seen, record } = setup();
    record('grant.retry');
    record('grant.remind');
    runner.define('grant.expire', async ({ id }) => {
      seen.push(`grant.expire:${id}@${clock.now().toISOString()}`);
      await runner.schedule('grant.retry', clock.now(), { id }); // due right away
      await runner.schedule('grant.remind', new Date(clock.now().getTime() + 5 * MIN), { id });
    });
    await runner.schedule('grant.expire', at(10 * MIN), { id: 'g1' });
    expect(await runner.advance(30 * MIN)).toBe(3);
    expect(seen).toEqual([
      `grant.expire:g1@${iso(10 * MIN)}`,
      `grant.retry:g1@${iso(10 * MIN)}`,
      `grant.remind:g1@${iso(15 * MIN)}`,
    ]);
  });

  it('runDue() also runs follow-ups that are already due', async () => {
    const { runner, clock, seen, record } = setup();
    record('grant.retry');
    runner.define('grant.expire', async ({ id }) => {
      seen.push(`grant.expire:${id}`);
      await runner.schedule('grant.retry', clock.now(), { id });
    });
    await runner.schedule('grant.expire', at(0), { id: 'g1' });
    expect(await runner.runDue()).toBe(2);
    expect(seen).toEqual(['grant.expire:g1', `grant.retry:g1@${iso(0)}`]);
  });

  it('a handler rescheduling its own job keeps the new job', async () => {
    const { runner, clock, seen } = setup();
    runner.define('grant.retry', async ({ id }) => {
      seen.push(clock.now().toISOString());
      if (seen.length < 3)
        await runner.schedule('grant.retry', new Date(clock.now().getTime() + MIN), { id });
    });
    await runner.schedule('grant.retry', at(0), { id: 'g1' });
    await runner.advance(10 * MIN);
    expect(seen).toEqual([iso(0), iso(MIN), iso(2 * MIN)]);
    expect(runner.pending()).toEqual([]);
  });

  it('a job that a handler cancels does not run', async () => {
    const { runner, seen, record } = setup();
    record('grant.remind');
    runner.define('grant.expire', async ({ id }) => {
      seen.push(`grant.expire:${id}`);
      await runner.cancel('grant.remind', id);
    });
    await runner.schedule('grant.expire', at(MIN), { id: 'g1' });
    await runner.schedule('grant.remind', at(MIN), { id: 'g1' });
    await runner.advance(5 * MIN);
    expect(seen).toEqual(['grant.expire:g1']);
  });

  it('a periodic task runs at start() and then at its interval, in order with jobs', async () => {
    const { runner, clock, seen, record } = setup();
    record('grant.expire');
    runner.every('grants.sweep', 15 * MIN, async () => {
      seen.push(`sweep@${clock.now().toISOString()}`);
    });
    await runner.schedule('grant.expire', at(20 * MIN), { id: 'g1' });
    await runner.schedule('grant.expire', at(30 * MIN), { id: 'g2' });
    expect(runner.ready()).toBe(false);
    await runner.start();
    expect(runner.ready()).toBe(true);
    expect(seen).toEqual([`sweep@${iso(0)}`]);
    expect(await runner.advance(45 * MIN)).toBe(2);
    expect(seen).toEqual([
      `sweep@${iso(0)}`,
      `sweep@${iso(15 * MIN)}`,
      `grant.expire:g1@${iso(20 * MIN)}`,
      `grant.expire:g2@${iso(30 * MIN)}`, // ties run in scheduling order: g2 was scheduled first
      `sweep@${iso(30 * MIN)}`,
      `sweep@${iso(45 * MIN)}`,
    ]);
  });

  it('a periodic task catches up once after the clock jumps, and a failing one is only logged', async () => {
    const { runner, clock, lines } = setup();
    let runs = 0;
    runner.every('grants.sweep', 15 * MIN, async () => {
      runs++;
      throw new Error('store down');
    });
    await runner.start();
    clock.advance(24 * 60 * MIN);
    await runner.runDue();
    expect(runs).toBe(2);
    expect(lines.filter((l) => l.msg === 'periodic.failed')).toHaveLength(2);
    await runner.advance(14 * MIN);
    expect(runs).toBe(2);
    await runner.advance(MIN);
    expect(runs).toBe(3);
  });

  it('every() after start() is refused', async () => {
    const { runner } = setup();
    await runner.start();
    expect(() => runner.every('grants.sweep', MIN, async () => {})).toThrow(/before start/);
  });

  it('a handler that throws is retried with exponential backoff, then dropped and logged', async () => {
    const { runner, clock, lines } = setup();
    const attempts: string[] = [];
    runner.define('grant.remind', async () => {
      attempts.push(clock.now().toISOString());
      throw new Error('store unavailable');
    });
    await runner.schedule('grant.remind', at(0), { id: 'g1' });
    expect(await runner.runDue()).toBe(1);
    expect(runner.pending()).toEqual([{ name: 'grant.remind', id: 'g1', at: at(1_000) }]);
    await runner.advance(60_000);
    expect(attempts).toEqual([iso(0), iso(1_000), iso(3_000), iso(7_000)]);
    expect(runner.pending()).toEqual([]);
    expect(lines.filter((l) => l.msg === 'job.failed')).toHaveLength(3);
    const exhausted = lines.filter((l) => l.msg === 'job.retries_exhausted');
    expect(exhausted).toHaveLength(1);
    expect(exhausted[0]?.level).toBe('error');
    expect(exhausted[0]?.obj).toMatchObject({ job: 'grant.remind', id: 'g1', attempts: 4 });
  });

  it('a transient failure succeeds on retry', async () => {
    const { runner, clock } = setup();
    const attempts: string[] = [];
    runner.define('grant.expire', async () => {
      attempts.push(clock.now().toISOString());
      if (attempts.length === 1) throw new Error('transient');
    });
    await runner.schedule('grant.expire', at(0), { id: 'g1' });
    await runner.advance(MIN);
    expect(attempts).toEqual([iso(0), iso(1_000)]);
  });

  it('retry delays follow the policy and are capped', async () => {
    const clock = new ManualClock(T0);
    const runner = new InProcessRunner({
      clock,
      retry: { retries: 5, baseDelayMs: 60_000, maxDelayMs: 150_000 },
    });
    const attempts: number[] = [];
    runner.define('grant.retry', async () => {
      attempts.push(clock.now().getTime() - at(0).getTime());
      throw new Error('down');
    });
    await runner.schedule('grant.retry', at(0), { id: 'g1' });
    await runner.advance(60 * MIN);
    expect(attempts).toEqual([0, 60_000, 180_000, 330_000, 480_000, 630_000]);
  });

  it('a handler that reschedules its own job and then throws is not retried on top', async () => {
    const { runner, clock, lines } = setup();
    const attempts: string[] = [];
    runner.define('grant.retry', async ({ id }) => {
      attempts.push(clock.now().toISOString());
      if (attempts.length === 1) {
        await runner.schedule('grant.retry', new Date(clock.now().getTime() + 10 * MIN), { id });
        throw new Error('after rescheduling');
      }
    });
    await runner.schedule('grant.retry', at(0), { id: 'g1' });
    await runner.runDue();
    expect(runner.pending()).toEqual([{ name: 'grant.retry', id: 'g1', at: at(10 * MIN) }]);
    await runner.advance(20 * MIN);
    expect(attempts).toEqual([iso(0), iso(10 * MIN)]);
    expect(lines.filter((l) => l.msg === 'job.failed')).toHaveLength(1);
  });

  it('jobs without a handler stay pending and do not hold up others', async () => {
    const { runner, seen, record } = setup();
    record('grant.expire');
    await runner.schedule('grant.remind', at(MIN), { id: 'g1' });
    await runner.schedule('grant.expire', at(2 * MIN), { id: 'g1' });
    expect(await runner.advance(5 * MIN)).toBe(1);
    expect(seen).toEqual([`grant.expire:g1@${iso(2 * MIN)}`]);
    expect(runner.pending().map((j) => j.name)).toEqual(['grant.remind']);
    record('grant.remind');
    expect(await runner.runDue()).toBe(1);
  });

  it('a handler that keeps scheduling itself for now is stopped with an error', async () => {
    const { runner, clock } = setup();
    runner.define('grant.retry', async ({ id }) => {
      await runner.schedule('grant.retry', clock.now(), { id });
    });
    await runner.schedule('grant.retry', at(0), { id: 'g1' });
    await expect(runner.runDue()).rejects.toThrow(/without time moving/);
  });

  it('a backlog of 10,000 due jobs, each scheduling a follow-up for now, drains in one runDue()', async () => {
    const { runner, clock } = setup();
    const expired: string[] = [];
    const delivered: string[] = [];
    runner.define('grant.expire', async ({ id }) => {
      expired.push(id);
      await runner.schedule('outbox.deliver', clock.now(), { id: `lane-${id}` });
    });
    runner.define('outbox.deliver', async ({ id }) => {
      delivered.push(id);
    });
    for (let i = 0; i < 10_000; i++) {
      await runner.schedule('grant.expire', at(-(i % 60) * 1000), { id: `g${i}` });
    }
    expect(await runner.runDue()).toBe(20_000);
    expect(expired).toHaveLength(10_000);
    expect(new Set(delivered).size).toBe(10_000);
    // Earliest first: the grants due a minute ago went before those due just now.
    expect(expired.slice(0, 3)).toEqual(['g59', 'g119', 'g179']);
    expect(runner.pending()).toEqual([]);
  });

  it('stop() waits for a running handler and runs nothing more', async () => {
    const { runner, seen, record } = setup();
    const started = deferred();
    const release = deferred();
    runner.define('grant.expire', async () => {
      started.resolve();
      await release.promise;
      seen.push('expire finished');
    });
    record('grant.remind');
    await runner.start();
    await runner.schedule('grant.expire', at(0), { id: 'g1' });
    await runner.schedule('grant.remind', at(0), { id: 'g1' });
    const running = runner.runDue();
    await started.promise;
    let stopped = false;
    const stopping = runner.stop().then(() => {
      stopped = true;
    });
    expect(runner.ready()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    release.resolve();
    await stopping;
    expect(seen).toEqual(['expire finished']);
    expect(await running).toBe(1);
    expect(runner.pending().map((j) => j.name)).toEqual(['grant.remind']);
    await expect(runner.start()).rejects.toThrow(/stopped/);
  });

  it('stop() waits for the periodic task that start() is running', async () => {
    const { runner } = setup();
    const release = deferred();
    let done = false;
    runner.every('grants.sweep', MIN, async () => {
      await release.promise;
      done = true;
    });
    const starting = runner.start();
    const stopping = runner.stop();
    release.resolve();
    await Promise.all([starting, stopping]);
    expect(done).toBe(true);
    expect(runner.ready()).toBe(false);
  });

  it('advance() needs a ManualClock', () => {
    const runner = new InProcessRunner({ clock: systemClock });
    expect(() => runner.advance(1_000)).toThrow(/ManualClock/);
  });
});

describe('InProcessRunner (system clock, timers)', () => {
  it('re-arms its timer when an earlier job is scheduled, and cancels it', async () => {
    const runner = new InProcessRunner({ clock: systemClock });
    const seen: string[] = [];
    runner.define('grant.expire', async ({ id }) => {
      seen.push(id);
    });
    await runner.start();
    await runner.schedule('grant.expire', new Date(Date.now() + 60 * MIN), { id: 'far' });
    await runner.schedule('grant.expire', new Date(Date.now() + 30), { id: 'soon' });
    await runner.schedule('grant.expire', new Date(Date.now() + 40), { id: 'cancelled' });
    await runner.cancel('grant.expire', 'cancelled');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(seen).toEqual(['soon']);
    expect(runner.pending().map((j) => j.id)).toEqual(['far']);
    await runner.stop();
  });

  it('drains a backlog of 10,000 due jobs on real timers, several at once, never one job twice at once', async () => {
    const runner = new InProcessRunner({ clock: systemClock, concurrency: { perKind: 3, total: 4 } });
    const running = new Map<JobName, number>();
    const busyIds = new Set<string>();
    let most = 0;
    let mostOfAKind = 0;
    let overlaps = 0;
    const done = new Set<string>();
    let reran = 0;
    const handler =
      (name: JobName) =>
      async ({ id }: { id: string }) => {
        if (busyIds.has(id)) overlaps++;
        busyIds.add(id);
        running.set(name, (running.get(name) ?? 0) + 1);
        most = Math.max(
          most,
          [...running.values()].reduce((a, b) => a + b, 0),
        );
        mostOfAKind = Math.max(mostOfAKind, ...running.values());
        await new Promise((resolve) => setImmediate(resolve));
        // The same job scheduled again while it runs waits for this run to end.
        if (id === 'g0' && reran++ === 0) await runner.schedule(name, new Date(), { id });
        running.set(name, (running.get(name) ?? 1) - 1);
        busyIds.delete(id);
        done.add(`${name}:${id}`);
      };
    runner.define('grant.expire', handler('grant.expire'));
    runner.define('grant.remind', handler('grant.remind'));
    await runner.start();
    // Every expiry is due before every reminder: without the limit of a kind, expiries alone would fill every slot.
    const past = Date.now() - 10_000;
    for (let i = 0; i < 5_000; i++) {
      await runner.schedule('grant.expire', new Date(past), { id: `g${i}` });
      await runner.schedule('grant.remind', new Date(past + 5_000), { id: `r${i}` });
    }
    const until = Date.now() + 60_000;
    while (done.size < 10_000 || runner.busy()) {
      if (Date.now() > until) throw new Error(`only ${done.size} of 10,000 jobs ran`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await runner.stop();
    expect(done.size).toBe(10_000);
    expect(reran).toBe(2);
    expect(overlaps).toBe(0);
    expect(most).toBe(4);
    expect(mostOfAKind).toBe(3);
    expect(runner.pending()).toEqual([]);
  });

  it('on real timers, starts due revocations before due messages, even messages due earlier', async () => {
    const runner = new InProcessRunner({ clock: systemClock, concurrency: { perKind: 2, total: 4 } });
    const started: string[] = [];
    const handler =
      (name: JobName) =>
      async ({ id }: { id: string }) => {
        started.push(`${name}:${id}`);
        await new Promise((resolve) => setImmediate(resolve));
      };
    runner.define('grant.expire', handler('grant.expire'));
    runner.define('outbox.deliver', handler('outbox.deliver'));
    const past = Date.now() - 10_000;
    for (let i = 0; i < 50; i++) {
      await runner.schedule('outbox.deliver', new Date(past), { id: `lane${i}` });
      await runner.schedule('grant.expire', new Date(past + 5_000), { id: `g${i}` });
    }
    await runner.start();
    const until = Date.now() + 30_000;
    while (started.length < 100 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await runner.stop();
    expect(started).toHaveLength(100);
    expect(started.slice(0, 50).every((s) => s.startsWith('grant.expire:'))).toBe(true);
  });

  it('on real timers, keeps the reserved slots for revocations: one falling due while messages fill the rest starts at once', async () => {
    const runner = new InProcessRunner({
      clock: systemClock,
      concurrency: { perKind: 4, total: 4, reserved: 1 },
    });
    const started: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    runner.define('outbox.deliver', async ({ id }) => {
      started.push(`outbox.deliver:${id}`);
      await gate;
    });
    runner.define('grant.expire', async ({ id }) => {
      started.push(`grant.expire:${id}`);
    });
    await runner.start();
    for (let i = 0; i < 10; i++) await runner.schedule('outbox.deliver', new Date(), { id: `lane${i}` });
    const until = Date.now() + 10_000;
    while (started.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    // Three messages hold three of the four slots; the fourth waits for a revocation.
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toEqual(['outbox.deliver:lane0', 'outbox.deliver:lane1', 'outbox.deliver:lane2']);
    await runner.schedule('grant.expire', new Date(), { id: 'g1' });
    while (started.length < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(started.at(-1)).toBe('grant.expire:g1');
    release();
    while (started.length < 11 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await runner.stop();
    expect(started).toHaveLength(11);
  });

  it('on real timers, runs fewer messages at once while an expiry runs, and all of them once it is over', async () => {
    const runner = new InProcessRunner({
      clock: systemClock,
      concurrency: { perKind: 10, total: 10, duringExpiries: 2 },
    });
    let messagesRunning = 0;
    let mostWhileExpiring = 0;
    let expiring = false;
    const delivered: string[] = [];
    let endExpiry: () => void = () => {};
    const expiryGate = new Promise<void>((resolve) => {
      endExpiry = resolve;
    });
    runner.define('grant.expire', async () => {
      expiring = true;
      await expiryGate;
      expiring = false;
    });
    runner.define('outbox.deliver', async ({ id }) => {
      messagesRunning++;
      if (expiring) mostWhileExpiring = Math.max(mostWhileExpiring, messagesRunning);
      await new Promise((r) => setTimeout(r, 20));
      messagesRunning--;
      delivered.push(id);
    });
    await runner.start();
    await runner.schedule('grant.expire', new Date(), { id: 'g1' });
    const until = Date.now() + 10_000;
    while (!expiring && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 12; i++) await runner.schedule('outbox.deliver', new Date(), { id: `lane${i}` });
    while (delivered.length < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(expiring).toBe(true);
    endExpiry();
    while (delivered.length < 12 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    await runner.stop();
    expect(mostWhileExpiring).toBe(2);
    expect([...delivered].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `lane${i}`).sort());
  });

  it('runs the periodic task at its interval', async () => {
    const runner = new InProcessRunner({ clock: systemClock });
    let runs = 0;
    runner.every('grants.sweep', 50, async () => {
      runs++;
    });
    await runner.start();
    expect(runs).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 180));
    await runner.stop();
    expect(runs).toBeGreaterThanOrEqual(3);
    const after = runs;
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(runs).toBe(after);
  });
});

runRunnerContract(
  'in-process on the system clock',
  async ({ retry }) => new InProcessRunner({ clock: systemClock, retry }),
);
