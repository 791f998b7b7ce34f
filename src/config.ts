/**
 * The only module that reads the environment. Everything is read once at start-up, checked with
 * zod, and reported as a `ConfigError` whose lines say which variable or key to fix.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { durationMs, isValidDuration, MAX_DURATION_WORDS } from './domain/duration.js';
import { type AccessConfig, ConfigError, type ConfigIssue, parseAccessConfig } from './domain/policy.js';

export { ConfigError } from './domain/policy.js';

export interface AppEnv {
  port: number;
  accessConfigPath: string;
  mongodbUri?: string;
  store: 'mongo' | 'memory';
  slack: { botToken?: string; signingSecret?: string; appToken?: string; apiUrl: string };
  /** Bot Framework credentials, by their conventional names (see `TeamsEnv`). */
  teams: TeamsEnv;
  logLevel: string;
  /** Local state; embedded MongoDB keeps its data under `<dataDir>/mongo`. */
  dataDir: string;
  /**
   * How long a shutdown (SIGTERM, SIGINT) may take before the process gives up and exits 1.
   * Unset: `DEFAULT_SHUTDOWN_TIMEOUT_MS`.
   */
  shutdownTimeoutMs?: number;
  /** `API_TOKEN`: the bearer token of the HTTP API under /api/v1; unset, the API is off (404). */
  apiToken?: string;
  /** `PUBLIC_URL`: where people and other systems reach this bot's server (links it hands out). */
  publicUrl?: string;
  /** `LINK_SIGNING_SECRET`: signs short-lived download links; unset, a random one per process. */
  linkSigningSecret?: string;
  /**
   * `OUTBOX_RETENTION` (ISO-8601, default P30D) in milliseconds: how long a delivered or given-up
   * message stays in the outbox before it is deleted.
   */
  outboxRetentionMs: number;
}

/** How the bot authenticates to Azure AD (Entra ID): botbuilder's `MicrosoftAppType`. */
export const MICROSOFT_APP_TYPES = ['MultiTenant', 'SingleTenant', 'UserAssignedMSI'] as const;
export type MicrosoftAppType = (typeof MICROSOFT_APP_TYPES)[number];

