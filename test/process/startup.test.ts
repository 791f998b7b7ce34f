/**
 * The real process, as `npm start` runs it: the compiled `node dist/cli.js start` (test/process/build.ts
 * compiles dist/ first when it is stale) with an environment of our choosing (nothing inherited
 * but PATH, HOME and TMPDIR), talking to the fake Slack Web API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectMongo } from '../../src/store/mongo/connect.js';
import { type FakeBotConnector, startFakeBotConnector } from '../support/fake-bot-connector.js';
import { collectText, type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { uniqueDbName } from '../support/mongo.js';
import { createSlackSender } from '../support/slack-requests.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SIGNING_SECRET = 'process-test-signing-secret';
/** Starting takes 1–2 s alone, more while the rest of the suite runs beside it. */
const STARTUP_MS = 30_000;
const TEST_MS = 45_000;

const USERS = {
  alice: { id: 'UALICE', name: 'alice', realName: 'Alice Approver', email: 'alice@example.com', tz: 'UTC' },
  bob: { id: 'UBOB', name: 'bob', realName: 'Bob Support', email: 'bob@example.com', tz: 'Europe/Berlin' },
};

const VALID_POLICY = `
defaults:
  approvalWindow: PT1H
resources:
  - id: demo-box
    name: Demo box
    approvers: [alice@example.com]
    connector: { type: log }
`;

/** The second resource's custom max is below the default custom min (PT1H). */
const BAD_POLICY = `
resources:
  - id: first
    name: First
    approvers: [alice@example.com]
    connector: { type: log }
  - id: second
    name: Second
    approvers: [alice@example.com]
    policy: { custom: { max: PT30M } }
    connector: { type: log }
`;

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Running[] = [];

/**
 * Starts `dist/cli.js start` (or `args`, e.g. the container's `dist/main.js`) with exactly `env`
 * (plus PATH, HOME, TMPDIR), from the repository root.
 */
function runMain(env: Record<string, string>, args = [path.join('dist', 'cli.js'), 'start']): Running {
  const base: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR'] as const) {
    const value = process.env[key];
    if (value) base[key] = value;
  }
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const running = { child, stdout: () => out, stderr: () => err, exited };
  started.push(running);
  return running;
}

/** The exit, or a failure naming what the process printed when it does not end within `ms`. */
async function exitWithin(run: Running, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `the process did not exit within ${ms} ms\n--- stdout\n${run.stdout()}\n--- stderr\n${run.stderr()}`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Structured log lines (pino JSON) the process wrote to stdout. */
function logLines(run: Running): Array<{ level: number; msg?: string; [key: string]: unknown }> {
  return run
    .stdout()
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg?: string });
}

/** Polls until `predicate` holds, failing with the process output after `ms`. */
async function until(
  run: Running,
  what: string,
  predicate: () => boolean | Promise<boolean>,
  ms = STARTUP_MS,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await predicate()) return;
    if (run.child.exitCode !== null || run.child.signalCode !== null) {
      throw new Error(
        `the process exited (${run.child.exitCode ?? run.child.signalCode}) before ${what}\n--- stdout\n${run.stdout()}\n--- stderr\n${run.stderr()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`no ${what} within ${ms} ms\n--- stdout\n${run.stdout()}\n--- stderr\n${run.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Whether something accepts TCP connections on `port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function get(port: number, route: string): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${route}`);
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

let dir: string;
let validPolicy: string;
let badPolicy: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'jit-process-'));
  validPolicy = path.join(dir, 'access.yaml');
  badPolicy = path.join(dir, 'bad.yaml');
  await writeFile(validPolicy, VALID_POLICY);
  await writeFile(badPolicy, BAD_POLICY);
});

