/**
 * The child processes of `npm run playground`: each in its own process group (so a Ctrl-C in the
 * terminal reaches only the script, which stops each in turn), its output in a log file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

export interface Child {
  name: string;
  process: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  log: string,
): Child {
  const out = createWriteStream(log, { flags: 'a' });
  // Its own process group: a Ctrl-C in the terminal reaches this script, which stops each in turn.
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { name, process: child, log, exited };
}

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

export async function waitFor<T>(
  what: string,
  child: Child,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void child.exited.then(() => {
    gone = true;
  });
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (gone)
      throw new Error(
        `${child.name} stopped before ${what}. Its last lines (${child.log}):\n${tail(child.log)}`,
      );
    if (Date.now() > deadline)
      throw new Error(`${what}: no answer after ${timeoutMs / 1000} s (see ${child.log})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function stopChild(child: Child, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const pid = child.process.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    return;
  }
  const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs).unref());
  if ((await Promise.race([child.exited, timer])) === 'late') {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
    await child.exited;
  }
}
