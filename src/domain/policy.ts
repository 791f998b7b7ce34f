/**
 * The access policy: which resources exist, who may request them, who approves, and which
 * durations are allowed. No I/O: `parseAccessConfig` takes already-parsed YAML data (see
 * `src/config.ts` for the loader and `access.example.yaml` for the documented file).
 *
 * Policies layer: built-in defaults <- `defaults` <- `resources[i].policy` <- the first of
 * `resources[i].groupPolicies` (in key order) whose group holds the requester. `custom` merges
 * key by key; every other key replaces the value below it.
 */
import { z } from 'zod';
import { DurationConstraint, durationMs, humanizeDuration, isValidDuration } from './duration.js';

export type Approval = 'manual' | 'auto';

export interface DurationOption {
  duration: string;
  /** Resolved: the entry's own `remindBefore`, else the policy's. */
  remindBefore: string;
}

export interface EffectivePolicy {
  approvalWindow: string;
  durations: DurationOption[];
  custom: { min: string; max: string } | false;
  remindBefore: string;
  approval: Approval;
  extensions: boolean;
  justificationTemplates: string[];
}

export type ConnectorConfig =
  | { type: 'webhook'; url: string; secretEnv: string; timeoutMs: number }
  | { type: 'slack-usergroup'; usergroupId: string }
  | { type: 'log' };

/** A `durations` entry as written: `PT4H` or `{ duration: P1W, remindBefore: P1D }`. */
export type DurationEntry = string | { duration: string; remindBefore?: string | undefined };

/** A fully merged policy layer, before duration entries are resolved. Internal to this module. */
export interface PolicyLayer {
  approvalWindow: string;
  durations: DurationEntry[];
  custom: { min: string; max: string } | false;
  remindBefore: string;
  approval: Approval;
  extensions: boolean;
  justificationTemplates: string[];
}

export interface ResourceConfig {
  id: string;
  name: string;
  /** Emails, groups expanded, deduplicated, lower-case. */
  approvers: string[];
  /** Resource owners (may administer its grants). Emails, expanded. */
  owners: string[];
  /** Emails allowed to request, expanded; `undefined` means everyone. */
  requesters?: string[];
  connector: ConnectorConfig;
  /** Internal: defaults merged with this resource's `policy`. Use `effectivePolicy()`. */
  readonly basePolicy: PolicyLayer;
  /** Internal: `groupPolicies` in key order, each merged over `basePolicy`. Use `effectivePolicy()`. */
  readonly groupPolicies: ReadonlyArray<{ group: string; policy: PolicyLayer }>;
}

export interface AccessConfig {
  resources: ResourceConfig[];
  /** Group name -> lower-case member emails. */
  groups: Record<string, string[]>;
  /** Emails, expanded: may see and revoke every grant. */
  admins: string[];
  /** The `defaults` section merged over the built-in defaults, resolved. */
  defaults: EffectivePolicy;
  /** Internal: the `defaults` layer, for resources no longer in the file. */
  readonly defaultLayer: PolicyLayer;
}

export interface ConfigIssue {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

const BUILT_IN_CUSTOM = Object.freeze({ min: 'PT1H', max: 'P7D' });

export const BUILT_IN_DEFAULTS: Readonly<PolicyLayer> = Object.freeze({
  approvalWindow: 'P2D',
  durations: ['PT4H', 'PT8H', 'P1D', 'P3D', 'P1W'],
  custom: { ...BUILT_IN_CUSTOM },
  remindBefore: 'PT30M',
  approval: 'manual',
  extensions: true,
  justificationTemplates: [
    'Investigate Reported Issue',
    'Perform Maintenance',
    'Deploy Changes',
    'Implementation',
    'Compliance Audit/Review',
    'Emergency Response',
  ],
});

// ---------------------------------------------------------------- schema

const RESOURCE_ID = /^[a-z0-9][a-z0-9._-]*$/;
const GROUP_NAME = /^[A-Za-z][A-Za-z0-9._-]*$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const USERGROUP_ID = /^S[A-Z0-9]{2,}$/;

/** Schema-level message for format failures only; type failures keep the shared wording. */
const formatError = (message: string) => (iss: { code: string }) =>
  iss.code === 'invalid_type' ? undefined : message;

const duration = z
  .string()
  .trim()
  .refine(isValidDuration, {
    error: (iss) => `"${String(iss.input)}" is not a positive ISO-8601 duration (e.g. PT4H, P1D, P1W)`,
  });

const email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: formatError('must be an email address') }));

/** An email address or the name of a group from `groups`. */
const principal = z
  .string()
  .trim()
  .refine((s) => (s.includes('@') ? z.email().safeParse(s).success : GROUP_NAME.test(s)), {
    error: (iss) => `"${String(iss.input)}" is neither an email address nor a group name`,
  });

