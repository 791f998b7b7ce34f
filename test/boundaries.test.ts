import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(path: string): string[] {
  const source = readFileSync(path, 'utf8');
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/g)].map(
    (m) => m[1] ?? '',
  );
}

/** Every import in `folder` that matches a forbidden pattern, as "file -> import". */
function violations(folder: string, forbidden: RegExp[]): string[] {
  return files(folder).flatMap((file) =>
    importsOf(file)
      .filter((spec) => forbidden.some((f) => f.test(spec)))
      .map((spec) => `${relative('.', file)} -> ${spec}`),
  );
}

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
});
