import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, chatPlatformsToStart, loadAccessConfig, readEnv, secretFor } from '../src/config.js';

const DAY = 86_400_000;
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
      teams: { appType: 'MultiTenant', dangerouslyAllowUnauthenticated: false },
      logLevel: 'info',
      dataDir: './.data',
      outboxRetentionMs: 30 * DAY,
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
        MicrosoftAppId: '00000000-0000-0000-0000-0000000000aa',
        MicrosoftAppPassword: 'app-secret',
        MicrosoftAppType: 'SingleTenant',
        MicrosoftAppTenantId: 'tenant-1',
        LOG_LEVEL: 'debug',
        DATA_DIR: '/var/lib/jit',
        OUTBOX_RETENTION: 'P7D',
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
      teams: {
        appId: '00000000-0000-0000-0000-0000000000aa',
        appPassword: 'app-secret',
        appType: 'SingleTenant',
        tenantId: 'tenant-1',
        dangerouslyAllowUnauthenticated: false,
      },
      logLevel: 'debug',
      dataDir: '/var/lib/jit',
      outboxRetentionMs: 7 * DAY,
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
    [
      { OUTBOX_RETENTION: '30 days' },
      'OUTBOX_RETENTION: must be a positive ISO-8601 duration of at most 366 days, such as P30D or PT12H',
    ],
    [
      { OUTBOX_RETENTION: 'PT0S' },
      'OUTBOX_RETENTION: must be a positive ISO-8601 duration of at most 366 days, such as P30D or PT12H',
    ],
    [
      { OUTBOX_RETENTION: 'P2Y' },
      'OUTBOX_RETENTION: must be a positive ISO-8601 duration of at most 366 days, such as P30D or PT12H',
    ],
  ])('refuses %o', (env, message) => {
    expect(envIssues(env)).toEqual([message]);
  });

  it('reports every bad variable at once', () => {
    expect(envIssues({ PORT: 'x', STORE: 'y' })).toHaveLength(2);
  });
});

describe('readEnv: Microsoft Teams credentials', () => {
  const APP = { MicrosoftAppId: 'app-1', MicrosoftAppPassword: 'secret' };

  it('takes MicrosoftAppType in any case, defaulting to MultiTenant', () => {
    expect(readEnv(APP).teams.appType).toBe('MultiTenant');
    expect(
      readEnv({ ...APP, MicrosoftAppType: 'singletenant', MicrosoftAppTenantId: 't' }).teams.appType,
    ).toBe('SingleTenant');
    expect(
      readEnv({ MicrosoftAppId: 'app-1', MicrosoftAppType: 'userassignedmsi', MicrosoftAppTenantId: 't' })
        .teams,
    ).toEqual({
      appId: 'app-1',
      appType: 'UserAssignedMSI',
      tenantId: 't',
      dangerouslyAllowUnauthenticated: false,
    });
  });

  it('reads API_TOKEN (long enough, no spaces), PUBLIC_URL and LINK_SIGNING_SECRET', () => {
    const token = 'a'.repeat(40);
    const env = readEnv({
      API_TOKEN: token,
      PUBLIC_URL: 'https://jit.example.com/',
      LINK_SIGNING_SECRET: 'k'.repeat(32),
    });
    expect(env).toMatchObject({
      apiToken: token,
      publicUrl: 'https://jit.example.com',
      linkSigningSecret: 'k'.repeat(32),
    });
    expect(readEnv({ API_TOKEN: '' }).apiToken).toBeUndefined();
    expect(
      envIssues({ API_TOKEN: 'short', PUBLIC_URL: 'jit.example.com', LINK_SIGNING_SECRET: 'x' }),
    ).toEqual([
      'API_TOKEN: must be at least 32 characters (e.g. the output of `openssl rand -hex 32`)',
      'PUBLIC_URL: must be an http:// or https:// URL such as https://jit.example.com',
      'LINK_SIGNING_SECRET: must be at least 32 characters',
    ]);
    expect(envIssues({ API_TOKEN: `${'a'.repeat(32)} b` })).toEqual([
      'API_TOKEN: must be printable ASCII without spaces',
    ]);
  });

  it('reads TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED as true or false only', () => {
    expect(
      readEnv({ TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: 'TRUE' }).teams.dangerouslyAllowUnauthenticated,
    ).toBe(true);
    expect(
      readEnv({ TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: 'false' }).teams.dangerouslyAllowUnauthenticated,
    ).toBe(false);
    expect(envIssues({ TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: 'yes' })).toEqual([
      'TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: must be true or false',
    ]);
  });

  it.each([
    [
      { ...APP, MicrosoftAppType: 'Tenant' },
      ['MicrosoftAppType: must be one of: MultiTenant, SingleTenant, UserAssignedMSI'],
    ],
    [
      { MicrosoftAppId: 'app-1' },
      ['MicrosoftAppPassword: must be set with MicrosoftAppId (MicrosoftAppType=MultiTenant)'],
    ],
    [
      { ...APP, MicrosoftAppType: 'SingleTenant' },
      ['MicrosoftAppTenantId: must be set with MicrosoftAppType=SingleTenant (the bot’s Entra tenant id)'],
    ],
    [
      { ...APP, MicrosoftAppType: 'UserAssignedMSI' },
      [
        'MicrosoftAppPassword: must not be set with MicrosoftAppType=UserAssignedMSI',
        'MicrosoftAppTenantId: must be set with MicrosoftAppType=UserAssignedMSI',
      ],
    ],
    [
      { MicrosoftAppPassword: 'secret', MicrosoftAppTenantId: 't' },
      [
        'MicrosoftAppPassword: is set but MicrosoftAppId is not; set the app id of the bot too',
        'MicrosoftAppTenantId: is set but MicrosoftAppId is not; set the app id of the bot too',
      ],
    ],
    [
      { ...APP, TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: 'true' },
      [
        'TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: must not be true when MicrosoftAppId is set (with an app id every request is authenticated); remove one of them',
      ],
    ],
  ])('refuses %o', (env, messages) => {
    expect(envIssues(env)).toEqual(messages);
  });
});

