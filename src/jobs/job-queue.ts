/**
 * The in-process runner's pending jobs: one entry per job key, and per job name a binary heap
 * ordered by due time then scheduling order, so finding the next due job costs O(log n) however
 * many are waiting (10,000 grants expiring in the same minute are 10,000 pending jobs). Replaced
 * or cancelled entries stay in the heap and are skipped when they reach its top.
 */
import type { JobName } from '../domain/ports.js';

export interface QueuedJob {
  key: string;
  name: JobName;
  id: string;
  at: number;
  seq: number;
  /** Failed runs so far. */
  failures: number;
  /** How many jobs before this one each scheduled the next for a time already due (0: none). */
  chain: number;
}

const earlier = (a: QueuedJob, b: QueuedJob) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

class Heap {
  readonly #items: QueuedJob[] = [];

  get size(): number {
    return this.#items.length;
  }

  top(): QueuedJob | undefined {
    return this.#items[0];
  }

  push(item: QueuedJob): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(items[i] as QueuedJob, items[parent] as QueuedJob)) break;
      [items[i], items[parent]] = [items[parent] as QueuedJob, items[i] as QueuedJob];
      i = parent;
    }
  }

  pop(): QueuedJob | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let best = i;
      if (left < items.length && earlier(items[left] as QueuedJob, items[best] as QueuedJob)) best = left;
      if (right < items.length && earlier(items[right] as QueuedJob, items[best] as QueuedJob)) best = right;
      if (best === i) break;
      [items[i], items[best]] = [items[best] as QueuedJob, items[i] as QueuedJob];
      i = best;
    }
    return top;
  }
}

export class JobQueue {
  /** The one pending entry of each job key. */
  readonly #current = new Map<string, QueuedJob>();
  readonly #heaps = new Map<JobName, Heap>();

  get size(): number {
    return this.#current.size;
  }

  values(): IterableIterator<QueuedJob> {
    return this.#current.values();
  }

  get(key: string): QueuedJob | undefined {
    return this.#current.get(key);
  }

  /** Adds or replaces the entry of `job.key`. */
  set(job: QueuedJob): void {
    this.#current.set(job.key, job);
    let heap = this.#heaps.get(job.name);
    if (!heap) {
      heap = new Heap();
      this.#heaps.set(job.name, heap);
    }
    heap.push(job);
  }

  delete(key: string): void {
    this.#current.delete(key);
  }

  /** The earliest pending entry of `name` (stale heap entries are dropped on the way). */
  peek(name: JobName): QueuedJob | undefined {
    const heap = this.#heaps.get(name);
    if (!heap) return undefined;
    for (;;) {
      const top = heap.top();
      if (top === undefined || this.#current.get(top.key) === top) return top;
      heap.pop();
    }
  }

  /** Takes the entry `peek(name)` returned out of its heap; it stays pending until deleted or requeued. */
  shift(name: JobName): void {
    this.#heaps.get(name)?.pop();
  }

  /** Puts a still pending entry taken out by `shift` back into its heap. */
  requeue(job: QueuedJob): void {
    if (this.#current.get(job.key) === job) this.#heaps.get(job.name)?.push(job);
  }

  names(): IterableIterator<JobName> {
    return this.#heaps.keys();
  }
}