const policyOverride = z.strictObject({
  approvalWindow: duration.optional(),
  durations: z
    .array(z.union([duration, z.strictObject({ duration, remindBefore: duration.optional() })]))
    .optional(),
  custom: z
    .union([z.boolean(), z.strictObject({ min: duration.optional(), max: duration.optional() })])
    .optional(),
  remindBefore: duration.optional(),
  approval: z.enum(['manual', 'auto']).optional(),
  extensions: z.boolean().optional(),
  justificationTemplates: z.array(z.string().trim().min(1, 'must not be empty')).optional(),
});
type PolicyOverride = z.infer<typeof policyOverride>;

const connector = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: formatError('must be an http:// or https:// URL') }),
    secretEnv: z
      .string()
      .regex(ENV_NAME, 'must be the name of an environment variable (upper case, digits, _)'),
    timeoutMs: z.number().int('must be a whole number').positive('must be positive').default(10_000),
  }),
  z.strictObject({
    type: z.literal('slack-usergroup'),
    usergroupId: z.string().trim().regex(USERGROUP_ID, 'must be a Slack user group id such as S0123ABCD'),
  }),
  z.strictObject({ type: z.literal('log') }),
]);

const resource = z.strictObject({
  id: z
    .string()
    .regex(RESOURCE_ID, 'must start with a lower-case letter or digit and use only a-z 0-9 . _ -'),
  name: z.string().trim().min(1, 'must not be empty'),
  approvers: z.array(principal),
  owners: z.array(principal).optional(),
  requesters: z.array(principal).optional(),
  policy: policyOverride.optional(),
  groupPolicies: z.record(z.string(), policyOverride).optional(),
  connector: connector.default({ type: 'log' }),
});

const accessFile = z.strictObject({
  defaults: policyOverride.optional(),
  groups: z
    .record(
      z.string().regex(GROUP_NAME, 'group names start with a letter and use only letters, digits, . _ -'),
      z.array(email),
    )
    .optional(),
  admins: z.array(principal).optional(),
  resources: z.array(resource).min(1, 'must list at least one resource'),
});

// ---------------------------------------------------------------- issue formatting

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  boolean: 'true or false',
  number: 'a number',
  int: 'a whole number',
};

const errorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === 'invalid_type') {
    return iss.input === undefined ? 'is required' : `must be ${TYPE_NAMES[iss.expected] ?? iss.expected}`;
  }
  if (iss.code === 'invalid_value') return `must be ${iss.values.map(String).join(' or ')}`;
  return undefined;
};

const KNOWN_KEYS = [
  ...Object.keys(accessFile.shape),
  ...Object.keys(resource.shape),
  ...Object.keys(policyOverride.shape),
  'duration',
  'min',
  'max',
  'type',
  'url',
  'secretEnv',
  'timeoutMs',
  'usergroupId',
];

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

function unknownKeyMessage(key: string): string {
  const near = KNOWN_KEYS.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2);
  return near ? `unknown key (did you mean "${near}"?)` : 'unknown key';
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

const isRootTypeMismatch = (issues: z.core.$ZodIssue[]) =>
  issues.length === 1 && issues[0]?.code === 'invalid_type' && issues[0].path.length === 0;

function collectIssues(issues: z.core.$ZodIssue[], prefix: PropertyKey[], out: ConfigIssue[]): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: formatPath([...path, key]), message: unknownKeyMessage(key) });
    } else if (issue.code === 'invalid_union' && 'options' in issue && issue.options) {
      out.push({
        path: formatPath(path),
        message: `must be one of: ${issue.options.map(String).join(', ')}`,
      });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch whose type matched; when none did, say which types are accepted.
      const branch = issue.errors.find((errs) => !isRootTypeMismatch(errs));
      if (branch) collectIssues(branch, path, out);
      else {
        const expected = issue.errors.map((errs) => {
          const first = errs[0];
          return first?.code === 'invalid_type' ? (TYPE_NAMES[first.expected] ?? first.expected) : '?';
        });
        out.push({ path: formatPath(path), message: `must be ${expected.join(' or ')}` });
      }
    } else if (issue.code === 'invalid_key') {
      collectIssues(issue.issues, path, out);
    } else {
      out.push({ path: formatPath(path), message: issue.message });
    }
  }
}

// ---------------------------------------------------------------- merging

