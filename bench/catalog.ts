/**
 * Large catalogue: a policy of 5,000 resources, loaded and checked as `start` and `check-config`
 * do, and the type-ahead (`resourceOptions`, what every keystroke in the resource menu asks) over
 * random queries. Runs in this process: no HTTP, only the core.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAccessConfig } from '../src/config.js';
import { createConnectorRegistry } from '../src/connectors/registry.js';
import { PICKER_LIST_MAX, resourceOptions } from '../src/core/forms/pickers.js';
import { systemClock } from '../src/domain/clock.js';
import type { AccessConfig } from '../src/domain/policy.js';
import { PolicySource } from '../src/domain/policy-source.js';
import { AccessService } from '../src/domain/service.js';
import { InProcessRunner } from '../src/jobs/in-process.js';
import { createLogger } from '../src/log.js';
import { createMemoryStore } from '../src/store/index.js';
import { largeCatalog } from '../test/core/large-catalog.js';
import type { Report } from './lib/report.js';
import { ms, progress, round, seeded, summarize } from './lib/stats.js';

const RESOURCES = 5000;
const LOADS = 5;
const QUERIES = 400;

function service(access: AccessConfig): AccessService {
  const log = createLogger('silent');
  const repos = createMemoryStore().repos;
  return new AccessService({
    policy: new PolicySource(access, repos.settings),
    repos,
    scheduler: new InProcessRunner({ clock: systemClock, logger: log }),
    connectors: createConnectorRegistry({
      resources: access.resources,
      secretFor: () => 'unused',
      clock: systemClock,
      logger: log,
    }),
    notifier: { notify: async () => {} },
    clock: systemClock,
    log,
    newId: randomUUID,
    backoffMs: () => 1000,
    reportAfterAttempts: 3,
  });
}

/** What people type: ids, names, a few words of a name cut short in any order, groups, letters. */
function queries(catalog: ReturnType<typeof largeCatalog>): string[] {
  const random = seeded(42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  return Array.from({ length: QUERIES }, () => {
    const r = pick(catalog.resources);
    const kind = random();
    if (kind < 0.25) return r.id;
    if (kind < 0.5) return r.name;
    if (kind < 0.75) {
      const words = r.name.split(' ').filter(() => random() < 0.6);
      const cut = (words.length ? words : [r.name]).map((w) => w.slice(0, 2 + Math.floor(random() * 4)));
      return cut.sort(() => random() - 0.5).join(' ');
    }
    if (kind < 0.9) return r.group;
    return 'abcdefghijklmnopqrstuvwxyz'
      .slice(Math.floor(random() * 24))
      .slice(0, 1 + Math.floor(random() * 3));
  });
}

export async function catalogBench(report: Report): Promise<void> {
  progress(`(6) a policy of ${RESOURCES} resources: ${LOADS} loads, ${QUERIES} type-ahead queries`);
  const catalog = largeCatalog({ resources: RESOURCES, groups: 40 });
  const dir = mkdtempSync(path.join(tmpdir(), 'jit-bench-'));
  const file = path.join(dir, 'access.yaml');
  writeFileSync(file, catalog.yaml);
  try {
    let access = loadAccessConfig(file, {});
    const loads: number[] = [];
    for (let i = 0; i < LOADS; i++) {
      const t0 = performance.now();
      access = loadAccessConfig(file, {});
      loads.push(performance.now() - t0);
    }
    if (access.resources.length !== RESOURCES) throw new Error(`loaded ${access.resources.length} resources`);
    const l = summarize(loads);
    report.row(
      `(6) load + check, ${RESOURCES} resources`,
      `${ms(l.p50)} / ${ms(l.max)}`,
      `median / worst of ${LOADS} loads of a ${(catalog.yaml.length / 1024).toFixed(0)} KiB policy file`,
    );
    const core = service(access);
    // Erin may request all but one group: every search also filters by who may request what.
    const viewer = { email: 'erin@example.com', name: 'Erin' };
    const t0 = performance.now();
    resourceOptions(core, viewer, '', PICKER_LIST_MAX);
    const firstMs = performance.now() - t0;
    const samples: number[] = [];
    let shown = 0;
    for (const query of queries(catalog)) {
      const q0 = performance.now();
      const found = resourceOptions(core, viewer, query, PICKER_LIST_MAX);
      samples.push(performance.now() - q0);
      shown += found.groups.reduce((n, g) => n + g.options.length, 0);
    }
    if (shown === 0) throw new Error('no query found anything');
    const s = summarize(samples);
    report.row(
      `(6) type-ahead, ${RESOURCES} resources`,
      `${ms(s.p50)} / ${ms(s.p99)}`,
      `median / p99 of resourceOptions over ${QUERIES} queries (Slack waits 3 s for options)`,
    );
    report.row(
      '(6) first type-ahead query',
      ms(firstMs),
      'the first search after a (re)load, which builds the index',
    );
    report.set({
      catalog_load_p50_ms: round(l.p50),
      typeahead_p50_ms: round(s.p50, 3),
      typeahead_p99_ms: round(s.p99, 3),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
