/**
 * A store that fails on purpose, wrapped around a real one (the memory store): every repository call
 * goes through it, so the app's own code meets the failure wherever it happens to write.
 *
 * - `dieAtWrite: n` — the process "dies" at its n-th write: that write (with `when: 'before'`, the
 *   default, it is not made; with `'after'`, it is made and then the caller hears of no result) and
 *   every later call fail, for good. A test then starts a new app over the same data, as after a
 *   crash; `wrapStore` gives each boot a fresh wrapper, so the dead one stays dead.
 * - `down: true` — the store is unreachable for a moment: every call fails until set back.
 * - `failWrite: n` — only the n-th write fails (a blip): the caller hears of it, the rest works.
 */
import { type Repositories, StoreUnavailableError } from '../../src/domain/ports.js';
import type { Store } from '../../src/store/index.js';

/** The repository methods that change data; everything else only reads. */
const WRITES = new Set([
  'insert',
  'decide',
  'expire',
  'cancel',
  'close',
  'undoApproval',
  'settle',
  'update',
  'append',
  'save',
  'replace',
  'enqueue',
]);

/** What MongoDB's adapter throws when the server cannot be reached (src/store/mongo/collection.ts). */
const unavailable = (what: string) => new StoreUnavailableError(`injected fault at ${what}`);

export interface StoreFaults {
  dieAtWrite?: number;
  /** Only the n-th write fails (not made); everything before and after works. */
  failWrite?: number;
  when?: 'before' | 'after';
  down?: boolean;
}

export interface FaultyStore extends Store {
  faults: StoreFaults;
  /** Writes made (or attempted) so far, as `repo.method`, in order. */
  readonly writes: string[];
  /** Set once the process "died": the write it died at. */
  diedAt?: string;
}

export function faultyStore(inner: Store, faults: StoreFaults = {}): FaultyStore {
  const writes: string[] = [];
  const self: FaultyStore = {
    ...inner,
    faults,
    writes,
    repos: {} as Repositories,
    ping: async () => !(self.diedAt || faults.down) && inner.ping(),
  };
  const wrap = <R extends object>(name: string, repo: R): R =>
    new Proxy(repo, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        const what = `${name}.${String(prop)}`;
        return async (...args: unknown[]) => {
          if (self.diedAt) throw unavailable(`${what} after dying at ${self.diedAt}`);
          if (faults.down) throw unavailable(what);
          if (!WRITES.has(String(prop))) return value.apply(target, args);
          writes.push(what);
          if (faults.failWrite === writes.length) throw unavailable(what);
          if (faults.dieAtWrite === writes.length) {
            if (faults.when === 'after') await value.apply(target, args).catch(() => {});
            self.diedAt = `#${writes.length} ${what}`;
            throw unavailable(what);
          }
          return value.apply(target, args);
        };
      },
    });
  self.repos = Object.fromEntries(
    Object.entries(inner.repos).map(([name, repo]) => [name, wrap(name, repo as object)]),
  ) as unknown as Repositories;
  return self;
}