describe('chatPlatformsToStart', () => {
  const issues = (env: NodeJS.ProcessEnv): string[] => {
    try {
      chatPlatformsToStart(readEnv(env));
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).message.split('\n');
    }
    throw new Error('expected a ConfigError');
  };
  const SLACK = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'shh' };
  const TEAMS = { MicrosoftAppId: 'app-1', MicrosoftAppPassword: 'secret' };

  it('starts Slack alone, Teams alone, or both, by which credentials are present', () => {
    expect(chatPlatformsToStart(readEnv(SLACK))).toEqual({
      slack: { botToken: 'xoxb-1', signingSecret: 'shh', apiUrl: 'https://slack.com/api/' },
      teams: null,
    });
    expect(
      chatPlatformsToStart(readEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).slack,
    ).toEqual({
      botToken: 'xoxb-1',
      appToken: 'xapp-1',
      apiUrl: 'https://slack.com/api/',
    });
    expect(chatPlatformsToStart(readEnv(TEAMS))).toEqual({
      slack: null,
      teams: {
        appId: 'app-1',
        appPassword: 'secret',
        appType: 'MultiTenant',
        dangerouslyAllowUnauthenticated: false,
      },
    });
    const both = chatPlatformsToStart(readEnv({ ...SLACK, ...TEAMS }));
    expect([both.slack?.botToken, both.teams?.appId]).toEqual(['xoxb-1', 'app-1']);
  });

  it('starts Teams without an app id only when the unauthenticated mode is asked for by name', () => {
    expect(chatPlatformsToStart(readEnv({ TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: 'true' })).teams).toEqual({
      appType: 'MultiTenant',
      dangerouslyAllowUnauthenticated: true,
    });
    expect(issues({ TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: 'false' })[0]).toMatch(
      /^No chat platform is configured/,
    );
  });

  it('refuses to start with no chat platform, saying what to set for each', () => {
    const [message] = issues({});
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'SLACK_APP_TOKEN',
      'MicrosoftAppId',
      'MicrosoftAppPassword',
      'TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED=true',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('refuses half a Slack configuration even when Teams is configured', () => {
    expect(issues({ ...TEAMS, SLACK_BOT_TOKEN: 'xoxb-1' })).toEqual([
      'SLACK_SIGNING_SECRET: must be set with SLACK_BOT_TOKEN (HTTP mode), or SLACK_APP_TOKEN for Socket Mode',
    ]);
    expect(issues({ SLACK_SIGNING_SECRET: 'shh' })).toEqual([
      'SLACK_BOT_TOKEN: must be set with SLACK_SIGNING_SECRET (the Bot User OAuth Token, xoxb-…)',
    ]);
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
  it('requires the secret of the notifications webhook too', () => {
    const path = tempFile(
      'resources:\n  - id: a\n    name: A\n    approvers: [alice@example.com]\nnotifications:\n  webhook: { url: "https://tickets.example.com/jit", secretEnv: TICKETS_SECRET }\n',
    );
    expect(loadIssues(path, {})).toEqual([
      'notifications.webhook.secretEnv: environment variable TICKETS_SECRET is not set',
    ]);
    expect(loadAccessConfig(path, { TICKETS_SECRET: 'set' }).notifications.webhook?.secretEnv).toBe(
      'TICKETS_SECRET',
    );
  });
});

describe('secretFor', () => {
  it('returns a set secret and refuses a missing one', () => {
    expect(secretFor('ACME_HOOK_SECRET', { ACME_HOOK_SECRET: 's3cret' })).toBe('s3cret');
    expect(() => secretFor('ACME_HOOK_SECRET', {})).toThrow('ACME_HOOK_SECRET: is not set');
  });
});