export interface TeamsEnv {
  appId?: string;
  appPassword?: string;
  appType: MicrosoftAppType;
  tenantId?: string;
  /**
   * `TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED=true`: serve Teams without an app id, taking every
   * activity on `/api/messages` without checking any token (the local Agents Playground only).
   */
  dangerouslyAllowUnauthenticated: boolean;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;
export const DEFAULT_OUTBOX_RETENTION = 'P30D';
export const DEFAULT_PORT = 3000;
/** One hour; also keeps it below setTimeout's limit (2^31 - 1 ms). */
const MAX_SHUTDOWN_TIMEOUT_MS = 3_600_000;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Unset and empty are the same thing (`FOO=` in an env file). */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const envSchema = z.object({
  PORT: optional(
    z
      .string()
      .trim()
      .regex(/^\d+$/, 'must be a whole number between 1 and 65535')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 65535, 'must be a whole number between 1 and 65535'),
  ),
  ACCESS_CONFIG: optional(z.string()),
  MONGODB_URI: optional(
    z
      .string()
      .trim()
      .refine((s) => s.startsWith('mongodb://') || s.startsWith('mongodb+srv://'), {
        error: 'must start with mongodb:// or mongodb+srv://',
      }),
  ),
  STORE: optional(
    z
      .string()
      .trim()
      .toLowerCase()
      .refine((s) => s === 'mongo' || s === 'memory', 'must be mongo or memory'),
  ),
  SLACK_BOT_TOKEN: optional(
    z
      .string()
      .trim()
      .startsWith('xoxb-', 'must start with xoxb- (the Bot User OAuth Token from OAuth & Permissions)'),
  ),
  SLACK_SIGNING_SECRET: optional(z.string().trim()),
  SLACK_APP_TOKEN: optional(
    z
      .string()
      .trim()
      .startsWith('xapp-', 'must start with xapp- (an app-level token with connections:write)'),
  ),
  SLACK_API_URL: optional(
    z
      .string()
      .trim()
      .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), {
        error: 'must be an http:// or https:// URL such as https://slack.com/api/',
      })
      .transform((s) => (s.endsWith('/') ? s : `${s}/`)),
  ),
  MicrosoftAppId: optional(z.string().trim()),
  MicrosoftAppPassword: optional(z.string()),
  MicrosoftAppType: optional(
    z
      .string()
      .trim()
      .transform((s) => MICROSOFT_APP_TYPES.find((t) => t.toLowerCase() === s.toLowerCase()))
      .refine((t) => t !== undefined, `must be one of: ${MICROSOFT_APP_TYPES.join(', ')}`),
  ),
  MicrosoftAppTenantId: optional(z.string().trim()),
  TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED: optional(
    z
      .string()
      .trim()
      .toLowerCase()
      .refine((s) => s === 'true' || s === 'false', 'must be true or false')
      .transform((s) => s === 'true'),
  ),
  LOG_LEVEL: optional(
    z
      .string()
      .trim()
      .toLowerCase()
      .refine(
        (s) => (LOG_LEVELS as readonly string[]).includes(s),
        `must be one of: ${LOG_LEVELS.join(', ')}`,
      ),
  ),
  DATA_DIR: optional(z.string()),
  SHUTDOWN_TIMEOUT_MS: optional(
    z
      .string()
      .trim()
      .regex(/^\d+$/, `must be a whole number of milliseconds between 1 and ${MAX_SHUTDOWN_TIMEOUT_MS}`)
      .transform(Number)
      .refine(
        (n) => n >= 1 && n <= MAX_SHUTDOWN_TIMEOUT_MS,
        `must be a whole number of milliseconds between 1 and ${MAX_SHUTDOWN_TIMEOUT_MS}`,
      ),
  ),
  API_TOKEN: optional(
    z
      .string()
      .trim()
      .min(32, 'must be at least 32 characters (e.g. the output of `openssl rand -hex 32`)')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  ),
  PUBLIC_URL: optional(
    z
      .string()
      .trim()
      .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), {
        error: 'must be an http:// or https:// URL such as https://jit.example.com',
      })
      .transform((s) => s.replace(/\/+$/, '')),
  ),
  LINK_SIGNING_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
  OUTBOX_RETENTION: optional(
    z
      .string()
      .trim()
      .transform((s, ctx) => {
        if (isValidDuration(s)) return durationMs(s);
        ctx.issues.push({
          code: 'custom',
          message: `must be a positive ISO-8601 duration of at most ${MAX_DURATION_WORDS}, such as P30D or PT12H`,
          input: s,
        });
        return z.NEVER;
      }),
  ),
});
/** Every environment variable the app reads (besides each webhook connector's `secretEnv`). */
export const ENV_NAMES: readonly string[] = Object.keys(envSchema.shape);

function toIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

type ParsedEnv = z.infer<typeof envSchema>;

/**
 * The Teams credentials, checked as a whole: what each `MicrosoftAppType` needs (botbuilder's
 * ConfigurationServiceClientCredentialFactory asserts the same at start-up, less readably), and
 * no credential without an app id to go with it.
 */
