/**
 * `jit-access-bot check-config <file>`: checks a policy file with the same loader `start` uses
 * (src/config.ts), and starts nothing, so an admin's CI can check a change before it ships.
 *
 * Webhook secrets: `start` refuses to run while a webhook connector's `secretEnv` variable is
 * unset, but the CI that checks the policy file usually does not hold those secrets. So here a
 * missing secret is a note by default and a problem only with `requireSecrets`. Secrets are
 * checked once the policy itself is valid (as the loader does), so a file with policy problems
 * lists only those.
 */
import { ConfigError, loadAccessConfig, missingSecrets } from './config.js';
import type { AccessConfig, ConfigIssue } from './domain/policy.js';

export interface CheckResult {
  ok: boolean;
  /** The one-line summary when `ok`. */
  stdout: string[];
  /** Problems (one per line, by path) when not `ok`; notes otherwise. */
  stderr: string[];
}

/** An environment in which every variable is set: lets the loader check the policy alone. */
const EVERY_VARIABLE_SET: NodeJS.ProcessEnv = new Proxy(
  {},
  { get: (_target, key) => (typeof key === 'string' ? 'set' : undefined) },
);

export function checkConfig(file: string, options: { requireSecrets: boolean }): CheckResult {
  let access: AccessConfig;
  try {
    access = loadAccessConfig(file, EVERY_VARIABLE_SET);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return problems(file, error.issues);
  }
  const missing = missingSecrets(access);
  if (options.requireSecrets && missing.length > 0) return problems(file, missing);
  const notes = missing.map(
    (i) =>
      `note: ${line(i)} here; \`start\` refuses to run without it (--require-secrets makes this an error)`,
  );
  return { ok: true, stdout: [`${file}: OK — ${summary(access)}`], stderr: notes };
}

function problems(file: string, issues: ConfigIssue[]): CheckResult {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return { ok: false, stdout: [], stderr: [`${file}: ${count}`, ...issues.map(line)] };
}

/**
 * `path: message`. The loader names file-level problems (unreadable, not YAML) by the variable
 * `start` reads the path from; here the path came from the command line and the message names
 * the file, so those are shown without it.
 */
function line(issue: ConfigIssue): string {
  return issue.path && issue.path !== 'ACCESS_CONFIG' ? `${issue.path}: ${issue.message}` : issue.message;
}

function summary(access: AccessConfig): string {
  return [
    count(access.resources.length, 'resource'),
    count(Object.keys(access.groups).length, 'group'),
    count(access.admins.length, 'admin'),
  ].join(', ');
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
