/**
 * Threat: a policy file with unknown keys (a misspelt `aprovers:` that silently drops a rule, a
 * key from another tool, a `__proto__` or `constructor` key aimed at the loader) or values of the
 * wrong type (a number for an email, a string for a list, a mapping for a duration, a YAML
 * anchor bomb). A policy that loads but means something else is the quietest way to let someone in.
 * Expected refusal: the file does not load; every problem is listed by path with a sentence, and
 * `jit-access-bot check-config` (the same loader `start` uses) exits non-zero with those lines.
 * Durations are in durations.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkConfig } from '../../src/check-config.js';
import { loadAccessConfig } from '../../src/config.js';
import { ConfigError } from '../../src/domain/policy.js';

const dir = mkdtempSync(join(tmpdir(), 'jit-policy-'));
let n = 0;
function file(text: string): string {
  const path = join(dir, `policy-${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

const resource = (over: Record<string, unknown> = {}) => ({
  id: 'acme-prod',
  name: 'Acme prod',
  approvers: ['alice@example.com'],
  connector: { type: 'log' },
  ...over,
});

/** The problems the loader `start` uses reports for `text`, one line each; [] when it loads. */
function problems(text: string): string[] {
  try {
    loadAccessConfig(file(text), {});
    return [];
  } catch (e) {
    if (e instanceof ConfigError)
      return e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    throw e;
  }
}

describe('unknown keys in the policy file', () => {
  it.each([
    [
      'a misspelt key at the top',
      { resources: [resource()], admin: ['x@example.com'] },
      /^admin: unknown key/,
    ],
    [
      'a misspelt key in a resource',
      { resources: [resource({ aprovers: ['x@example.com'] })] },
      /^resources\[0\]\.aprovers: unknown key/,
    ],
    [
      'a key from another tool in a policy',
      { resources: [resource({ policy: { mfa: true } })] },
      /^resources\[0\]\.policy\.mfa: unknown key/,
    ],
    [
      'an unknown key in defaults',
      { defaults: { approvalWindw: 'PT1H' }, resources: [resource()] },
      /^defaults\.approvalWindw: unknown key/,
    ],
    [
      'an unknown key in a connector',
      { resources: [resource({ connector: { type: 'log', url: 'http://x' } })] },
      /^resources\[0\]\.connector\.url: unknown key/,
    ],
  ])('refuses %s, naming it', (_what, policy, expected) => {
    const lines = problems(stringify(policy));
    expect(lines.length).toBeGreaterThan(0);
    expect(
      lines.some((l) => expected.test(l)),
      lines.join('\n'),
    ).toBe(true);
  });

  it('refuses __proto__ and constructor keys instead of letting them reach an object', () => {
    const text = `
__proto__: { admins: [mallory@example.com] }
constructor: { prototype: { admins: [mallory@example.com] } }
resources:
  - id: acme-prod
    name: Acme prod
    approvers: [alice@example.com]
    __proto__: { requesters: [mallory@example.com] }
`;
    const lines = problems(text);
    expect(lines).toEqual(
      expect.arrayContaining([expect.stringMatching(/__proto__/), expect.stringMatching(/constructor/)]),
    );
    expect(({} as { admins?: unknown }).admins).toBeUndefined();
  });
});

describe('wrong types in the policy file', () => {
  it.each([
    ['a number for an approver', { resources: [resource({ approvers: [42] })] }],
    ['a string for the approvers list', { resources: [resource({ approvers: 'alice@example.com' })] }],
    ['a mapping for a duration', { resources: [resource({ policy: { approvalWindow: { hours: 1 } } })] }],
    ['a list for the name', { resources: [resource({ name: ['A', 'B'] })] }],
    ['a string for custom', { resources: [resource({ policy: { custom: 'yes' } })] }],
    ['a number for extensions', { resources: [resource({ policy: { extensions: 1 } })] }],
    ['a mapping for resources', { resources: { 'acme-prod': resource() } }],
    ['null for a resource', { resources: [null] }],
    ['a boolean for a group member', { groups: { sre: [true] }, resources: [resource()] }],
  ])('refuses %s with a sentence at its path', (_what, policy) => {
    const lines = problems(stringify(policy));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^[a-z][\w.[\]]*: .+|^the access config/);
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
      'f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]',
      'resources: []',
    ].join('\n');
    // A clear configuration error (what `start` prints before exiting), not a crash.
    expect(problems(bomb)).toEqual([
      expect.stringMatching(/^ACCESS_CONFIG: .* could not be read: Excessive alias count/),
    ]);
  });

  it('makes check-config fail with the same lines, so CI stops the change', () => {
    const path = file(stringify({ resources: [resource({ aprovers: ['x@example.com'], approvers: [42] })] }));
    const result = checkConfig(path, { requireSecrets: false });
    expect(result.ok).toBe(false);
    expect(result.stderr.join('\n')).toMatch(/resources\[0\]\.aprovers: unknown key/);
    expect(result.stderr.join('\n')).toMatch(/resources\[0\]\.approvers\[0\]/);
  });
});