function mergeLayer(base: PolicyLayer, over: PolicyOverride | undefined): PolicyLayer {
  if (!over) return base;
  let custom = base.custom;
  if (over.custom === false) custom = false;
  else if (over.custom === true) custom = base.custom || { ...BUILT_IN_CUSTOM };
  else if (over.custom) {
    const below = base.custom || BUILT_IN_CUSTOM;
    custom = { min: over.custom.min ?? below.min, max: over.custom.max ?? below.max };
  }
  return {
    approvalWindow: over.approvalWindow ?? base.approvalWindow,
    durations: over.durations ?? base.durations,
    custom,
    remindBefore: over.remindBefore ?? base.remindBefore,
    approval: over.approval ?? base.approval,
    extensions: over.extensions ?? base.extensions,
    justificationTemplates: over.justificationTemplates ?? base.justificationTemplates,
  };
}

const entryDuration = (e: DurationEntry) => (typeof e === 'string' ? e : e.duration);

/** Checks a merged layer, reporting at the key `over` wrote (`path` is where `over` lives). */
function checkLayer(layer: PolicyLayer, over: PolicyOverride | undefined, path: string, out: ConfigIssue[]) {
  if (!over) return;
  const custom = layer.custom;
  if (
    custom &&
    over.custom !== undefined &&
    over.custom !== false &&
    durationMs(custom.max) < durationMs(custom.min)
  ) {
    if (typeof over.custom === 'object' && over.custom.max !== undefined) {
      out.push({ path: `${path}.custom.max`, message: `must be at least custom.min (${custom.min})` });
    } else if (typeof over.custom === 'object' && over.custom.min !== undefined) {
      out.push({ path: `${path}.custom.min`, message: `must be at most custom.max (${custom.max})` });
    } else {
      out.push({
        path: `${path}.custom`,
        message: `custom.min (${custom.min}) is longer than custom.max (${custom.max})`,
      });
    }
  }
  if (layer.durations.length === 0 && layer.custom === false) {
    if (over.durations !== undefined) {
      out.push({
        path: `${path}.durations`,
        message: 'must list at least one duration when custom is false',
      });
    } else if (over.custom !== undefined) {
      out.push({ path: `${path}.custom`, message: 'cannot be false while durations is empty' });
    }
  }
  const seen = new Map<number, string>();
  over.durations?.forEach((entry, i) => {
    const iso = entryDuration(entry);
    const ms = durationMs(iso);
    const earlier = seen.get(ms);
    if (earlier !== undefined) {
      out.push({ path: `${path}.durations[${i}]`, message: `${iso} repeats ${earlier}` });
    } else seen.set(ms, iso);
  });
}

function resolve(layer: PolicyLayer): EffectivePolicy {
  return {
    approvalWindow: layer.approvalWindow,
    durations: layer.durations.map((e) =>
      typeof e === 'string'
        ? { duration: e, remindBefore: layer.remindBefore }
        : { duration: e.duration, remindBefore: e.remindBefore ?? layer.remindBefore },
    ),
    custom: layer.custom && { ...layer.custom },
    remindBefore: layer.remindBefore,
    approval: layer.approval,
    extensions: layer.extensions,
    justificationTemplates: [...layer.justificationTemplates],
  };
}

// ---------------------------------------------------------------- parsing

export function parseAccessConfig(data: unknown): AccessConfig {
  const parsed = accessFile.safeParse(data, { error: errorMap });
  if (!parsed.success) {
    const issues: ConfigIssue[] = [];
    collectIssues(parsed.error.issues, [], issues);
    if (
      issues.length === 1 &&
      issues[0]?.path === '' &&
      (data === null || typeof data !== 'object' || Array.isArray(data))
    ) {
      throw new ConfigError([
        { path: '', message: 'the access config must be a YAML mapping with a resources: list' },
      ]);
    }
    throw new ConfigError(issues);
  }
  const file = parsed.data;
  const issues: ConfigIssue[] = [];
  const groups: Record<string, string[]> = {};
  for (const [name, members] of Object.entries(file.groups ?? {})) groups[name] = [...new Set(members)];

  const unknownGroup = (name: string) => {
    const known = Object.keys(groups);
    return `unknown group "${name}" (${known.length ? `groups: ${known.join(', ')}` : 'no groups are defined'})`;
  };
  const expand = (list: string[], path: string): string[] => {
    const out = new Set<string>();
    list.forEach((entry, i) => {
      if (entry.includes('@')) out.add(entry.toLowerCase());
      else if (groups[entry]) for (const m of groups[entry]) out.add(m);
      else issues.push({ path: `${path}[${i}]`, message: unknownGroup(entry) });
    });
    return [...out];
  };

  const defaultsLayer = mergeLayer(BUILT_IN_DEFAULTS, file.defaults);
  checkLayer(defaultsLayer, file.defaults, 'defaults', issues);
  const admins = expand(file.admins ?? [], 'admins');

  const ids = new Map<string, number>();
  const names = new Map<string, number>();
  const resources = file.resources.map((r, i): ResourceConfig => {
    const at = `resources[${i}]`;
    const firstId = ids.get(r.id);
    if (firstId !== undefined)
      issues.push({ path: `${at}.id`, message: `duplicate id "${r.id}" (also resources[${firstId}])` });
    else ids.set(r.id, i);
    const firstName = names.get(r.name.toLowerCase());
    if (firstName !== undefined) {
      issues.push({
        path: `${at}.name`,
        message: `duplicate name "${r.name}" (also resources[${firstName}])`,
      });
    } else names.set(r.name.toLowerCase(), i);

    const approvers = expand(r.approvers, `${at}.approvers`);
    const owners = expand(r.owners ?? [], `${at}.owners`);
    const requesters = r.requesters && expand(r.requesters, `${at}.requesters`);
    const basePolicy = mergeLayer(defaultsLayer, r.policy);
    checkLayer(basePolicy, r.policy, `${at}.policy`, issues);
    const groupPolicies = Object.entries(r.groupPolicies ?? {}).map(([group, over]) => {
      const path = `${at}.groupPolicies.${group}`;
      if (!groups[group]) issues.push({ path, message: unknownGroup(group) });
      const policy = mergeLayer(basePolicy, over);
      checkLayer(policy, over, path, issues);
      return { group, policy };
    });
    const config: ResourceConfig = {
      id: r.id,
      name: r.name,
      approvers,
      owners,
      connector: r.connector,
      basePolicy,
      groupPolicies,
    };
    if (requesters) config.requesters = requesters;
    return config;
  });

  if (issues.length > 0) throw new ConfigError(issues);
  return { resources, groups, admins, defaults: resolve(defaultsLayer), defaultLayer: defaultsLayer };
}

