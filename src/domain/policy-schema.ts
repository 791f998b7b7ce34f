/**
 * The access file's zod schema and the turning of zod issues into `ConfigIssue`s: readable type
 * names, "did you mean" for unknown keys, and dotted paths such as `resources[0].policy.custom`.
 * `parseAccessConfig` (./policy-parse.ts) is the only user; nothing here merges or resolves.
 */
import { z } from 'zod';
import { durationProblem, isValidDuration } from './duration.js';
import { normalizeEmail } from './email.js';
import { CHAT_PREFERENCES, type ChatPreference, type ConfigIssue } from './policy-model.js';

// ---------------------------------------------------------------- schema

export const RESOURCE_ID = /^[a-z0-9][a-z0-9._-]*$/;
/** A resource id as it comes back from outside (a button's value, a link): its form only, not that it exists. */
export const resourceIdValue = z.string().min(1).max(200).regex(RESOURCE_ID);
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
    error: (iss) => durationProblem(iss.input) ?? 'is not a usable duration',
  });

const email = z
  .string()
  .overwrite(normalizeEmail)
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
export type PolicyOverride = z.infer<typeof policyOverride>;

const connector = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: formatError('must be an http:// or https:// URL') }),
    secretEnv: z
      .string()
      .regex(ENV_NAME, 'must be the name of an environment variable (upper case, digits, _)'),
    timeoutMs: z
      .number()
      .int('must be a whole number')
      .positive('must be positive')
      // shorter than the 60 s lease a connector call holds, so a slow call is never overlapped
      .max(50_000, 'must be at most 50000 (50 seconds)')
      .default(10_000),
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
  /** what the resource belongs to (a client, an application): pickers and reports group by it */
  group: z.string().trim().min(1, 'must not be empty').max(75, 'must be at most 75 characters').optional(),
  approvers: z.array(principal),
  owners: z.array(principal).optional(),
  requesters: z.array(principal).optional(),
  policy: policyOverride.optional(),
  groupPolicies: z.record(z.string(), policyOverride).optional(),
  connector: connector.default({ type: 'log' }),
  /** true: starts switched off; nobody may request it until an owner switches it on */
  ownerControlled: z.boolean().optional(),
});

const notifications = z.strictObject({
  webhook: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, error: formatError('must be an http:// or https:// URL') }),
      secretEnv: z
        .string()
        .regex(ENV_NAME, 'must be the name of an environment variable (upper case, digits, _)'),
    })
    .optional(),
});

export const accessFile = z.strictObject({
  chat: z
    .strictObject({
      prefer: z.enum(CHAT_PREFERENCES as [ChatPreference, ...ChatPreference[]]).default('last-seen'),
    })
    .optional(),
  defaults: policyOverride.optional(),
  groups: z
    .record(
      z.string().regex(GROUP_NAME, 'group names start with a letter and use only letters, digits, . _ -'),
      z.array(email),
    )
    .optional(),
  admins: z.array(principal).optional(),
  resources: z.array(resource).min(1, 'must list at least one resource'),
  notifications: notifications.optional(),
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

export const errorMap: z.core.$ZodErrorMap = (iss) => {
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
  'webhook',
  'prefer',
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

export function collectIssues(issues: z.core.$ZodIssue[], prefix: PropertyKey[], out: ConfigIssue[]): void {
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
