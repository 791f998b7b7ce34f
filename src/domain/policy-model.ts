/**
 * The access policy's data model: the parsed config types, `ConfigError`, the built-in defaults,
 * and `resolve`, which turns a merged policy layer into the `EffectivePolicy` callers see. Import
 * these through `./policy.js`; the other policy modules use this one directly.
 */

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

/** A fully merged policy layer, before duration entries are resolved. Internal to the policy modules. */
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
  /** What it belongs to (a client group, an application), for grouping in pickers and reports. */
  group?: string;
  /** Emails, groups expanded, deduplicated, lower-case. */
  approvers: string[];
  /** Resource owners (may administer its grants). Emails, expanded. */
  owners: string[];
  /** Emails allowed to request, expanded; `undefined` means everyone. */
  requesters?: string[];
  connector: ConnectorConfig;
  /**
   * `ownerControlled: true`: JIT access starts switched off; nobody may request the resource until
   * one of its owners switches it on (`/access-settings`).
   */
  ownerControlled: boolean;
  /** Internal: defaults merged with this resource's `policy`. Use `effectivePolicy()`. */
  readonly basePolicy: PolicyLayer;
  /** Internal: `groupPolicies` in key order, each merged over `basePolicy`. Use `effectivePolicy()`. */
  readonly groupPolicies: ReadonlyArray<{ group: string; policy: PolicyLayer }>;
}

/**
 * Where a person is reached when more than one chat platform knows them: always Slack first, always
 * Teams first, or first where the bot last saw them (the default). The other is the fallback.
 */
export type ChatPreference = 'slack' | 'teams' | 'last-seen';
export const CHAT_PREFERENCES: readonly ChatPreference[] = ['slack', 'teams', 'last-seen'];

export interface AccessConfig {
  resources: ResourceConfig[];
  /** The `chat` section, with its defaults. */
  chat: { prefer: ChatPreference };
  /** Group name -> lower-case member emails. */
  groups: Record<string, string[]>;
  /** Emails, expanded: may see and revoke every grant. */
  admins: string[];
  /** The `defaults` section merged over the built-in defaults, resolved. */
  defaults: EffectivePolicy;
  /** Where every request and grant event is also sent (signed, through the outbox). */
  notifications: { webhook?: { url: string; secretEnv: string } };
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

export const BUILT_IN_CUSTOM = Object.freeze({ min: 'PT1H', max: 'P7D' });

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

// ---------------------------------------------------------------- resolution

/** A merged layer with its duration entries resolved (each entry gets its `remindBefore`). */
export function resolve(layer: PolicyLayer): EffectivePolicy {
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
