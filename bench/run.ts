/**
 * `npm run bench`: the five measurements of issue 8 and the large-catalogue rows, in one process
 * tree (the app under test runs in child processes; see lib/app-child.ts), printed as a table and
 * written to `bench-results.json` at the repository root. Numbers are printed, never asserted: a
 * measurement that fails is reported as failed and the run goes on. `npm run bench -- ack expiry`
 * runs only the sections named.
 *
 * Memory store and in-process runner, unless MONGODB_URI is set: then the app runs on MongoDB and
 * Agenda (point it at an empty scratch database).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ackBench } from './ack.js';
import { catalogBench } from './catalog.js';
import { expiryBench } from './expiry.js';
import { fanoutBench } from './fanout.js';
import { appRuntime } from './lib/app-launch.js';
import { Report } from './lib/report.js';
import { progress } from './lib/stats.js';
import { memoryBench } from './memory.js';
import { teamsFormBench } from './teams-form.js';
import { throughputBench } from './throughput.js';

const SECTIONS: Record<string, (report: Report) => Promise<void>> = {
  ack: ackBench,
  throughput: throughputBench,
  expiry: expiryBench,
  memory: memoryBench,
  fanout: fanoutBench,
  catalog: catalogBench,
  // (7) The Teams request form and its type-ahead over the same 5,000-resource catalogue.
  teams: async (report) => {
    progress('(7) the Teams form and type-ahead over 5,000 resources');
    for (const row of await teamsFormBench()) report.row(`(7) ${row.what}`, row.value, row.meaning);
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in SECTIONS));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}\n`,
    );
    process.exit(2);
  }
  const report = new Report();
  const started = performance.now();
  const loadBefore = os.loadavg()[0] ?? 0;
  for (const [name, run] of Object.entries(SECTIONS)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    const t0 = performance.now();
    try {
      await run(report);
    } catch (error) {
      report.failed(name, error);
      process.stderr.write(
        `bench: ${name} failed: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    }
    progress(`${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const seconds = (performance.now() - started) / 1000;
  const store = process.env.MONGODB_URI ? 'MongoDB + Agenda' : 'memory store + in-process runner';
  const runtime = `the app under ${appRuntime().name}`;
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const load = `load average ${loadBefore.toFixed(1)} at the start, ${(os.loadavg()[0] ?? 0).toFixed(1)} at the end`;
  process.stdout.write(
    `\n${report.table()}\n\n${store}; ${runtime}; the bench on Node ${process.version}; ${machine}; ${load}; ${seconds.toFixed(0)} s in all.\n`,
  );
  process.stdout.write('Timings vary by machine; nothing here is a pass/fail threshold.\n');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  report.write(path.join(root, 'bench-results.json'), {
    store,
    app_runtime: appRuntime().name,
    node: appRuntime().nodeVersion,
    bench_node: process.version,
    machine,
    sections: wanted.length > 0 ? wanted.join(',') : 'all',
    total_s: Math.round(seconds),
    load_avg_start: Math.round(loadBefore * 10) / 10,
    load_avg_end: Math.round((os.loadavg()[0] ?? 0) * 10) / 10,
    at: new Date().toISOString(),
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