function teamsEnv(e: ParsedEnv): { teams: TeamsEnv; issues: ConfigIssue[] } {
  const teams: TeamsEnv = {
    appType: e.MicrosoftAppType ?? 'MultiTenant',
    dangerouslyAllowUnauthenticated: e.TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED ?? false,
  };
  if (e.MicrosoftAppId) teams.appId = e.MicrosoftAppId;
  if (e.MicrosoftAppPassword) teams.appPassword = e.MicrosoftAppPassword;
  if (e.MicrosoftAppTenantId) teams.tenantId = e.MicrosoftAppTenantId;
  const issues: ConfigIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ path, message });
  if (!teams.appId) {
    for (const [name, value] of [
      ['MicrosoftAppPassword', teams.appPassword],
      ['MicrosoftAppTenantId', teams.tenantId],
      ['MicrosoftAppType', e.MicrosoftAppType],
    ] as const) {
      if (value !== undefined) issue(name, 'is set but MicrosoftAppId is not; set the app id of the bot too');
    }
    return { teams, issues };
  }
  if (teams.dangerouslyAllowUnauthenticated) {
    issue(
      'TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED',
      'must not be true when MicrosoftAppId is set (with an app id every request is authenticated); remove one of them',
    );
  }
  if (teams.appType === 'UserAssignedMSI') {
    if (teams.appPassword)
      issue('MicrosoftAppPassword', 'must not be set with MicrosoftAppType=UserAssignedMSI');
    if (!teams.tenantId) issue('MicrosoftAppTenantId', 'must be set with MicrosoftAppType=UserAssignedMSI');
  } else {
    if (!teams.appPassword) {
      issue('MicrosoftAppPassword', `must be set with MicrosoftAppId (MicrosoftAppType=${teams.appType})`);
    }
    if (teams.appType === 'SingleTenant' && !teams.tenantId) {
      issue(
        'MicrosoftAppTenantId',
        'must be set with MicrosoftAppType=SingleTenant (the bot’s Entra tenant id)',
      );
    }
  }
  return { teams, issues };
}

/** Reads and checks the process environment; throws `ConfigError` naming each bad variable. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): AppEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(toIssues(parsed.error));
  const e = parsed.data;
  const slack: AppEnv['slack'] = { apiUrl: e.SLACK_API_URL ?? 'https://slack.com/api/' };
  if (e.SLACK_BOT_TOKEN) slack.botToken = e.SLACK_BOT_TOKEN;
  if (e.SLACK_SIGNING_SECRET) slack.signingSecret = e.SLACK_SIGNING_SECRET;
  if (e.SLACK_APP_TOKEN) slack.appToken = e.SLACK_APP_TOKEN;
  const { teams, issues } = teamsEnv(e);
  if (issues.length > 0) throw new ConfigError(issues);
  const result: AppEnv = {
    port: e.PORT ?? DEFAULT_PORT,
    accessConfigPath: e.ACCESS_CONFIG ?? './access.yaml',
    store: e.STORE === 'memory' ? 'memory' : 'mongo',
    slack,
    teams,
    logLevel: e.LOG_LEVEL ?? 'info',
    dataDir: e.DATA_DIR ?? './.data',
    outboxRetentionMs: e.OUTBOX_RETENTION ?? durationMs(DEFAULT_OUTBOX_RETENTION),
  };
  if (e.MONGODB_URI) result.mongodbUri = e.MONGODB_URI;
  if (e.SHUTDOWN_TIMEOUT_MS !== undefined) result.shutdownTimeoutMs = e.SHUTDOWN_TIMEOUT_MS;
  if (e.API_TOKEN) result.apiToken = e.API_TOKEN;
  if (e.PUBLIC_URL) result.publicUrl = e.PUBLIC_URL;
  if (e.LINK_SIGNING_SECRET) result.linkSigningSecret = e.LINK_SIGNING_SECRET;
  return result;
}

/** Slack's credentials when Slack is to start. */
export interface SlackCredentials {
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  apiUrl: string;
}

/** Which chat platforms start: each one whose credentials are present. */
export interface ChatPlatformsToStart {
  slack: SlackCredentials | null;
  teams: TeamsEnv | null;
}

const NO_PLATFORM =
  'No chat platform is configured. For Slack set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode); for Microsoft Teams set MicrosoftAppId and MicrosoftAppPassword (or TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED=true for a local playground only); see README.md';

/**
 * Slack, Teams or both start, depending on which credentials are present; at least one must be.
 * Slack's credentials must be complete when any is given (a bot token needs a signing secret or an
 * app token, and the reverse). Throws `ConfigError` saying what to set.
 */
