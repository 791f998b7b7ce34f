/**
 * `npm run playground`: the whole Teams flow on one machine, no Slack workspace, no Azure account.
 *
 * Starts the bot (on `PORT`, default 3978) with the example policy playground/access.yaml, the
 * memory store unless `MONGODB_URI` is set, and Teams served without authentication
 * (`TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED=true`: the Playground sends no tokens); then two
 * Microsoft 365 Agents Playground clients (npm `@microsoft/m365agentsplayground`, a local Teams
 * client with a mocked Bot Connector): one signed in as Alex Wilber (the requester) on
 * `PLAYGROUND_PORT` (default 56150), one as Megan Bowen (an approver) on the next port. Prints
 * both addresses. Ctrl-C stops all three.
 *
 * Each Playground client is its own process with its own working directory under
 * `.data/playground/<person>/`, holding a `.m365agentsplayground.yml` that names its signed-in
 * person (the same tenant and people otherwise), and a no-op `xdg-open` first on its PATH: the
 * Playground opens a browser at start and exits when it cannot (on a server, in CI).
 *
 * How a card reaches the right person: the bot keeps each person's conversation reference (by
 * email) when it sees them in their personal chat. That reference carries the service URL of the
 * Playground instance the person uses (`http://127.0.0.1:<port>/_connector`), so a proactive card
 * for Megan goes to her instance and one for Alex to his. Both are registered as soon as the bot
 * is up, by the Playground's own "app installed" event (`installationUpdate`, as Teams sends when
 * someone installs the app), so an approver need not have written to the bot first.
 *
 * The functions are exported for the browser test (test/browser/playground.test.ts).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type PlaygroundPerson, playgroundConfig, SIGNED_IN } from './playground-people.js';
import { type Child, startChild, stopChild, tail, waitFor } from './playground-processes.js';

export {
  PLAYGROUND_PEOPLE,
  type PlaygroundPerson,
  playgroundConfig,
  SIGNED_IN,
} from './playground-people.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PLAYGROUND_POLICY = join(ROOT, 'playground/access.yaml');
export const DEFAULT_BOT_PORT = 3978;
export const DEFAULT_PLAYGROUND_PORT = 56150;

const envSchema = z.object({
  PORT: z.coerce
    .number({ error: 'PORT must be a port number' })
    .int()
    .min(1)
    .max(65535)
    .default(DEFAULT_BOT_PORT),
  PLAYGROUND_PORT: z.coerce
    .number({ error: 'PLAYGROUND_PORT must be a port number' })
    .int()
    .min(1)
    .max(65534)
    .default(DEFAULT_PLAYGROUND_PORT),
});

/** The ports from the environment (`PORT`, `PLAYGROUND_PORT`), checked. */
export function portsFromEnv(env: NodeJS.ProcessEnv): { botPort: number; playgroundPort: number } {
  const blank = (v: string | undefined) => (v?.trim() ? v : undefined);
  const parsed = envSchema.safeParse({ PORT: blank(env.PORT), PLAYGROUND_PORT: blank(env.PLAYGROUND_PORT) });
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; '));
  }
  return { botPort: parsed.data.PORT, playgroundPort: parsed.data.PLAYGROUND_PORT };
}

export interface PlaygroundOptions {
  botPort: number;
  /** Alex's client; Megan's is on the next port. */
  playgroundPort: number;
  /** Logs and the Playground clients' working directories. */
  workDir: string;
  /** The environment the bot starts from (Teams credentials are removed from it). */
  env: NodeJS.ProcessEnv;
  accessConfig?: string;
}

export interface PlaygroundClient {
  person: PlaygroundPerson;
  port: number;
  url: string;
}

export interface RunningPlayground {
  botUrl: string;
  clients: PlaygroundClient[];
  /** Where each process writes its output. */
  logs: { bot: string; clients: string[] };
  /** Stops every process it started (the bot drains first); safe to call twice. */
  stop(): Promise<void>;
  /** Settles when one of the processes stops by itself, with what it said last. */
  failed: Promise<string>;
}

/** The environment the bot runs with in the playground. */
export function botEnv(options: PlaygroundOptions): NodeJS.ProcessEnv {
  const {
    MicrosoftAppId: _id,
    MicrosoftAppPassword: _password,
    MicrosoftAppType: _type,
    MicrosoftAppTenantId: _tenant,
    ...rest
  } = options.env;
  return {
    ...rest,
    PORT: String(options.botPort),
    ACCESS_CONFIG: options.accessConfig ?? PLAYGROUND_POLICY,
    STORE: rest.MONGODB_URI?.trim() ? 'mongo' : 'memory',
    TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: 'true',
  };
}