// ---------------------------------------------------------------- queries

const lower = (email: string) => email.trim().toLowerCase();

/** By id, or by name ignoring case. */
export function findResource(config: AccessConfig, idOrName: string): ResourceConfig | undefined {
  const key = lower(idOrName);
  return (
    config.resources.find((r) => r.id === key) ?? config.resources.find((r) => r.name.toLowerCase() === key)
  );
}

export function canRequest(_config: AccessConfig, resource: ResourceConfig, email: string): boolean {
  return resource.requesters === undefined || resource.requesters.includes(lower(email));
}

export function requestableResources(config: AccessConfig, email: string): ResourceConfig[] {
  return config.resources.filter((r) => canRequest(config, r, email));
}

/** defaults <- resource.policy <- the first group (in `groupPolicies` key order) holding the requester. */
export function effectivePolicy(
  config: AccessConfig,
  resource: ResourceConfig,
  requesterEmail: string,
): EffectivePolicy {
  const email = lower(requesterEmail);
  const match = resource.groupPolicies.find((g) => config.groups[g.group]?.includes(email));
  return resolve(match ? match.policy : resource.basePolicy);
}

/** The resource's approvers minus the requester: nobody approves their own request. */
export function eligibleApprovers(resource: ResourceConfig, requesterEmail: string): string[] {
  const email = lower(requesterEmail);
  return resource.approvers.filter((a) => a !== email);
}

export function isAdmin(config: AccessConfig, email: string): boolean {
  return config.admins.includes(lower(email));
}

/** Admins, and owners of this resource; approvers alone may not. */
export function canAdminister(config: AccessConfig, resource: ResourceConfig, email: string): boolean {
  return isAdmin(config, email) || resource.owners.includes(lower(email));
}

/** The quick option of the same length as `iso` (compared in milliseconds). */
export function durationOption(policy: EffectivePolicy, iso: string): DurationOption | undefined {
  if (!isValidDuration(iso)) return undefined;
  const ms = durationMs(iso);
  return policy.durations.find((o) => durationMs(o.duration) === ms);
}

/** A quick option is always allowed; otherwise custom must be on and min <= duration <= max. */
export function checkDuration(
  policy: EffectivePolicy,
  iso: string,
): { ok: true; remindBefore: string } | { ok: false; message: string } {
  const option = durationOption(policy, iso);
  if (option) return { ok: true, remindBefore: option.remindBefore };
  if (policy.custom) {
    if (DurationConstraint.of(policy.custom.min, policy.custom.max).contains(iso)) {
      return { ok: true, remindBefore: policy.remindBefore };
    }
    const { min, max } = policy.custom;
    return {
      ok: false,
      message: `Choose a duration between ${humanizeDuration(min)} and ${humanizeDuration(max)}.`,
    };
  }
  if (policy.durations.length === 0)
    return { ok: false, message: 'No durations are available for this resource.' };
  return {
    ok: false,
    message: `Choose one of: ${policy.durations.map((o) => humanizeDuration(o.duration)).join(', ')}.`,
  };
}