export function chatPlatformsToStart(env: AppEnv): ChatPlatformsToStart {
  const { botToken, signingSecret, appToken, apiUrl } = env.slack;
  let slack: SlackCredentials | null = null;
  if (botToken && (signingSecret || appToken)) {
    slack = {
      botToken,
      apiUrl,
      ...(signingSecret ? { signingSecret } : {}),
      ...(appToken ? { appToken } : {}),
    };
  } else if (botToken) {
    throw new ConfigError([
      {
        path: 'SLACK_SIGNING_SECRET',
        message: 'must be set with SLACK_BOT_TOKEN (HTTP mode), or SLACK_APP_TOKEN for Socket Mode',
      },
    ]);
  } else if (signingSecret || appToken) {
    throw new ConfigError([
      {
        path: 'SLACK_BOT_TOKEN',
        message: `must be set with ${signingSecret ? 'SLACK_SIGNING_SECRET' : 'SLACK_APP_TOKEN'} (the Bot User OAuth Token, xoxb-…)`,
      },
    ]);
  }
  const teams = env.teams.appId || env.teams.dangerouslyAllowUnauthenticated ? env.teams : null;
  if (!slack && !teams) throw new ConfigError([{ path: '', message: NO_PLATFORM }]);
  return { slack, teams };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError([
        { path: 'ACCESS_CONFIG', message: `file ${path} not found; copy access.example.yaml to start` },
      ]);
    }
    throw new ConfigError([
      { path: 'ACCESS_CONFIG', message: `cannot read ${path} (${code ?? String(err)})` },
    ]);
  }
}

/**
 * Reads the access policy file (YAML), checks it, and checks that every webhook connector's
 * secret is present in `env`.
 */
export function loadAccessConfig(path: string, env: NodeJS.ProcessEnv = process.env): AccessConfig {
  const doc = parseDocument(readText(path));
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        path: 'ACCESS_CONFIG',
        message: `${path} is not valid YAML: ${(e.message.split('\n')[0] ?? '').replace(/:$/, '')}`,
      })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    // The yaml library refuses to expand an alias bomb (ReferenceError: excessive alias count).
    if (!(error instanceof Error)) throw error;
    throw new ConfigError([
      { path: 'ACCESS_CONFIG', message: `${path} could not be read: ${error.message}` },
    ]);
  }
  const access = parseAccessConfig(data);
  const issues = missingSecrets(access, env);
  if (issues.length > 0) throw new ConfigError(issues);
  return access;
}

/** Every webhook (resource connectors, the notifications webhook) whose secret variable is unset in `env`. */
export function missingSecrets(access: AccessConfig, env: NodeJS.ProcessEnv = process.env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const unset = (name: string) => !env[name]?.trim();
  access.resources.forEach((r, i) => {
    if (r.connector.type === 'webhook' && unset(r.connector.secretEnv)) {
      issues.push({
        path: `resources[${i}].connector.secretEnv`,
        message: `environment variable ${r.connector.secretEnv} is not set`,
      });
    }
  });
  const hook = access.notifications.webhook;
  if (hook && unset(hook.secretEnv)) {
    issues.push({
      path: 'notifications.webhook.secretEnv',
      message: `environment variable ${hook.secretEnv} is not set`,
    });
  }
  return issues;
}

/** Reads everything; on a configuration error prints what to fix and exits with status 2. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): {
  env: AppEnv;
  access: AccessConfig;
} {
  try {
    const appEnv = readEnv(env);
    return { env: appEnv, access: loadAccessConfig(appEnv.accessConfigPath, env) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`Configuration error:\n${err.message}\n`);
    process.exit(2);
  }
}

/** A connector secret by variable name (e.g. the webhook HMAC secret); throws when unset or empty. */
export function secretFor(envName: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[envName];
  if (!value?.trim()) {
    throw new ConfigError([{ path: envName, message: 'is not set (it holds a connector secret)' }]);
  }
  return value;
}