function playgroundCli(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('@microsoft/m365agentsplayground/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin: Record<string, string> };
  const bin = pkg.bin.agentsplayground;
  if (!bin) throw new Error('@microsoft/m365agentsplayground has no agentsplayground command');
  return join(dirname(pkgPath), bin);
}

/** Whether the Playground is installed (it is a devDependency). */
export function playgroundInstalled(): boolean {
  try {
    playgroundCli();
    return true;
  } catch {
    return false;
  }
}

const configAnswer = z.object({ config: z.object({ personalChat: z.object({ id: z.string() }) }) });

async function startClient(
  me: PlaygroundPerson,
  port: number,
  botUrl: string,
  workDir: string,
): Promise<{ child: Child; client: PlaygroundClient }> {
  const dir = join(workDir, me.key);
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(dir, '.m365agentsplayground.yml'), playgroundConfig(me));
  // The Playground opens a browser when it starts and exits where there is none: give it a no-op.
  writeFileSync(join(bin, 'xdg-open'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(bin, 'xdg-open'), 0o755);
  const log = join(workDir, `playground-${me.key}.log`);
  writeFileSync(log, '');
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, BROWSER: 'none' };
  const args = [playgroundCli(), '-e', `${botUrl}/api/messages`, '-c', 'msteams', '-p', String(port), '--dt'];
  const child = startChild(`the Playground for ${me.name}`, process.execPath, args, dir, env, log);
  // It takes another port when this one is taken: read the one it listens on.
  const actual = await waitFor(
    `the Playground for ${me.name} listened`,
    child,
    async () => {
      const match = /Listening on (\d+)/.exec(readFileSync(log, 'utf8'));
      return match ? Number(match[1]) : undefined;
    },
    30_000,
  );
  const url = `http://127.0.0.1:${actual}`;
  await waitFor(
    `the Playground for ${me.name} answered`,
    child,
    async () => {
      const res = await fetch(`${url}/_debug/ping`);
      return res.ok ? true : undefined;
    },
    10_000,
  );
  return { child, client: { person: me, port: actual, url } };
}

/** Tells the bot that `client`'s person installed the app: the bot keeps where to reach them. */
export async function installFor(client: PlaygroundClient): Promise<void> {
  const res = await fetch(`${client.url}/_internal/v1/config`);
  const chat = configAnswer.parse(await res.json()).config.personalChat.id;
  const installed = await fetch(
    `${client.url}/_debug/conversation/${encodeURIComponent(chat)}/installation`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    },
  );
  if (!installed.ok)
    throw new Error(
      `the Playground for ${client.person.name} answered ${installed.status} to the installation`,
    );
}

/** Starts the bot and both Playground clients; throws (after stopping what it started) if one fails. */
export async function startPlayground(options: PlaygroundOptions): Promise<RunningPlayground> {
  mkdirSync(options.workDir, { recursive: true });
  const children: Child[] = [];
  // Should this process die without stopping them, its children go too.
  process.once('exit', () => {
    for (const c of children) {
      if (c.process.pid !== undefined && c.process.exitCode === null && c.process.signalCode === null) {
        try {
          process.kill(-c.process.pid, 'SIGKILL');
        } catch {}
      }
    }
  });
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c, 'SIGTERM', c.name === 'the bot' ? 25_000 : 5_000)));
  };
  try {
    const botLog = join(options.workDir, 'bot.log');
    writeFileSync(botLog, '');
    const bot = startChild(
      'the bot',
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'start'],
      ROOT,
      botEnv(options),
      botLog,
    );
    children.push(bot);
    const botUrl = `http://127.0.0.1:${options.botPort}`;
    await waitFor(
      'the bot was ready',
      bot,
      async () => ((await fetch(`${botUrl}/readyz`)).ok ? true : undefined),
      120_000,
    );

    const clients: PlaygroundClient[] = [];
    for (const [i, me] of SIGNED_IN.entries()) {
      const started = await startClient(me, options.playgroundPort + i, botUrl, options.workDir);
      children.push(started.child);
      clients.push(started.client);
    }
    for (const client of clients) await installFor(client);
    let stopping = false;
    const failed = Promise.race(
      children.map((c) =>
        c.exited.then((code) =>
          stopping
            ? new Promise<string>(() => {})
            : `${c.name} stopped (exit ${code}). Its last lines (${c.log}):\n${tail(c.log)}`,
        ),
      ),
    );
    return {
      botUrl,
      clients,
      logs: { bot: botLog, clients: children.slice(1).map((c) => c.log) },
      stop: () => {
        stopping = true;
        return stop();
      },
      failed,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function main(): Promise<number> {
  let ports: { botPort: number; playgroundPort: number };
  try {
    ports = portsFromEnv(process.env);
  } catch (error) {
    console.error(`playground: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  const workDir = join(ROOT, '.data/playground');
  console.log(`Starting the bot on port ${ports.botPort} and two Agents Playground clients…`);
  let running: RunningPlayground;
  try {
    running = await startPlayground({ ...ports, workDir, env: process.env });
  } catch (error) {
    console.error(`playground: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const [alex, megan] = running.clients;
  console.log(`
Ready. Open these two addresses in your browser, side by side:

  ${alex?.url}/   Alex Wilber (alexw@example.com): asks for access
  ${megan?.url}/   Megan Bowen (meganb@example.com): approves

In Alex's window type:   request access demo-db
choose a duration, a reason, Megan as approver, and submit. Megan's window gets the approval card:
Approve (or Deny). Alex is told, is reminded a minute before the access ends, and sees it
revoked at expiry. Type "help" for what else the bot does.

Policy: ${PLAYGROUND_POLICY}  Store: ${process.env.MONGODB_URI?.trim() ? 'MongoDB (MONGODB_URI)' : 'memory (nothing is kept)'}
Logs:   ${running.logs.bot}, ${running.logs.clients.join(', ')}
Ctrl-C stops everything.`);
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${signal}: stopping the bot and the Playground…`);
      void running.stop().then(() => done(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    void running.failed.then((why) => {
      if (stopping) return;
      stopping = true;
      console.error(`\nplayground: ${why}\nStopping the rest…`);
      void running.stop().then(() => done(1));
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
