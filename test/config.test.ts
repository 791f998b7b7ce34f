import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadAccessConfig, readEnv, secretFor } from '../src/config.js';

const EXAMPLE = fileURLToPath(new URL('../access.example.yaml', import.meta.url));

function envIssues(env: NodeJS.ProcessEnv): string[] {
  try {
    readEnv(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

function loadIssues(path: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadAccessConfig(path, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

function tempFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'jit-config-')), 'access.yaml');
  writeFileSync(path, text);
  return path;
}

describe('readEnv', () => {
  it('uses defaults when nothing is set', () => {
    expect(readEnv({})).toEqual({
      port: 3000,
      accessConfigPath: './access.yaml',
      store: 'mongo',
      slack: { apiUrl: 'https://slack.com/api/' },
      logLevel: 'info',
      dataDir: './.data',
    });
  });

  it('reads every variable, treating empty as unset', () => {
    expect(
      readEnv({
        PORT: '8080',
        ACCESS_CONFIG: '/etc/jit/access.yaml',
        MONGODB_URI: 'mongodb+srv://db.example.com/jit',
        STORE: 'memory',
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_SIGNING_SECRET: 'shh',
        SLACK_APP_TOKEN: 'xapp-1',
        SLACK_API_URL: 'http://localhost:9999/api',
        LOG_LEVEL: 'debug',
        DATA_DIR: '/var/lib/jit',
      }),
    ).toEqual({
      port: 8080,
      accessConfigPath: '/etc/jit/access.yaml',
      mongodbUri: 'mongodb+srv://db.example.com/jit',
      store: 'memory',
      slack: {
        botToken: 'xoxb-1',
        signingSecret: 'shh',
        appToken: 'xapp-1',
        apiUrl: 'http://localhost:9999/api/',
      },
      logLevel: 'debug',
      dataDir: '/var/lib/jit',
    });
    expect(readEnv({ PORT: '', SLACK_BOT_TOKEN: '' }).port).toBe(3000);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT: must be a whole number between 1 and 65535'],
    [{ PORT: '0' }, 'PORT: must be a whole number between 1 and 65535'],
    [{ PORT: '70000' }, 'PORT: must be a whole number between 1 and 65535'],
    [{ PORT: '80.5' }, 'PORT: must be a whole number between 1 and 65535'],
    [{ MONGODB_URI: 'postgres://x' }, 'MONGODB_URI: must start with mongodb:// or mongodb+srv://'],
    [{ STORE: 'redis' }, 'STORE: must be mongo or memory'],
    [
      { SLACK_BOT_TOKEN: 'xoxp-1' },
      'SLACK_BOT_TOKEN: must start with xoxb- (the Bot User OAuth Token from OAuth & Permissions)',
    ],
    [
      { SLACK_APP_TOKEN: 'xoxb-1' },
      'SLACK_APP_TOKEN: must start with xapp- (an app-level token with connections:write)',
    ],
    [
      { SLACK_API_URL: 'not a url' },
      'SLACK_API_URL: must be an http:// or https:// URL such as https://slack.com/api/',
    ],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of: fatal, error, warn, info, debug, trace, silent'],
  ])('refuses %o', (env, message) => {
    expect(envIssues(env)).toEqual([message]);
  });

  it('reports every bad variable at once', () => {
    expect(envIssues({ PORT: 'x', STORE: 'y' })).toHaveLength(2);
  });
});

describe('loadAccessConfig', () => {
  it('loads the example file', () => {
    const config = loadAccessConfig(EXAMPLE, { ACME_HOOK_SECRET: 'secret' });
    expect(config.resources.map((r) => r.connector.type)).toEqual(['webhook', 'slack-usergroup', 'log']);
    expect(config.admins).toEqual(['alice@example.com']);
  });

  it('says how to start when the file is missing', () => {
    expect(loadIssues('./no-such-access.yaml')).toEqual([
      'ACCESS_CONFIG: file ./no-such-access.yaml not found; copy access.example.yaml to start',
    ]);
  });

  it('reports a YAML syntax error with its line', () => {
    const path = tempFile('resources:\n  - id: a\n    name: b: c\n');
    const [line] = loadIssues(path);
    expect(line).toMatch(new RegExp(`^ACCESS_CONFIG: ${path} is not valid YAML: .* at line 3, column \\d+$`));
  });

  it('reports policy errors with their paths', () => {
    const path = tempFile(
      'resources:\n  - id: a\n    name: A\n    approvers: [alice@example.com]\n    polcy: {}\n',
    );
    expect(loadIssues(path)).toEqual(['resources[0].polcy: unknown key (did you mean "policy"?)']);
  });

  it('requires the secret of every webhook connector in the environment', () => {
    expect(loadIssues(EXAMPLE, { ACME_HOOK_SECRET: '' })).toEqual([
      'resources[0].connector.secretEnv: environment variable ACME_HOOK_SECRET is not set',
    ]);
  });
});

describe('secretFor', () => {
  it('returns a set secret and refuses a missing one', () => {
    expect(secretFor('ACME_HOOK_SECRET', { ACME_HOOK_SECRET: 's3cret' })).toBe('s3cret');
    expect(() => secretFor('ACME_HOOK_SECRET', {})).toThrow('ACME_HOOK_SECRET: is not set');
  });
});
