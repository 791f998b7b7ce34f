/**
 * `parseAccessConfig`: validates already-parsed YAML against the schema (./policy-schema.ts),
 * expands groups, merges the policy layers (built-in defaults <- `defaults` <- `resources[i].policy`
 * <- `resources[i].groupPolicies`) and checks each merged layer, reporting every problem at once.
 */
import { durationMs } from './duration.js';
import { normalizeEmail } from './email.js';
import {
  type AccessConfig,
  BUILT_IN_CUSTOM,
  BUILT_IN_DEFAULTS,
  ConfigError,
  type ConfigIssue,
  type DurationEntry,
  type PolicyLayer,
  type ResourceConfig,
  resolve,
} from './policy-model.js';
import { accessFile, collectIssues, errorMap, type PolicyOverride } from './policy-schema.js';

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
      if (entry.includes('@')) out.add(normalizeEmail(entry));
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
      ownerControlled: r.ownerControlled ?? false,
      basePolicy,
      groupPolicies,
    };
    if (requesters) config.requesters = requesters;
    if (r.group) config.group = r.group;
    return config;
  });

  if (issues.length > 0) throw new ConfigError(issues);
  const notifications = file.notifications?.webhook ? { webhook: { ...file.notifications.webhook } } : {};
  return {
    resources,
    chat: { prefer: file.chat?.prefer ?? 'last-seen' },
    groups,
    admins,
    notifications,
    defaults: resolve(defaultsLayer),
    defaultLayer: defaultsLayer,
  };
}
