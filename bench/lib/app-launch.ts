/**
 * How the app under test is started: the way production runs it, compiled JavaScript under plain
 * `node` (`dist/`, built by `npm run build`), so that its memory and CPU figures are production's
 * and not those of `tsx` compiling TypeScript in memory.
 *
 * - `dist/` older than `src/` (or missing) is built first (`npm run build`).
 * - The child's own two files (./app-child.ts and ./seed.ts, not part of `dist/`) are transpiled
 *   by TypeScript into `.bench/`, with their imports of `src/` pointed at `dist/`.
 * - When either step fails, or `BENCH_APP_RUNTIME=tsx` is set, the child runs under `tsx` as
 *   before, and the bench says so in its output (`appRuntime().name`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { progress } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const OUT = path.join(ROOT, '.bench');
/** The child's files that are not part of the product (they import it). */
const CHILD_FILES = ['app-child.ts', 'seed.ts'];

/**
 * The Node options production runs the app with (the Dockerfile's `NODE_OPTIONS`, `npm start`):
 * a young generation of 32 MB semi-spaces instead of V8's 16 MB, so that the many short-lived
 * objects of each request die before a scavenge copies them. Measured with the throughput bench
 * (2): about 4-6 % less app CPU a flow, for about 25 MB more resident memory (docs/benchmarks.md).
 * test/ops/deploy-files.test.ts holds the Dockerfile and package.json to the same value.
 */
export const PRODUCTION_NODE_OPTIONS = ['--max-semi-space-size=32'];

export interface AppRuntime {
  /** `node dist` or `tsx`, and why when it is the fallback: what the bench prints. */
  name: string;
  /** The module to fork. */
  entry: string;
  /** Node options before the bench's own (`--expose-gc`, a CPU profile). */
  execArgv: string[];
  /** The Node binary the app runs under (`BENCH_NODE`); unset: the one running the bench. */
  execPath?: string;
  /** That Node's version, e.g. `v24.22.3`. */
  nodeVersion: string;
}

/**
 * `BENCH_NODE=<path to a node binary>` runs the app under that Node instead of the bench's own, e.g.
 * the Node of the production image (the Dockerfile's) when this machine's default is older.
 */
function appNode(): { execPath?: string; nodeVersion: string } {
  const execPath = process.env.BENCH_NODE;
  if (!execPath) return { nodeVersion: process.version };
  const nodeVersion = execFileSync(execPath, ['-v'], { encoding: 'utf8' }).trim();
  return { execPath, nodeVersion };
}

export const TSX_RUNTIME: AppRuntime = {
  name: 'tsx (TypeScript compiled in memory)',
  entry: path.join(HERE, 'app-child.ts'),
  execArgv: [...PRODUCTION_NODE_OPTIONS, '--import', 'tsx'],
  nodeVersion: process.version,
};

let chosen: AppRuntime | null = null;

/** The runtime of every app child of this run, decided (and built) once. */
export function appRuntime(): AppRuntime {
  chosen ??= choose();
  return chosen;
}

function choose(): AppRuntime {
  if (process.env.BENCH_APP_RUNTIME === 'tsx') {
    return { ...TSX_RUNTIME, name: `${TSX_RUNTIME.name}, as BENCH_APP_RUNTIME=tsx asks` };
  }
  try {
    buildDistIfStale();
    const node = appNode();
    return {
      name: `node ${PRODUCTION_NODE_OPTIONS.join(' ')} dist (compiled, as in production) on Node ${node.nodeVersion}`,
      entry: compileChild(),
      execArgv: [...PRODUCTION_NODE_OPTIONS],
      ...node,
    };
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    progress(`the app child falls back to tsx: ${why}`);
    return { ...TSX_RUNTIME, name: `${TSX_RUNTIME.name}: FALLBACK, compiled run failed (${why})` };
  }
}

/** Newest modification time of the files under `dir` (0 when there are none). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

function buildDistIfStale(): void {
  let built = 0;
  try {
    built = statSync(path.join(ROOT, 'dist', 'main.js')).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newest(path.join(ROOT, 'src'))) return;
  progress('dist/ is older than src/: npm run build');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Transpiles the child's files into .bench/, importing the product from dist/. Returns the entry. */
function compileChild(): string {
  mkdirSync(OUT, { recursive: true });
  const dist = path.join(ROOT, 'dist');
  for (const file of CHILD_FILES) {
    const source = readFileSync(path.join(HERE, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: file,
    });
    const js = outputText.replace(
      /(from\s+|import\()(['"])\.\.\/\.\.\/src\//g,
      (_m, lead: string, quote: string) => `${lead}${quote}${dist}/`,
    );
    if (/['"]\.\.\/\.\.\//.test(js)) throw new Error(`${file} imports outside src/ that dist/ does not hold`);
    writeFileSync(path.join(OUT, file.replace(/\.ts$/, '.js')), js);
  }
  return path.join(OUT, 'app-child.js');
}
