import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Every module `source` names: imports and re-exports (type-only and multi-line ones too),
 * side-effect imports (`import 'x'`) and dynamic `import('x')`.
 */
function specifiersIn(source: string): string[] {
  const patterns = [
    /(?:^|\n)\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/g,
    /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1] ?? ''));
}

function importsOf(path: string): string[] {
  return specifiersIn(readFileSync(path, 'utf8'));
}

/** Every import in `folder` that matches a forbidden pattern, as "file -> import". */
function violations(folder: string, forbidden: RegExp[]): string[] {
  return files(folder).flatMap((file) =>
    importsOf(file)
      .filter((spec) => forbidden.some((f) => f.test(spec)))
      .map((spec) => `${relative('.', file)} -> ${spec}`),
  );
}

/** Where the relative imports of `file` land, from the repository root ("src/store/index.js"). */
function targetsOf(file: string, source: string): string[] {
  return specifiersIn(source)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => posix.join(dirname(file).split(sep).join('/'), spec));
}

/** Every import in `folder` that lands inside one of `folders`, as "file -> import". */
function reaches(folder: string, folders: string[]): string[] {
  return files(folder).flatMap((file) =>
    targetsOf(relative('.', file), readFileSync(file, 'utf8'))
      .filter((target) => folders.some((f) => target === f || target.startsWith(`${f}/`)))
      .map((target) => `${relative('.', file)} -> ${target}`),
  );
}

/** Chat platforms, databases and the scheduler: what only the adapters may use. */
const PLATFORM_PACKAGES = [
  /^@slack\//,
  /^botbuilder/,
  /^@microsoft\//,
  /^mongoose(\/|$)/,
  /^mongodb/,
  /^agenda(\/|$)/,
  /^@agendajs\//,
];

describe('import boundaries', () => {
  it('keeps the domain free of Slack, Teams, MongoDB, Agenda, logging and the other layers', () => {
    expect(
      violations('src/domain', [
        /^@slack\//,
        /^botbuilder/,
        /^@microsoft\//,
        /^mongoose$/,
        /^mongodb/,
        /^agenda$/,
        /^@agendajs\//,
        /^pino/,
        /^node:(fs|http|https|net)$/,
        /\/(bot|store|jobs|connectors)\//,
        /^\.\.\/(bot|store|jobs|connectors|config|main|system)/,
      ]),
    ).toEqual([]);
  });

  it('keeps the store free of chat platforms and the scheduler', () => {
    expect(violations('src/store', [/^@slack\//, /^botbuilder/, /^agenda$/, /\/bot\//, /\/jobs\//])).toEqual(
      [],
    );
  });

  it('keeps Slack code out of the scheduler and the Slack front end off mongoose and Agenda', () => {
    expect(violations('src/jobs', [/^@slack\//, /^botbuilder/, /\/bot\//])).toEqual([]);
    expect(violations('src/bot', [/^mongoose$/, /^mongodb/, /^agenda$/, /\/store\//, /\/jobs\//])).toEqual(
      [],
    );
  });

  it('lets only src/config.ts read the environment', () => {
    const readers = files('src').filter(
      (f) => /process\.env/.test(readFileSync(f, 'utf8')) && !f.endsWith(join('src', 'config.ts')),
    );
    expect(readers.map((f) => relative('.', f))).toEqual([]);
  });

  it('keeps the core free of Slack, Teams, MongoDB and Agenda, and of the bot, store, jobs and HTTP layers', () => {
    expect(violations('src/core', PLATFORM_PACKAGES)).toEqual([]);
    expect(reaches('src/core', ['src/bot', 'src/store', 'src/jobs', 'src/http'])).toEqual([]);
  });

  it('keeps the domain from importing the core', () => {
    expect(reaches('src/domain', ['src/core'])).toEqual([]);
  });

  it('keeps the Slack front end off the store, the scheduler and their packages', () => {
    expect(reaches('src/bot/slack', ['src/store', 'src/jobs'])).toEqual([]);
    expect(
      violations('src/bot/slack', [/^mongoose(\/|$)/, /^mongodb/, /^agenda(\/|$)/, /^@agendajs\//]),
    ).toEqual([]);
  });
});

describe('the Bot Framework SDK stays in src/bot/teams', () => {
  const BOT_FRAMEWORK = [/^botbuilder(-|\/|$)/, /^botframework-/];

  it('lets nothing outside src/bot/teams import botbuilder or botframework-* (src, tests and bench alike)', () => {
    const outside = ['src', 'test', 'bench'].flatMap((root) =>
      files(root)
        .filter((f) => !relative('.', f).split(sep).join('/').startsWith('src/bot/teams/'))
        .flatMap((file) =>
          importsOf(file)
            .filter((spec) => BOT_FRAMEWORK.some((b) => b.test(spec)))
            .map((spec) => `${relative('.', file)} -> ${spec}`),
        ),
    );
    expect(outside).toEqual([]);
  });

  it('keeps the Teams front end off the store, the scheduler, Slack and their packages', () => {
    expect(reaches('src/bot/teams', ['src/store', 'src/jobs', 'src/bot/slack'])).toEqual([]);
    expect(
      violations('src/bot/teams', [
        /^mongoose(\/|$)/,
        /^mongodb/,
        /^agenda(\/|$)/,
        /^@agendajs\//,
        /^@slack\//,
      ]),
    ).toEqual([]);
  });

  it('finds the SDK where it belongs, so the check above cannot pass for want of imports', () => {
    const inside = files('src/bot/teams').flatMap(importsOf);
    expect(inside.filter((spec) => BOT_FRAMEWORK.some((b) => b.test(spec)))).toContain('botbuilder');
  });
});

describe('the import reader behind the boundary checks', () => {
  it('sees static, type-only, multi-line, re-exported, side-effect and dynamic imports', () => {
    const source = [
      "import a from 'static';",
      "import type { T } from 'type-only';",
      'import {',
      '  b,',
      '  c,',
      "} from 'multi-line';",
      "export * from 're-export-all';",
      "export { d } from 're-export';",
      "import 'side-effect';",
      "const e = await import('dynamic');",
      "const f = 'not an import';",
    ].join('\n');
    expect(specifiersIn(source).sort()).toEqual(
      ['dynamic', 'multi-line', 're-export', 're-export-all', 'side-effect', 'static', 'type-only'].sort(),
    );
  });

  it('resolves a relative import from the importing file’s own folder', () => {
    const source =
      "import { s } from '../../store/index.js';\nimport { b } from '../bot/x.js';\nimport 'zod';";
    expect(targetsOf('src/core/forms/form.ts', source)).toEqual(['src/store/index.js', 'src/core/bot/x.js']);
  });

  it('finds the boundaries’ folders, so no check passes for want of files', () => {
    for (const folder of [
      'src/core',
      'src/domain',
      'src/bot/slack',
      'src/bot/teams',
      'src/store',
      'src/jobs',
      'src/http',
    ]) {
      expect(files(folder).length, folder).toBeGreaterThan(0);
    }
  });
});
