/**
 * A policy file of 5,000 resources (test/core/large-catalog.ts) is read like any other: by the
 * policy parser, and by `jit-access-bot check-config` as an admin's CI runs it (`node
 * dist/cli.js`). How long that takes is measured by `npm run bench`, not asserted here.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseAccessConfig } from '../../src/domain/policy.js';
import { type Catalog, largeCatalog } from '../core/large-catalog.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs `node dist/cli.js ...args` from the repository root with only PATH, HOME and TMPDIR set. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR'] as const) {
    const value = process.env[key];
    if (value) env[key] = value;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join('dist', 'cli.js'), ...args],
      { cwd: ROOT, env, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let catalog: Catalog;
let dir: string;
let file: string;

beforeAll(async () => {
  catalog = largeCatalog({ resources: 5000, groups: 40 });
  dir = await mkdtemp(path.join(tmpdir(), 'jit-large-policy-'));
  file = path.join(dir, 'access.yaml');
  await writeFile(file, catalog.yaml);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a policy file of 5,000 resources', () => {
  it('parses, with every resource, its group and its requesters', () => {
    const config = parseAccessConfig(parseYaml(catalog.yaml));
    expect(config.resources).toHaveLength(5000);
    expect(new Set(config.resources.map((r) => r.group)).size).toBe(40);
    expect(config.resources.map((r) => r.id)).toEqual(catalog.resources.map((r) => r.id));
    const vault = config.resources.find((r) => r.id === 'vault-proddb-1');
    expect(vault).toMatchObject({ group: 'Vault Sécurité', requesters: catalog.insiders });
    expect(config.resources[0]?.approvers).toHaveLength(150);
  });

  it('still finds a duplicate id at its path among 5,000', () => {
    const data = parseYaml(catalog.yaml) as { resources: Array<{ id: string }> };
    const first = catalog.resources.findIndex((r) => r.id === 'zurich-proddb-3');
    const last = data.resources[4999];
    if (last) last.id = 'zurich-proddb-3';
    const thrown = (() => {
      try {
        parseAccessConfig(data);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).issues).toEqual([
      { path: 'resources[4999].id', message: `duplicate id "zurich-proddb-3" (also resources[${first}])` },
    ]);
  });

  it('passes check-config with one summary line', async () => {
    const run = await cli(['check-config', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${file}: OK — 5000 resources, 2 groups, 0 admins\n`);
    expect(run.stderr).toBe('');
  });
});
