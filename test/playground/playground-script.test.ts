/**
 * `npm run playground` (scripts/playground.ts): its example policy names the Playground's own
 * people, each Playground client is signed in as its own person, the bot runs in the playground's
 * unsafe local mode only, ports come from the environment, and the real script starts the bot and
 * both Playground clients, prints their addresses, and stops them all on Ctrl-C (SIGINT).
 * The browser test (test/browser/playground.test.ts) walks the flow through those clients.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  botEnv,
  DEFAULT_BOT_PORT,
  DEFAULT_PLAYGROUND_PORT,
  PLAYGROUND_PEOPLE,
  PLAYGROUND_POLICY,
  playgroundConfig,
  playgroundInstalled,
  portsFromEnv,
  SIGNED_IN,
} from '../../scripts/playground.js';
import { parseAccessConfig } from '../../src/domain/policy.js';
import { freePort } from '../support/ports.js';

const [alex, megan, adele] = PLAYGROUND_PEOPLE;

describe('the playground’s example policy', () => {
  const policy = parseAccessConfig(parseYaml(readFileSync(PLAYGROUND_POLICY, 'utf8')));

  it('lets Alex request the demo database, approved by Megan or Adele, for minutes', () => {
    const demo = policy.resources.find((r) => r.id === 'demo-db');
    expect(demo?.requesters).toEqual([alex.email]);
    expect(demo?.approvers).toEqual([megan.email, adele.email]);
    expect(policy.admins).toEqual([adele.email]);
  });

  it('signs Alex (the requester) and Megan (an approver) into the two Playground windows', () => {
    expect(SIGNED_IN.map((p) => p.email)).toEqual([alex.email, megan.email]);
  });
});

describe('the Playground client configuration', () => {
  it('names its signed-in person as the current user, and everyone else as the tenant’s users', () => {
    const config = parseYaml(playgroundConfig(megan));
    expect(config.currentUser).toMatchObject({ id: 'user-id-1', name: 'Megan Bowen', email: megan.email });
    expect(config.users.map((u: { email: string }) => u.email)).toEqual(
      PLAYGROUND_PEOPLE.filter((p) => p !== megan).map((p) => p.email),
    );
    // Each client its own personal chat with the bot.
    expect(config.personalChat.id).not.toBe(parseYaml(playgroundConfig(alex)).personalChat.id);
  });
});

describe('the bot’s environment in the playground', () => {
  const options = { botPort: 4000, playgroundPort: 56150, workDir: '/tmp/x' };

  it('serves Teams unauthenticated, from the memory store, with the example policy, on PORT', () => {
    const env = botEnv({
      ...options,
      env: { MicrosoftAppId: 'id', MicrosoftAppPassword: 'secret', PATH: '/bin' },
    });
    expect(env).toMatchObject({
      PORT: '4000',
      STORE: 'memory',
      ACCESS_CONFIG: PLAYGROUND_POLICY,
      TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: 'true',
      PATH: '/bin',
    });
    // The Playground sends no tokens: Teams credentials would make the bot refuse every activity.
    expect(env.MicrosoftAppId).toBeUndefined();
    expect(env.MicrosoftAppPassword).toBeUndefined();
  });

  it('uses MongoDB instead when MONGODB_URI is set', () => {
    expect(botEnv({ ...options, env: { MONGODB_URI: 'mongodb://db/jit' } })).toMatchObject({
      STORE: 'mongo',
      MONGODB_URI: 'mongodb://db/jit',
    });
  });
});

describe('the playground’s ports', () => {
  it('default to 3978 for the bot and 56150 (and the next) for the Playground', () => {
    expect(portsFromEnv({})).toEqual({ botPort: DEFAULT_BOT_PORT, playgroundPort: DEFAULT_PLAYGROUND_PORT });
    expect([DEFAULT_BOT_PORT, DEFAULT_PLAYGROUND_PORT]).toEqual([3978, 56150]);
    expect(portsFromEnv({ PORT: '4000', PLAYGROUND_PORT: '57000' })).toEqual({
      botPort: 4000,
      playgroundPort: 57000,
    });
  });

  it('refuse what is not a port, naming the variable', () => {
    expect(() => portsFromEnv({ PORT: 'eighty' })).toThrow(/^PORT: /);
    expect(() => portsFromEnv({ PLAYGROUND_PORT: '65535' })).toThrow(/^PLAYGROUND_PORT: /);
  });
});

const answers = (url: string) =>
  fetch(url).then(
    (r) => r.ok,
    () => false,
  );

describe.skipIf(!playgroundInstalled())('npm run playground', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  });

  it('starts the bot and two Playground clients, prints both addresses, and Ctrl-C stops them all', async () => {
    const botPort = await freePort();
    const playgroundPort = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/playground.ts'], {
      env: { ...process.env, PORT: String(botPort), PLAYGROUND_PORT: String(playgroundPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child?.on('exit', (code) => r(code)));
    await expect.poll(() => out, { timeout: 60_000, interval: 200 }).toContain('Ctrl-C stops everything.');

    const urls = [...out.matchAll(/(http:\/\/127\.0\.0\.1:\d+)\/ {3}(\w+ \w+)/g)].map((m) => [m[1], m[2]]);
    expect(urls.map(([, who]) => who)).toEqual(['Alex Wilber', 'Megan Bowen']);
    for (const [i, [url]] of urls.entries()) {
      const config = (await (await fetch(`${url}/_internal/v1/config`)).json()) as {
        config: { currentUser: { email: string } };
      };
      expect(config.config.currentUser.email).toBe(SIGNED_IN[i]?.email);
    }
    expect(await answers(`http://127.0.0.1:${botPort}/readyz`)).toBe(true);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('SIGINT: stopping the bot and the Playground');
    expect(await answers(`http://127.0.0.1:${botPort}/healthz`)).toBe(false);
    for (const [url] of urls) expect(await answers(`${url}/_debug/ping`)).toBe(false);
  }, 90_000);
});