afterEach(async () => {
  for (const run of started.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('start-up with a bad configuration', () => {
  it(
    'exits with status 2 naming the policy key and the problem, and listens on nothing',
    async () => {
      const port = await freePort();
      const run = runMain({
        PORT: String(port),
        ACCESS_CONFIG: badPolicy,
        STORE: 'memory',
        SLACK_BOT_TOKEN: 'xoxb-not-used',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
      });
      const { code } = await exitWithin(run, STARTUP_MS);
      expect(code, run.stderr()).toBe(2);
      expect(run.stderr()).toContain('resources[1].policy.custom.max: must be at least custom.min (PT1H)');
      expect(logLines(run).map((l) => l.msg)).not.toContain('app.started');
      expect(await listening(port)).toBe(false);
    },
    TEST_MS,
  );

  it(
    'exits with status 2 naming the environment variable when PORT is not a number',
    async () => {
      const run = runMain({
        PORT: 'abc',
        ACCESS_CONFIG: validPolicy,
        STORE: 'memory',
        SLACK_BOT_TOKEN: 'xoxb-not-used',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
      });
      const { code } = await exitWithin(run, STARTUP_MS);
      expect(code, run.stderr()).toBe(2);
      expect(run.stderr()).toMatch(/PORT: must be a whole number/);
    },
    TEST_MS,
  );

  it(
    'exits with status 2 naming SHUTDOWN_TIMEOUT_MS when it is not a number of milliseconds',
    async () => {
      const run = runMain({
        PORT: String(await freePort()),
        ACCESS_CONFIG: validPolicy,
        STORE: 'memory',
        SLACK_BOT_TOKEN: 'xoxb-not-used',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SHUTDOWN_TIMEOUT_MS: '20s',
      });
      const { code } = await exitWithin(run, STARTUP_MS);
      expect(code, run.stderr()).toBe(2);
      expect(run.stderr()).toContain('SHUTDOWN_TIMEOUT_MS: must be a whole number of milliseconds');
    },
    TEST_MS,
  );

  it(
    'exits with status 2 saying which Slack or Teams credentials to set when none are given',
    async () => {
      const run = runMain({ PORT: String(await freePort()), ACCESS_CONFIG: validPolicy, STORE: 'memory' });
      const { code } = await exitWithin(run, STARTUP_MS);
      expect(code, run.stderr()).toBe(2);
      expect(run.stderr()).toContain('No chat platform is configured');
      for (const name of [
        'SLACK_BOT_TOKEN',
        'SLACK_SIGNING_SECRET',
        'MicrosoftAppId',
        'MicrosoftAppPassword',
      ]) {
        expect(run.stderr()).toContain(name);
      }
    },
    TEST_MS,
  );
});

describe('a running process with STORE=memory', () => {
  let fake: FakeSlack;
  beforeAll(async () => {
    fake = await startFakeSlack({ users: Object.values(USERS) });
  });
  afterAll(async () => {
    await fake.close();
  });

  // `npm start` runs the CLI; the container runs dist/main.js directly (Dockerfile, deploy/k8s).
  it.each([
    ['`node dist/cli.js start` (npm start)', [path.join('dist', 'cli.js'), 'start']],
    ['`node dist/main.js` (the container’s command)', [path.join('dist', 'main.js')]],
  ])(
    'as %s: warns loudly, answers health checks, opens the request form, and stops cleanly on SIGTERM',
    async (_how, args) => {
      const port = await freePort();
      const run = runMain(
        {
          PORT: String(port),
          ACCESS_CONFIG: validPolicy,
          STORE: 'memory',
          SLACK_API_URL: fake.apiUrl,
          SLACK_BOT_TOKEN: fake.botToken,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          LOG_LEVEL: 'info',
        },
        args,
      );
      await until(run, 'app.started log line', () => logLines(run).some((l) => l.msg === 'app.started'));

      const warning = logLines(run).find(
        (l) => l.level === 40 && /NOTHING SURVIVES A RESTART/.test(l.msg ?? ''),
      );
      expect(warning, run.stdout()).toBeDefined();
      expect(await get(port, '/healthz')).toBe(200);
      await until(run, '/readyz answering 200', async () => (await get(port, '/readyz')) === 200);

      const slack = createSlackSender({
        url: `http://127.0.0.1:${port}/slack/events`,
        signingSecret: SIGNING_SECRET,
        users: Object.values(USERS),
        issueTriggerId: (userId) => fake.issueTriggerId(userId),
        issueResponseUrl: (ctx) => fake.issueResponseUrl(ctx),
      });
      const mark = fake.checkpoint();
      const res = await slack.slashCommand({
        command: '/request-access',
        text: 'demo-box',
        userId: USERS.bob.id,
      });
      expect(res.status).toBe(200);
      const open = await fake.waitFor('views.open', (c) => c.seq >= mark, 10_000);
      expect(open.response.ok, JSON.stringify(open.response)).toBe(true);

      expect(collectText(open.args.view)).toContain('Demo box');

      run.child.kill('SIGTERM');
      const { code, signal } = await exitWithin(run, 10_000);
      expect({ code, signal }, run.stderr()).toEqual({ code: 0, signal: null });
      const messages = logLines(run).map((l) => l.msg);
      expect(messages).toContain('app.stopping');
      expect(messages).toContain('app.stopped');
      expect(await listening(port)).toBe(false);
    },
    2 * TEST_MS,
  );

  it(
    'reloads the policy file on SIGHUP: a bad file is refused with a log line and the old policy kept, a good one is put in force',
    async () => {
      const port = await freePort();
      const file = path.join(dir, 'reloaded.yaml');
      await writeFile(file, VALID_POLICY);
      const run = runMain({
        PORT: String(port),
        ACCESS_CONFIG: file,
        STORE: 'memory',
        SLACK_API_URL: fake.apiUrl,
        SLACK_BOT_TOKEN: fake.botToken,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        LOG_LEVEL: 'info',
      });
      await until(run, 'app.started log line', () => logLines(run).some((l) => l.msg === 'app.started'));
      const byHangup = (prefix: string) => () =>
        logLines(run).some((l) => l.reason === 'SIGHUP' && (l.msg ?? '').startsWith(prefix));

      await writeFile(file, BAD_POLICY);
      run.child.kill('SIGHUP');
      await until(run, 'policy.reload_refused after SIGHUP', byHangup('policy.reload_refused'));
      const refused = logLines(run).find((l) => l.reason === 'SIGHUP');
      expect(refused?.level).toBe(50);
      expect(refused?.msg).toContain('resources[1].policy.custom.max: must be at least custom.min (PT1H)');
      expect(await get(port, '/healthz')).toBe(200);

      await writeFile(file, VALID_POLICY.replace('name: Demo box', 'name: Demo box, renamed'));
      run.child.kill('SIGHUP');
      await until(run, 'policy.reloaded after SIGHUP', byHangup('policy.reloaded'));
      const slack = createSlackSender({
        url: `http://127.0.0.1:${port}/slack/events`,
        signingSecret: SIGNING_SECRET,
        users: Object.values(USERS),
        issueTriggerId: (userId) => fake.issueTriggerId(userId),
        issueResponseUrl: (ctx) => fake.issueResponseUrl(ctx),
      });
      const mark = fake.checkpoint();
      await slack.slashCommand({ command: '/request-access', text: 'demo-box', userId: USERS.bob.id });
      const open = await fake.waitFor('views.open', (c) => c.seq >= mark, 10_000);
      expect(collectText(open.args.view)).toContain('Demo box, renamed');
    },
    2 * TEST_MS,
  );

  it(
    'gives up on a shutdown that outlasts SHUTDOWN_TIMEOUT_MS: logs app.stop_timeout and exits 1',
    async () => {
      const port = await freePort();
      const run = runMain({
        PORT: String(port),
        ACCESS_CONFIG: validPolicy,
        STORE: 'memory',
        SLACK_API_URL: fake.apiUrl,
        SLACK_BOT_TOKEN: fake.botToken,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SHUTDOWN_TIMEOUT_MS: '1000',
      });
      await until(run, 'app.started log line', () => logLines(run).some((l) => l.msg === 'app.started'));

      // A client that sent half a request: the HTTP server's close waits for it (for a minute).
      const client = createConnection({ host: '127.0.0.1', port });
      client.on('error', () => {});
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      client.write('POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      try {
        const signalled = Date.now();
        run.child.kill('SIGTERM');
        const { code, signal } = await exitWithin(run, 10_000);
        expect({ code, signal }, run.stderr()).toEqual({ code: 1, signal: null });
        expect(Date.now() - signalled).toBeGreaterThanOrEqual(900);
        const messages = logLines(run).map((l) => l.msg);
        expect(messages).toContain('app.stopping');
        expect(messages).toContain('app.stop_timeout');
        expect(messages).not.toContain('app.stopped');
      } finally {
        client.destroy();
      }
    },
    TEST_MS,
  );
});

describe('a running process serving Microsoft Teams only', () => {
  const ANN = {
    id: '29:1ann',
    aadObjectId: 'aad-ann',
    name: 'Ann Example',
    email: 'ann@example.com',
    userPrincipalName: 'ann@example.com',
    tz: 'Europe/Dublin',
  };
  let connector: FakeBotConnector | undefined;
  afterEach(async () => {
    await connector?.close();
    connector = undefined;
  });

  it(
    'in the unsafe local mode: warns that requests are not authenticated and takes an unsigned activity on /api/messages',
    async () => {
      connector = await startFakeBotConnector({ users: [ANN] });
      const port = await freePort();
      const run = runMain({
        PORT: String(port),
        ACCESS_CONFIG: validPolicy,
        STORE: 'memory',
        TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: 'true',
      });
      await until(run, 'app.started log line', () => logLines(run).some((l) => l.msg === 'app.started'));
      const started = logLines(run).find((l) => l.msg === 'app.started');
      expect(started).toMatchObject({ slack: 'off', teams: 'UNAUTHENTICATED' });
      const warning = logLines(run).find((l) => l.level === 40 && /NOT AUTHENTICATED/.test(l.msg ?? ''));
      expect(warning, run.stdout()).toBeDefined();

      const answer = await connector.send(
        `http://127.0.0.1:${port}/api/messages`,
        connector.installationUpdate(ANN.id),
        'missing',
      );
      expect(answer.status).toBe(200);
      // The bot asked Teams who sent it, to remember where to reach them.
      expect(connector.calls.map((c) => [c.operation, c.status])).toEqual([['getMember', 200]]);

      run.child.kill('SIGTERM');
      const { code } = await exitWithin(run, 10_000);
      expect(code, run.stderr()).toBe(0);
    },
    TEST_MS,
  );

  it(
    'with an app id: refuses an activity without a token with 401',
    async () => {
      const port = await freePort();
      const run = runMain({
        PORT: String(port),
        ACCESS_CONFIG: validPolicy,
        STORE: 'memory',
        MicrosoftAppId: '00000000-0000-0000-0000-0000000000aa',
        MicrosoftAppPassword: 'not-used-here',
      });
      await until(run, 'app.started log line', () => logLines(run).some((l) => l.msg === 'app.started'));
      expect(logLines(run).find((l) => l.msg === 'app.started')).toMatchObject({ teams: 'authenticated' });
      const res = await fetch(`http://127.0.0.1:${port}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'message', text: 'hi', channelId: 'msteams' }),
      });
      expect(res.status).toBe(401);
      run.child.kill('SIGTERM');
      const { code } = await exitWithin(run, 10_000);
      expect(code, run.stderr()).toBe(0);
    },
    TEST_MS,
  );
});

describe('start-up with the embedded MongoDB', () => {
  const mongoAvailable = Boolean(inject('mongoUri'));
  const title =
    'exits non-zero telling the user to set MONGODB_URI or STORE=memory when mongod cannot be obtained';
  it.skipIf(mongoAvailable)(
    mongoAvailable
      ? `${title} [skipped: a mongod is obtainable here, so the embedded store would start]`
      : title,
    async () => {
      const data = await mkdtemp(path.join(dir, 'data-'));
      const port = await freePort();
      const run = runMain({
        PORT: String(port),
        ACCESS_CONFIG: validPolicy,
        SLACK_API_URL: 'http://127.0.0.1:9/api/',
        SLACK_BOT_TOKEN: 'xoxb-not-used',
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        DATA_DIR: data,
        MONGOMS_DOWNLOAD_DIR: path.join(data, 'binaries'),
      });
      const { code } = await exitWithin(run, 80_000);
      expect(code, run.stderr()).not.toBe(0);
      expect(code).not.toBeNull();
      expect(run.stderr()).toMatch(/Set MONGODB_URI .*or STORE=memory/);
      expect(await listening(port)).toBe(false);
    },
    90_000,
  );
});

describe('SIGTERM on MongoDB while a connector call hangs', () => {
  const uri = inject('mongoUri');
  const title =
    'exits 0 within 25 s with the default SHUTDOWN_TIMEOUT_MS, leaving the hung job locked for the next worker';
  it.skipIf(!uri)(
    uri ? title : `${title} [skipped: no MongoDB reachable — set MONGODB_URI]`,
    async () => {
      const hookSecret = 'process-hook-secret';
      const hooks = await startWebhookReceiver({ secret: hookSecret, delayMs: 10 * 60_000 });
      const fake = await startFakeSlack({ users: Object.values(USERS) });
      const policy = path.join(dir, 'hook.yaml');
      await writeFile(
        policy,
        `resources:\n  - id: prod\n    name: Production\n    approvers: [alice@example.com]\n    connector: { type: webhook, url: "${hooks.url}", secretEnv: HOOK_SECRET, timeoutMs: 50000 }\n`,
      );
      const database = new URL(uri as string);
      database.pathname = `/${uniqueDbName('sigterm')}`;
      const store = await connectMongo(database.toString());
      try {
        const run = runMain({
          PORT: String(await freePort()),
          ACCESS_CONFIG: policy,
          MONGODB_URI: database.toString(),
          HOOK_SECRET: hookSecret,
          SLACK_API_URL: fake.apiUrl,
          SLACK_BOT_TOKEN: fake.botToken,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          LOG_LEVEL: 'info',
        });
        await until(run, 'app.started log line', () => logLines(run).some((l) => l.msg === 'app.started'));
        const now = Date.now();
        await store.repos.grants.insert({
          id: 'grant-1',
          requestId: 'req-1',
          resourceId: 'prod',
          holder: { email: 'bob@example.com', name: 'Bob' },
          duration: 'PT1H',
          justification: 'incident',
          status: 'active',
          createdAt: new Date(now - 3_600_000),
          startsAt: new Date(now - 3_600_000),
          expiresAt: new Date(now - 1_000),
          attempts: 0,
        });
        // Its grant.expire job, as Agenda stores one, due now.
        await store.db?.collection('jobs').insertOne({
          name: 'grant.expire',
          data: { id: 'grant-1' },
          type: 'normal',
          priority: 0,
          nextRunAt: new Date(),
          lockedAt: null,
          disabled: null,
          lastModifiedBy: null,
        });
        await until(run, 'the connector call', () => hooks.calls.length > 0);
        const signalled = Date.now();
        run.child.kill('SIGTERM');
        const { code, signal } = await exitWithin(run, 25_000);
        expect({ code, signal }, run.stderr()).toEqual({ code: 0, signal: null });
        expect(Date.now() - signalled).toBeLessThan(25_000);
        const messages = logLines(run).map((l) => l.msg);
        expect(messages).toContain('jobs.drain_timeout');
        expect(messages).toContain('app.stopped');
        const job = await store.db?.collection('jobs').findOne({ name: 'grant.expire' });
        expect(job?.lockedAt).toBeInstanceOf(Date);
        expect((await store.repos.grants.get('grant-1'))?.status).toBe('revoking');
      } finally {
        await store.db?.dropDatabase();
        await store.close();
        await hooks.close();
        await fake.close();
      }
    },
    2 * TEST_MS,
  );
});
