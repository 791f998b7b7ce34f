/**
 * vitest global setup: the process tests run the compiled bot (`node dist/cli.js`), as `npm start`
 * does, so dist/ is compiled first (`npm run build`) when it is missing or older than anything it
 * is built from. `npm install` builds it too (the `prepare` script), so usually nothing happens.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Written by every build (tsc writes all its output each time). */
const BUILT = path.join(ROOT, 'dist', 'cli.js');

export default function setup(): void {
  const built = mtimeMs(BUILT);
  const inputs = newestMtimeMs([
    path.join(ROOT, 'src'),
    path.join(ROOT, 'tsconfig.json'),
    path.join(ROOT, 'tsconfig.build.json'),
  ]);
  if (built !== undefined && built >= inputs) return;

  const started = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `npm run build failed (${result.error?.message ?? `status ${result.status}`}):\n${result.stdout}${result.stderr}`,
    );
  }
  const why = built === undefined ? 'missing' : 'older than src/';
  console.log(`[build] dist/ was ${why}; compiled it in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function mtimeMs(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest modification time of these files and everything under these folders (folders count: deleting a file touches its folder). */
function newestMtimeMs(paths: string[]): number {
  let newest = 0;
  for (const p of paths) {
    const stat = statSync(p);
    newest = Math.max(newest, stat.mtimeMs);
    if (stat.isDirectory()) {
      newest = Math.max(newest, newestMtimeMs(readdirSync(p).map((name) => path.join(p, name))));
    }
  }
  return newest;
}
