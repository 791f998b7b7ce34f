/**
 * The outside world of a bench run, in the parent process: the fake Slack Web API (test/support),
 * a webhook receiver standing for the connector's target, the signed-request sender, and the app
 * in a child process (./app.ts) wired to them.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/connectors/signing.js';
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

/**
 * A connector target that answers 200 at once and, for each call whose signature it verifies (as
 * a real target must: `verifySignature`, HMAC-SHA256 with the hook secret, timestamp within five
 * minutes), tells listeners of it. A call that fails the check is counted in `invalid` and heard by
 * no one, so the flow waiting for it fails.
 */
export class HookReceiver {
  readonly #server: Server;
  readonly #listeners = new Set<(hook: Hook) => void>();
  count = 0;
  invalid = 0;
  url = '';

  constructor(secret = HOOK_SECRET) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
        this.count++;
        const raw =
          chunks.length === 1
            ? (chunks[0] as Buffer).toString('utf8')
            : Buffer.concat(chunks).toString('utf8');
        const header = (name: string) => {
          const v = req.headers[name];
          return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
        };
        if (!verifySignature(secret, header('x-jit-timestamp'), raw, header('x-jit-signature'), new Date())) {
          this.invalid++;
          return;
        }
        try {
          const body = JSON.parse(raw) as {
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

/** One call the bench waits for; `cancel` stops waiting (its promise then never settles). */
export interface CallWait {
  call: Promise<RecordedCall>;
  cancel(): void;
}

/**
 * Waits for Web API calls the app makes, from the moment it is asked on: a flow asks before it
 * sends the request that causes the call, so no history of calls need be kept (nor searched).
 * Waiters are kept by method, so a call is matched only against those waiting for its method.
 */
export class SlackWatch {
  readonly #waiting = new Map<
    string,
    Set<{ match: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void }>
  >();
  readonly #off: () => void;

  constructor(fake: FakeSlack) {
    this.#off = fake.onCall((call) => {
      const waiters = this.#waiting.get(call.method);
      if (!waiters) return;
      for (const w of waiters) {
        if (w.match(call)) {
          waiters.delete(w);
          w.resolve(call);
          return;
        }
      }
    });
  }

  /** The first call to `method` from now on that `match` accepts, within `timeoutMs`. */
  next(method: string, match: (c: RecordedCall) => boolean, timeoutMs = 30_000): CallWait {
    let waiters = this.#waiting.get(method);
    if (!waiters) {
      waiters = new Set();
      this.#waiting.set(method, waiters);
    }
    const set = waiters;
    let timer: NodeJS.Timeout | undefined;
    let waiter: { match: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void } | undefined;
    const call = new Promise<RecordedCall>((resolve, reject) => {
      waiter = {
        match,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      timer = setTimeout(() => {
        if (waiter) set.delete(waiter);
        reject(new Error(`no ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      set.add(waiter);
    });
    return {
      call,
      cancel: () => {
        clearTimeout(timer);
        if (waiter) set.delete(waiter);
      },
    };
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
  /** Keep every Web API call in `fake.calls` (default false; bench/flow-count.ts shows the last ones). */
  recordCalls?: boolean;
  /** How the app child runs (default: compiled, see ./app-launch.ts). */
  runtime?: AppRuntime;
}): Promise<Env> {
  // Calls are watched as they come (SlackWatch), not kept: a run makes hundreds of thousands.
  const fake = await startFakeSlack({
    users: opts.users,
    rateLimits: opts.rateLimits ?? false,
    recordCalls: opts.recordCalls ?? false,
  });
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
