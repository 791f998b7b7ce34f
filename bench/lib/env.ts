/**
 * The outside world of a bench run, in the parent process: the fake Slack Web API (test/support),
 * a webhook receiver standing for the connector's target, the signed-request sender, and the app
 * in a child process (./app.ts) wired to them.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type FakeSlack,
  type FakeSlackUser,
  type RecordedCall,
  startFakeSlack,
} from '../../test/support/fake-slack.js';
import {
  createSlackSender,
  type RawHttpResponse,
  type SlackSender,
} from '../../test/support/slack-requests.js';
import { AppProcess } from './app.js';
import type { AppRuntime } from './app-launch.js';

export const SIGNING_SECRET = 'bench-signing-secret-0123456789';
export const HOOK_SECRET = 'bench-hook-secret';
export const DOMAIN = 'bench.example';

export const userId = (prefix: string, i: number) => `U${prefix.toUpperCase()}${i}`;
export const email = (prefix: string, i: number) => `${prefix}${i}@${DOMAIN}`;

export function users(prefix: string, count: number): FakeSlackUser[] {
  return Array.from({ length: count }, (_, i) => ({
    id: userId(prefix, i),
    name: `${prefix}${i}`,
    realName: `${prefix.toUpperCase()} ${i}`,
    email: email(prefix, i),
    tz: 'Europe/Zurich',
  }));
}

export interface PolicyOptions {
  approvers: string[];
}

/** One resource everyone may request, decided by the given approvers, provisioned by webhook. */
export function policy(hookUrl: string, { approvers }: PolicyOptions): string {
  return `
defaults:
  approvalWindow: PT1H
  durations: [PT4H, PT8H, P1D]
  custom: { min: PT1H, max: P7D }
resources:
  - id: bench
    name: Benchmark resource
    approvers: [${approvers.join(', ')}]
    connector: { type: webhook, url: "${hookUrl}", secretEnv: BENCH_HOOK_SECRET }
`;
}

/**
 * Signed requests to the app over kept-alive connections, as Slack's senders keep them: the load
 * generator's own CPU per request (the global `fetch` costs about five times more per call) would
 * otherwise be taken from the core the app does not run on. The app's work per request is the same.
 */
export function keepAlivePost(): (
  url: string,
  body: string,
  headers: Record<string, string>,
) => Promise<RawHttpResponse> {
  // Idle connections closed after 4 s, before the app's server closes them (5 s): a request sent
  // on a connection the server is closing meanwhile would fail with ECONNRESET.
  const agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: 4_000 });
  return (url, body, headers) =>
    new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = String(v);
            resolve({
              status: res.statusCode ?? 0,
              headers: out,
              text: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

export interface Hook {
  event: string;
  email: string;
  grantId: string;
  at: number;
}

/** A connector target that answers 200 at once and tells listeners of each call. */
export class HookReceiver {
  readonly #server: Server;
  readonly #listeners = new Set<(hook: Hook) => void>();
  count = 0;
  url = '';

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
        this.count++;
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            event: string;
            grant: { id: string; user: { email: string } };
          };
          const hook = {
            event: body.event,
            email: body.grant.user.email,
            grantId: body.grant.id,
            at: Date.now(),
          };
          for (const l of this.#listeners) l(hook);
        } catch {
          // not ours
        }
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks/jit`;
    return this;
  }

  on(listener: (hook: Hook) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Waits for Web API calls the app makes, without searching the fake's whole history each time. */
export class SlackWatch {
  readonly #recent: Array<{ n: number; call: RecordedCall }> = [];
  readonly #waiters = new Set<{
    after: number;
    match: (c: RecordedCall) => boolean;
    resolve: (c: RecordedCall) => void;
  }>();
  readonly #off: () => void;
  /** How many calls were seen so far: pass to `when` to ignore those. */
  seen = 0;

  constructor(fake: FakeSlack) {
    this.#off = fake.onCall((call) => {
      const n = ++this.seen;
      this.#recent.push({ n, call });
      if (this.#recent.length > 4000) this.#recent.splice(0, 2000);
      if (fake.calls.length > 4000) fake.clearCalls();
      for (const w of this.#waiters) {
        if (n > w.after && w.match(call)) {
          this.#waiters.delete(w);
          w.resolve(call);
        }
      }
    });
  }

  /** The first call after the `after`th (among the recent ones, or yet to come) that `match` accepts. */
  when(
    what: string,
    match: (c: RecordedCall) => boolean,
    { after = 0, timeoutMs = 30_000 }: { after?: number; timeoutMs?: number } = {},
  ): Promise<RecordedCall> {
    for (const { n, call } of this.#recent) {
      if (n > after && match(call)) return Promise.resolve(call);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        after,
        match,
        resolve: (c: RecordedCall) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  close(): void {
    this.#off();
  }
}

export interface Env {
  fake: FakeSlack;
  hooks: HookReceiver;
  app: AppProcess;
  slack: SlackSender;
  watch: SlackWatch;
  close(): Promise<void>;
}

export async function startEnv(opts: {
  users: FakeSlackUser[];
  approvers: string[];
  rateLimits?: boolean;
  /** How the app child runs (default: compiled, see ./app-launch.ts). */
  runtime?: AppRuntime;
}): Promise<Env> {
  const fake = await startFakeSlack({ users: opts.users, rateLimits: opts.rateLimits ?? false });
  const hooks = await new HookReceiver().listen();
  const app = await new AppProcess(opts.runtime).start({
    mode: 'app',
    policy: policy(hooks.url, { approvers: opts.approvers }),
    apiUrl: fake.apiUrl,
    botToken: fake.botToken,
    signingSecret: SIGNING_SECRET,
    hookSecret: HOOK_SECRET,
  });
  const slack = createSlackSender({
    url: app.url,
    signingSecret: SIGNING_SECRET,
    users: opts.users,
    issueTriggerId: (id) => fake.issueTriggerId(id),
    issueResponseUrl: (ctx) => fake.issueResponseUrl(ctx),
    post: keepAlivePost(),
  });
  const watch = new SlackWatch(fake);
  return {
    fake,
    hooks,
    app,
    slack,
    watch,
    async close() {
      await app.stop();
      watch.close();
      await hooks.close();
      await fake.close();
    },
  };
}
