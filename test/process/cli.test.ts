/**
 * The command line as an admin (or their CI) runs it: `node dist/cli.js …` (the `jit-access-bot`
 * bin), with an environment of our choosing (nothing inherited but PATH, HOME and TMPDIR).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Two problems the loader reports together: an unknown key and a bad duration. */
const TWO_PROBLEMS = `
resources:
  - id: first
    name: First
    approvers: [alice@example.com]
    polcy: { custom: { max: PT30M } }
    connector: { type: log }
  - id: second
    name: Second
    approvers: [alice@example.com]
    policy: { durations: [PT4H, soon] }
    connector: { type: log }
`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ...args` from the repository root with exactly `env` (plus PATH, HOME, TMPDIR). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR'] as const) {
    const value = process.env[key];
    if (value) base[key] = value;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join('dist', 'cli.js'), ...args],
      { cwd: ROOT, env: { ...base, ...env }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

let dir: string;
let twoProblems: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'jit-cli-'));
  twoProblems = path.join(dir, 'two-problems.yaml');
  await writeFile(twoProblems, TWO_PROBLEMS);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('jit-access-bot check-config', () => {
  it('accepts a good file with exit 0 and prints one summary line', async () => {
    const run = await cli(['check-config', 'access.example.yaml'], { ACME_HOOK_SECRET: 'set' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('access.example.yaml: OK — 3 resources, 2 groups, 1 admin\n');
    expect(run.stderr).toBe('');
  });

  it('lists every problem of a bad file by path, one per line, and exits 2', async () => {
    const run = await cli(['check-config', twoProblems]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual([
      `${twoProblems}: 2 problems`,
      'resources[0].polcy: unknown key (did you mean "policy"?)',
      'resources[1].policy.durations[1]: "soon" is not a positive ISO-8601 duration (e.g. PT4H, P1D, P1W)',
    ]);
  });

  it('exits 2 naming the file when it does not exist', async () => {
    const missing = path.join(dir, 'no-such.yaml');
    const run = await cli(['check-config', missing]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${missing} not found`);
  });

  it('still passes a file whose webhook secret is unset, with a note naming the variable', async () => {
    const run = await cli(['check-config', 'access.example.yaml']);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout)).toEqual(['access.example.yaml: OK — 3 resources, 2 groups, 1 admin']);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(
        /^note: resources\[0\]\.connector\.secretEnv: environment variable ACME_HOOK_SECRET is not set/,
      ),
    ]);
  });

  it('with --require-secrets, fails on an unset webhook secret with exit 2', async () => {
    const run = await cli(['check-config', '--require-secrets', 'access.example.yaml']);
    expect(run.code, run.stderr).toBe(2);
    expect(lines(run.stderr)).toEqual([
      'access.example.yaml: 1 problem',
      'resources[0].connector.secretEnv: environment variable ACME_HOOK_SECRET is not set',
    ]);

    const withSecret = await cli(['check-config', 'access.example.yaml', '--require-secrets'], {
      ACME_HOOK_SECRET: 'set',
    });
    expect(withSecret.code, withSecret.stderr).toBe(0);
  });
});

describe('jit-access-bot usage', () => {
  it.each([
    [[], 'no command given'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['check-config'], 'check-config needs the policy file to check'],
    [['check-config', 'a.yaml', 'b.yaml'], 'check-config checks one file'],
    [['check-config', '--strict', 'a.yaml'], "Unknown option '--strict'"],
    [['start', 'now'], 'start takes no arguments'],
    [['migrate', 'now'], 'migrate takes no arguments'],
  ])('%j prints the usage on stderr and exits 2', async (args, reason) => {
    const run = await cli(args);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(reason);
    expect(run.stderr).toContain('Usage:');
  });

  it.each([[['--help']], [['-h']], [['help']], [['check-config', '--help']]])(
    '%j prints the usage on stdout and exits 0',
    async (args) => {
      const run = await cli(args);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('jit-access-bot check-config <file>');
      expect(run.stdout).toContain('jit-access-bot migrate');
      expect(run.stderr).toBe('');
    },
  );
});

describe('jit-access-bot migrate', () => {
  it('exits 2 with STORE=memory: there is nothing to migrate', async () => {
    const run = await cli(['migrate'], { STORE: 'memory' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('no indexes to migrate');
  });

  it('exits 2 naming MONGODB_URI when it is not a MongoDB URI', async () => {
    const run = await cli(['migrate'], { MONGODB_URI: 'postgres://localhost' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('MONGODB_URI');
  });

  const uri = inject('mongoUri');
  const title = 'builds the indexes of an empty database on MongoDB, and finds nothing to do the second time';
  it.skipIf(!uri)(uri ? title : `${title} [skipped: no MongoDB reachable — set MONGODB_URI]`, async () => {
    const database = new URL(uri as string);
    database.pathname = `/jit_cli_migrate_${process.pid}`;
    try {
      const first = await cli(['migrate'], { MONGODB_URI: database.toString(), LOG_LEVEL: 'silent' });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain('Indexes migrated.');
      const second = await cli(['migrate'], { MONGODB_URI: database.toString(), LOG_LEVEL: 'silent' });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain('nothing to do');
    } finally {
      const conn = await mongoose.createConnection(database.toString()).asPromise();
      await conn.dropDatabase();
      await conn.close();
    }
  });
});
