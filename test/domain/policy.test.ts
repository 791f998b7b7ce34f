import { describe, expect, it } from 'vitest';
import {
  type AccessConfig,
  ConfigError,
  canAdminister,
  canRequest,
  checkDuration,
  durationOption,
  type EffectivePolicy,
  effectivePolicy,
  eligibleApprovers,
  findResource,
  isAdmin,
  parseAccessConfig,
  type ResourceConfig,
  requestableResources,
} from '../../src/domain/policy.js';

const resource = (over: Record<string, unknown> = {}) => ({
  id: 'acme-prod',
  name: 'Acme prod',
  approvers: ['alice@example.com'],
  ...over,
});

function parse(data: unknown): AccessConfig {
  return parseAccessConfig(data);
}

function issuesOf(data: unknown): string[] {
  try {
    parseAccessConfig(data);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

function only(config: AccessConfig): ResourceConfig {
  const [first] = config.resources;
  if (!first) throw new Error('no resource');
  return first;
}

describe('parseAccessConfig defaults', () => {
  it('applies the built-in defaults when defaults is omitted', () => {
    const config = parse({ resources: [resource()] });
    const policy = effectivePolicy(config, only(config), 'bob@example.com');
    expect(policy).toEqual({
      approvalWindow: 'P2D',
      durations: ['PT4H', 'PT8H', 'P1D', 'P3D', 'P1W'].map((d) => ({ duration: d, remindBefore: 'PT30M' })),
      custom: { min: 'PT1H', max: 'P7D' },
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
    expect(config.defaults).toEqual(policy);
    expect(config.admins).toEqual([]);
    expect(only(config).owners).toEqual([]);
    expect(only(config).requesters).toBeUndefined();
    expect(only(config).connector).toEqual({ type: 'log' });
  });

  it('keeps built-in values for keys the defaults section leaves out', () => {
    const config = parse({
      defaults: { approvalWindow: 'P1D', custom: { max: 'P3D' } },
      resources: [resource()],
    });
    const policy = effectivePolicy(config, only(config), 'bob@example.com');
    expect(policy.approvalWindow).toBe('P1D');
    expect(policy.custom).toEqual({ min: 'PT1H', max: 'P3D' });
    expect(policy.approval).toBe('manual');
  });

  it('fills in the webhook timeout', () => {
    const config = parse({
      resources: [
        resource({
          connector: { type: 'webhook', url: 'https://hooks.example.com/a', secretEnv: 'ACME_HOOK_SECRET' },
        }),
      ],
    });
    expect(only(config).connector).toEqual({
      type: 'webhook',
      url: 'https://hooks.example.com/a',
      secretEnv: 'ACME_HOOK_SECRET',
      timeoutMs: 10_000,
    });
  });
});

describe('effectivePolicy', () => {
  const config = parse({
    defaults: { approval: 'manual', remindBefore: 'PT15M' },
    groups: { support: ['Bob@Example.com'], oncall: ['bob@example.com', 'carol@example.com'] },
    resources: [
      resource({
        policy: { custom: { max: 'P3D' }, extensions: false },
        groupPolicies: {
          support: { approval: 'auto', durations: ['PT4H'] },
          oncall: { approval: 'auto', durations: ['P1D'], custom: false },
        },
      }),
    ],
  });
  const r = only(config);

  it('lets a resource override the defaults, merging custom key by key', () => {
    const policy = effectivePolicy(config, r, 'erin@example.com');
    expect(policy.custom).toEqual({ min: 'PT1H', max: 'P3D' });
    expect(policy.extensions).toBe(false);
    expect(policy.approval).toBe('manual');
    expect(policy.remindBefore).toBe('PT15M');
  });

  it('lets a group override the resource policy for its members', () => {
    const policy = effectivePolicy(config, r, 'carol@example.com');
    expect(policy.approval).toBe('auto');
    expect(policy.durations).toEqual([{ duration: 'P1D', remindBefore: 'PT15M' }]);
    expect(policy.custom).toBe(false);
    expect(policy.extensions).toBe(false);
  });

  it('uses the first listed group when the requester is in several', () => {
    const policy = effectivePolicy(config, r, 'BOB@example.com');
    expect(policy.durations).toEqual([{ duration: 'PT4H', remindBefore: 'PT15M' }]);
    expect(policy.custom).toEqual({ min: 'PT1H', max: 'P3D' });
  });

  it('resolves a duration entry remindBefore over the policy remindBefore', () => {
    const c = parse({
      defaults: { durations: ['PT4H', { duration: 'P1W', remindBefore: 'P1D' }] },
      resources: [resource({ policy: { remindBefore: 'PT1H' } })],
    });
    expect(effectivePolicy(c, only(c), 'bob@example.com').durations).toEqual([
      { duration: 'PT4H', remindBefore: 'PT1H' },
      { duration: 'P1W', remindBefore: 'P1D' },
    ]);
  });

  it('turns custom durations off with custom: false', () => {
    const c = parse({ resources: [resource({ policy: { custom: false } })] });
    expect(effectivePolicy(c, only(c), 'bob@example.com').custom).toBe(false);
  });
});

describe('parseAccessConfig errors', () => {
  it('reports a custom.max shorter than the effective custom.min at the key that was written', () => {
    const lines = issuesOf({
      resources: [resource(), resource({ id: 'other', name: 'Other', policy: { custom: { max: 'PT30M' } } })],
    });
    expect(lines).toEqual(['resources[1].policy.custom.max: must be at least custom.min (PT1H)']);
  });

  it('checks group policies against the merged resource policy', () => {
    const lines = issuesOf({
      groups: { support: ['bob@example.com'] },
      resources: [
        resource({
          policy: { custom: { min: 'P1D' } },
          groupPolicies: { support: { custom: { max: 'PT8H' } } },
        }),
      ],
    });
    expect(lines).toEqual([
      'resources[0].groupPolicies.support.custom.max: must be at least custom.min (P1D)',
    ]);
  });

  it('refuses an empty durations list when custom is off', () => {
    expect(issuesOf({ resources: [resource({ policy: { custom: false, durations: [] } })] })).toEqual([
      'resources[0].policy.durations: must list at least one duration when custom is false',
    ]);
  });

  it('names an unknown key, suggesting the likely spelling', () => {
    expect(issuesOf({ resources: [resource({ polcy: {} })] })).toEqual([
      'resources[0].polcy: unknown key (did you mean "policy"?)',
    ]);
    expect(issuesOf({ defaults: { remind: 'PT1H' }, resources: [resource()] })).toEqual([
      'defaults.remind: unknown key',
    ]);
  });

  it('names an unknown group wherever one is referenced', () => {
    const lines = issuesOf({
      groups: { support: ['bob@example.com'] },
      admins: ['admins'],
      resources: [resource({ requesters: ['suport'], groupPolicies: { sre: { approval: 'auto' } } })],
    });
    expect(lines).toEqual([
      'admins[0]: unknown group "admins" (groups: support)',
      'resources[0].requesters[0]: unknown group "suport" (groups: support)',
      'resources[0].groupPolicies.sre: unknown group "sre" (groups: support)',
    ]);
  });

  it('refuses an invalid duration', () => {
    expect(issuesOf({ defaults: { durations: ['PT4H', '4h'] }, resources: [resource()] })).toEqual([
      'defaults.durations[1]: "4h" is not a positive ISO-8601 duration (e.g. PT4H, P1D, P1W)',
    ]);
    expect(
      issuesOf({
        resources: [resource({ policy: { durations: [{ duration: 'P1W', remindBefore: 'P0D' }] } })],
      }),
    ).toEqual([
      'resources[0].policy.durations[0].remindBefore: "P0D" is not a positive ISO-8601 duration (e.g. PT4H, P1D, P1W)',
    ]);
  });

  it('refuses duplicate resource ids and names', () => {
    expect(issuesOf({ resources: [resource(), resource({ name: 'Second' })] })).toEqual([
      'resources[1].id: duplicate id "acme-prod" (also resources[0])',
    ]);
    expect(issuesOf({ resources: [resource(), resource({ id: 'b', name: 'ACME PROD' })] })).toEqual([
      'resources[1].name: duplicate name "ACME PROD" (also resources[0])',
    ]);
  });

  it('explains bad values in words', () => {
    const lines = issuesOf({
      resources: [
        resource({
          id: 'Acme',
          approvers: ['not an email'],
          policy: { approval: 'sometimes', custom: 3 },
          connector: { type: 'ftp' },
        }),
        resource({ id: 'b', name: 'B', connector: { type: 'webhook', url: 'ftp://x', secretEnv: 'lower' } }),
      ],
    });
    expect(lines).toEqual([
      'resources[0].id: must start with a lower-case letter or digit and use only a-z 0-9 . _ -',
      'resources[0].approvers[0]: "not an email" is neither an email address nor a group name',
      'resources[0].policy.custom: must be true or false or a mapping',
      'resources[0].policy.approval: must be manual or auto',
      'resources[0].connector.type: must be one of: webhook, slack-usergroup, log',
      'resources[1].connector.url: must be an http:// or https:// URL',
      'resources[1].connector.secretEnv: must be the name of an environment variable (upper case, digits, _)',
    ]);
  });

  it('says what is missing', () => {
    expect(issuesOf({ resources: [{ id: 'a' }] })).toEqual([
      'resources[0].name: is required',
      'resources[0].approvers: is required',
    ]);
    expect(issuesOf(null)).toEqual(['the access config must be a YAML mapping with a resources: list']);
  });
});

describe('people', () => {
  const config = parse({
    groups: { support: ['bob@example.com', 'carol@example.com'], leads: ['alice@example.com'] },
    admins: ['leads'],
    resources: [
      resource({
        id: 'a',
        name: 'A',
        approvers: ['leads', 'Dave@Example.com', 'bob@example.com'],
        requesters: ['support'],
      }),
      resource({ id: 'b', name: 'B', requesters: ['Erin@Example.com'], owners: ['dave@example.com'] }),
      resource({ id: 'c', name: 'Cee' }),
    ],
  });
  const [a, b, c] = config.resources as [ResourceConfig, ResourceConfig, ResourceConfig];

  it('expands groups in approvers to lower-case emails', () => {
    expect(a.approvers).toEqual(['alice@example.com', 'dave@example.com', 'bob@example.com']);
  });

  it('excludes the requester from the eligible approvers', () => {
    expect(eligibleApprovers(a, 'BOB@example.com')).toEqual(['alice@example.com', 'dave@example.com']);
    expect(eligibleApprovers(a, 'erin@example.com')).toEqual(a.approvers);
  });

  it('lets group members, listed emails, or everyone request', () => {
    expect(canRequest(config, a, 'carol@example.com')).toBe(true);
    expect(canRequest(config, a, 'erin@example.com')).toBe(false);
    expect(canRequest(config, b, 'erin@example.com')).toBe(true);
    expect(canRequest(config, b, 'bob@example.com')).toBe(false);
    expect(canRequest(config, c, 'anyone@example.com')).toBe(true);
    expect(requestableResources(config, 'bob@example.com').map((r) => r.id)).toEqual(['a', 'c']);
  });

  it('lets admins administer every resource and owners their own', () => {
    expect(isAdmin(config, 'Alice@example.com')).toBe(true);
    expect(canAdminister(config, c, 'alice@example.com')).toBe(true);
    expect(canAdminister(config, b, 'dave@example.com')).toBe(true);
    expect(canAdminister(config, a, 'dave@example.com')).toBe(false);
  });

  it('takes an email with capitals or spaces, in the file or in a query, for the same person', () => {
    const spaced = parse({
      groups: { ops: [' Olga@Example.com '] },
      admins: ['  Root@Example.COM'],
      resources: [resource({ id: 'd', name: 'D', approvers: ['ops'], requesters: [' Pat@Example.com'] })],
    });
    const [d] = spaced.resources as [ResourceConfig];
    expect(d.approvers).toEqual(['olga@example.com']);
    expect(spaced.admins).toEqual(['root@example.com']);
    expect(canRequest(spaced, d, 'PAT@example.com ')).toBe(true);
    expect(isAdmin(spaced, ' root@example.com')).toBe(true);
    expect(eligibleApprovers(d, ' OLGA@example.com')).toEqual([]);
  });

  it('finds a resource by id or by name ignoring case', () => {
    expect(findResource(config, 'b')).toBe(b);
    expect(findResource(config, 'cee')).toBe(c);
    expect(findResource(config, 'nope')).toBeUndefined();
  });
});

describe('checkDuration', () => {
  const policy: EffectivePolicy = {
    approvalWindow: 'P2D',
    durations: [
      { duration: 'PT4H', remindBefore: 'PT30M' },
      { duration: 'P1W', remindBefore: 'P1D' },
    ],
    custom: { min: 'PT1H', max: 'P3D' },
    remindBefore: 'PT30M',
    approval: 'manual',
    extensions: true,
    justificationTemplates: [],
  };

  it('accepts a quick option with its own reminder, matching by length', () => {
    expect(checkDuration(policy, 'P7D')).toEqual({ ok: true, remindBefore: 'P1D' });
    expect(durationOption(policy, 'PT240M')).toEqual({ duration: 'PT4H', remindBefore: 'PT30M' });
  });

  it('still allows a quick option outside the custom range', () => {
    expect(checkDuration(policy, 'P1W').ok).toBe(true);
  });

  it('accepts a custom duration within bounds with the policy reminder', () => {
    expect(checkDuration(policy, 'P2D')).toEqual({ ok: true, remindBefore: 'PT30M' });
    expect(checkDuration(policy, 'PT1H')).toEqual({ ok: true, remindBefore: 'PT30M' });
  });

  it('refuses a custom duration outside the bounds, naming them', () => {
    expect(checkDuration(policy, 'P4D')).toEqual({
      ok: false,
      message: 'Choose a duration between 1 hour and 3 days.',
    });
    expect(checkDuration(policy, 'PT30M').ok).toBe(false);
    expect(checkDuration(policy, 'garbage').ok).toBe(false);
  });

  it('lists the quick options when custom is off', () => {
    const quick: EffectivePolicy = {
      ...policy,
      custom: false,
      durations: [
        { duration: 'PT4H', remindBefore: 'PT30M' },
        { duration: 'PT8H', remindBefore: 'PT30M' },
      ],
    };
    expect(checkDuration(quick, 'PT8H').ok).toBe(true);
    expect(checkDuration(quick, 'PT6H')).toEqual({ ok: false, message: 'Choose one of: 4 hours, 8 hours.' });
  });
});

describe('owner control and notifications in the policy file', () => {
  it('starts a resource switched off only with ownerControlled: true, and keeps its owners', () => {
    const config = parse({
      resources: [
        resource({ owners: ['Dave@Example.com'], ownerControlled: true }),
        resource({ id: 'other', name: 'Other' }),
      ],
    });
    expect(config.resources.map((r) => [r.id, r.ownerControlled, r.owners])).toEqual([
      ['acme-prod', true, ['dave@example.com']],
      ['other', false, []],
    ]);
  });

  it('refuses an ownerControlled that is not true or false', () => {
    expect(issuesOf({ resources: [resource({ ownerControlled: 'yes' })] })).toEqual([
      'resources[0].ownerControlled: must be true or false',
    ]);
  });

  it('reads an optional notifications webhook, and names what is wrong with one', () => {
    expect(parse({ resources: [resource()] }).notifications).toEqual({});
    const hook = { url: 'https://tickets.example.com/jit', secretEnv: 'TICKETS_SECRET' };
    expect(parse({ resources: [resource()], notifications: { webhook: hook } }).notifications).toEqual({
      webhook: hook,
    });
    expect(
      issuesOf({
        resources: [resource()],
        notifications: { webhook: { url: 'ftp://x', secretEnv: 'lower' }, email: 'x' },
      }),
    ).toEqual([
      'notifications.webhook.url: must be an http:// or https:// URL',
      'notifications.webhook.secretEnv: must be the name of an environment variable (upper case, digits, _)',
      'notifications.email: unknown key',
    ]);
  });
});

describe('the chat section: where people are reached first', () => {
  it('reaches people where the bot last saw them unless the file says otherwise', () => {
    expect(parse({ resources: [resource()] }).chat).toEqual({ prefer: 'last-seen' });
    expect(parse({ chat: {}, resources: [resource()] }).chat).toEqual({ prefer: 'last-seen' });
    for (const prefer of ['slack', 'teams', 'last-seen'] as const) {
      expect(parse({ chat: { prefer }, resources: [resource()] }).chat).toEqual({ prefer });
    }
  });

  it('names a wrong preference and an unknown key by their path', () => {
    expect(issuesOf({ chat: { prefer: 'email' }, resources: [resource()] })).toEqual([
      'chat.prefer: must be slack or teams or last-seen',
    ]);
    expect(issuesOf({ chat: { prefered: 'slack' }, resources: [resource()] })).toEqual([
      'chat.prefered: unknown key (did you mean "prefer"?)',
    ]);
  });
});
