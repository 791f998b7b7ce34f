/**
 * The embedded MongoDB as the compiled app starts it (dist/store/mongo/embedded.js), with a stand-in
 * `mongod` (a small script given as mongodb-memory-server's `MONGOMS_SYSTEM_BINARY`): no real
 * server is needed to see which version is asked for, and which signals reach `mongod` when a
 * person presses Ctrl-C in the terminal (the whole foreground process group gets SIGINT).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMBEDDED_MONGOD_VERSION,
  EMBEDDED_START_TIMEOUT_MS,
  embeddedServerOptions,
} from '../../src/store/mongo/embedded.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A `mongod` stand-in: answers --version, says it is ready, and records the signals it gets. */
const FAKE_MONGOD = `
import { appendFileSync } from 'node:fs';
const record = process.env.FAKE_MONGOD_LOG;
if (process.argv.includes('--version')) {
  process.stdout.write('db version v${EMBEDDED_MONGOD_VERSION}\\nBuild Info: {}\\n');
  process.exit(0);
}
appendFileSync(record, 'started ' + Date.now() + ' ' + process.argv.slice(2).join(' ') + '\\n');
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    appendFileSync(record, signal + ' ' + Date.now() + '\\n');
    process.exit(0);
  });
}
process.stdout.write(JSON.stringify({ t: { $date: new Date().toISOString() }, s: 'I', c: 'NETWORK', id: 23016, msg: 'Waiting for connections', attr: {} }) + '\\n');
setInterval(() => {}, 1000);
`;

/** What src/main.ts does around the embedded store: start it, and on SIGINT drain first, then stop it. */
const APP = `
import { startEmbeddedMongo } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/store/mongo/embedded.js')).href)};
const embedded = await startEmbeddedMongo(process.argv[2]);
console.log('ready');
process.on('SIGINT', async () => {
  console.log('signalled ' + Date.now());
  await new Promise((r) => setTimeout(r, 800)); // the app drains its jobs, writing to mongod
  console.log('drained ' + Date.now());
  await embedded.stop();
  console.log('stopped');
  process.exit(0);
});
`;

let dir: string;
let fakeMongod: string;
let app: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'jit-mongod-'));
  const script = path.join(dir, 'fake-mongod.mjs');
  await writeFile(script, FAKE_MONGOD);
  fakeMongod = path.join(dir, 'mongod');
  await writeFile(
    fakeMongod,
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$@"\n`,
  );
  await chmod(fakeMongod, 0o755);
  app = path.join(dir, 'app.mjs');
  await writeFile(app, APP);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function startApp(
  dataDir: string,
  log: string,
): { child: ChildProcess; output(): string; exited: Promise<number | null> } {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR'] as const) {
    const value = process.env[key];
    if (value) base[key] = value;
  }
  // Its own process group, as a shell gives a foreground job: a signal to the group reaches all in it.
  const child = spawn(process.execPath, [app, dataDir], {
    cwd: ROOT,
    env: { ...base, MONGOMS_SYSTEM_BINARY: fakeMongod, MONGOMS_VERSION: '7.0.0', FAKE_MONGOD_LOG: log },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until(what: string, predicate: () => boolean, output: () => string, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms\n${output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the embedded MongoDB', () => {
  it('is pinned to one mongod version, may take two minutes to start, and runs in its own process group', () => {
    const options = embeddedServerOptions('/data/mongo');
    expect(options.binary.version).toBe(EMBEDDED_MONGOD_VERSION);
    expect(EMBEDDED_START_TIMEOUT_MS).toBeGreaterThanOrEqual(60_000);
    expect(options.instance).toMatchObject({
      dbPath: '/data/mongo',
      launchTimeout: EMBEDDED_START_TIMEOUT_MS,
    });
    expect(options.spawn).toEqual({ detached: true });
  });

  it('keeps mongod running through Ctrl-C until the app has drained, then stops it', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const log = path.join(dir, `mongod-${Date.now()}.log`);
    const run = startApp(dataDir, log);
    try {
      await until('ready', () => run.output().includes('ready'), run.output);
      // Ctrl-C: SIGINT to the whole foreground process group.
      process.kill(-(run.child.pid as number), 'SIGINT');
      expect(await run.exited, run.output()).toBe(0);
      // The pinned version was asked for, not MONGOMS_VERSION's (7.0.0): no version warning.
      expect(run.output()).not.toContain('version conflict');
      const drained = Number(/drained (\d+)/.exec(run.output())?.[1]);
      const events = (await readFile(log, 'utf8')).trim().split('\n');
      expect(events[0]).toMatch(/^started /);
      const signals = events.slice(1).map((line) => line.split(' '));
      expect(signals.map(([name]) => name)).toEqual(['SIGINT']); // once, from stop(), not from the terminal
      expect(Number(signals[0]?.[1])).toBeGreaterThanOrEqual(drained);
    } finally {
      if (run.child.exitCode === null) process.kill(-(run.child.pid as number), 'SIGKILL');
    }
  }, 30_000);

  it('refuses data last run by another mongod version, saying what to do', async () => {
    const dataDir = await mkdtemp(path.join(dir, 'data-'));
    const log = path.join(dir, `mongod-${Date.now()}.log`);
    const first = startApp(dataDir, log);
    await until('ready', () => first.output().includes('ready'), first.output);
    process.kill(-(first.child.pid as number), 'SIGINT');
    await first.exited;
    expect((await readFile(path.join(dataDir, 'mongo', 'mongod-version'), 'utf8')).trim()).toBe(
      EMBEDDED_MONGOD_VERSION.split('.').slice(0, 2).join('.'),
    );
    await writeFile(path.join(dataDir, 'mongo', 'mongod-version'), '7.0\n');
    const second = startApp(dataDir, log);
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toContain(
      `was last run by mongod 7.0, and this version of jit-access-bot runs mongod ${EMBEDDED_MONGOD_VERSION}`,
    );
  }, 30_000);
});
