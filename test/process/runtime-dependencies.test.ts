/**
 * A production install has no devDependencies (`npm prune --omit=dev`), so the compiled code must
 * import nothing from them. This reads the JavaScript `node dist/cli.js` loads (following relative
 * imports from dist/cli.js, so leftovers of deleted sources do not count) and checks every package
 * it imports is a Node built-in or listed in `dependencies`. Type-only imports are gone from the
 * compiled code, so they never count.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'dist');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** `import … from 'x'`, `import 'x'`, `export … from 'x'` and `import('x')` in compiled ESM. */
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function specifiersOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** Every compiled file reachable from `entry` through relative imports, and every bare import. */
function loaded(entry: string): { files: string[]; packages: Map<string, string[]> } {
  const files = new Set<string>();
  const packages = new Map<string, string[]>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of specifiersOf(file)) {
      if (spec.startsWith('.')) {
        visit(path.resolve(path.dirname(file), spec));
      } else {
        const importers = packages.get(spec) ?? [];
        importers.push(path.relative(ROOT, file));
        packages.set(spec, importers);
      }
    }
  };
  visit(entry);
  return { files: [...files], packages };
}

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

const isBuiltin = (specifier: string) =>
  specifier.startsWith('node:') || builtinModules.includes(packageName(specifier));

describe('the compiled code and the production install', () => {
  const { files, packages } = loaded(path.join(DIST, 'cli.js'));

  it('loads the whole bot from dist/cli.js (start imports src/main.ts lazily)', () => {
    const relative = files.map((f) => path.relative(DIST, f));
    expect(relative).toContain('main.js');
    expect(relative).toContain('system.js');
    expect(packages.has('@slack/bolt')).toBe(true);
  });

  it('imports at run time only Node built-ins and packages listed in dependencies', () => {
    const outside = [...packages]
      .filter(([spec]) => !isBuiltin(spec) && !(packageName(spec) in pkg.dependencies))
      .map(([spec, importers]) => `${spec} (imported by ${importers.join(', ')})`);
    expect(outside).toEqual([]);
  });

  it('runs compiled JavaScript with Node: the bin has a shebang and npm start uses no tsx', () => {
    expect(pkg.bin['jit-access-bot']).toBe('dist/cli.js');
    expect(readFileSync(path.join(DIST, 'cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    // Node options first (the production ones: test/ops/deploy-files.test.ts), then the compiled CLI.
    expect(pkg.scripts.start).toMatch(/^node (--[a-z-]+=\S+ )*dist\/cli\.js start$/);
    expect(pkg.dependencies).not.toHaveProperty('tsx');
  });
});
