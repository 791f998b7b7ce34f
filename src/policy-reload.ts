/**
 * Reloading the policy file while the bot runs: on SIGHUP (src/main.ts) and when the file changes
 * (a watch on its folder, so an editor's save-by-rename and a Kubernetes ConfigMap's symlink swap
 * are seen too; changes are debounced, and a change that leaves the text as it was does nothing).
 *
 * The file goes through the same loader and checks as at start-up (src/config.ts), then through
 * `apply`, which builds the connectors before anything changes. A file that fails either is
 * refused with one log line naming every problem (`policy.reload_refused`), and the policy in
 * force stays as it was; one that passes replaces it as a whole (`policy.reloaded`).
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadAccessConfig } from './config.js';
import type { Log } from './domain/events.js';
import type { AccessConfig } from './domain/policy.js';

/** How long the file must stay unchanged before a change is loaded (editors write in steps). */
export const RELOAD_DEBOUNCE_MS = 300;

export interface PolicyReloaderOptions {
  path: string;
  env?: NodeJS.ProcessEnv;
  /** Puts a checked policy in force; throws (changing nothing) when it cannot. */
  apply: (access: AccessConfig) => Promise<void>;
  log: Pick<Log, 'info' | 'error' | 'warn'>;
  debounceMs?: number;
}

export interface PolicyReloader {
  /** Loads the file and puts it in force. Resolves true when it did, false when the file was refused. */
  reload(reason: string): Promise<boolean>;
  /** Starts watching the file for changes. */
  watch(): void;
  /** Stops watching. */
  close(): void;
}

export function createPolicyReloader(opts: PolicyReloaderOptions): PolicyReloader {
  const file = path.resolve(opts.path);
  const debounceMs = opts.debounceMs ?? RELOAD_DEBOUNCE_MS;
  let queue: Promise<unknown> = Promise.resolve();
  /** The text last loaded (accepted or refused): a change event that leaves it as it was is ignored. */
  let lastSeen = digest(file);
  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | undefined;

  const load = async (reason: string): Promise<boolean> => {
    lastSeen = digest(file);
    let access: AccessConfig;
    try {
      access = loadAccessConfig(file, opts.env);
      await opts.apply(access);
    } catch (error) {
      const problems =
        error instanceof ConfigError
          ? error.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
          : [error instanceof Error ? error.message : String(error)];
      opts.log.error(
        { path: file, reason, problems },
        `policy.reload_refused: ${problems.join('; ')}; the previous policy stays in force`,
      );
      return false;
    }
    opts.log.info({ path: file, reason, resources: access.resources.length }, 'policy.reloaded');
    return true;
  };

  // One reload at a time, in the order asked.
  const reload = (reason: string): Promise<boolean> => {
    const next = queue.then(() => load(reason));
    queue = next.catch(() => undefined);
    return next;
  };

  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (digest(file) === lastSeen) return;
      void reload('file changed');
    }, debounceMs);
  };

  return {
    reload,
    watch() {
      if (watcher) return;
      try {
        watcher = watch(path.dirname(file), { persistent: false }, changed);
        watcher.on('error', (error) => {
          opts.log.warn({ err: error, path: file }, 'policy.watch_failed: reload with SIGHUP instead');
        });
      } catch (error) {
        opts.log.warn({ err: error, path: file }, 'policy.watch_failed: reload with SIGHUP instead');
      }
    },
    close() {
      clearTimeout(timer);
      watcher?.close();
      watcher = null;
    },
  };
}

/** A fingerprint of the file's text, or of its absence. */
function digest(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'unreadable';
  }
}
