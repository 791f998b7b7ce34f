/**
 * Reloading the policy file while the app runs (the function SIGHUP calls, and the file watch):
 * a good file is put in force, connectors included; a bad one is refused with a log line and the
 * previous policy stays. The real SIGHUP is in test/process/reload.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPolicyReloader, type PolicyReloader } from '../../src/policy-reload.js';
import { collectText } from '../support/fake-slack.js';
import { eventually, openForm } from '../support/flows.js';
import { HOOK_SECRET, startTestSystem, TEST_POLICY, type TestSystem, USERS } from '../support/system.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const NEW_RESOURCE = `
  - id: new-box
    name: Brand new box
    approvers: [alice@example.com]
    connector: { type: log }
`;

let t: TestSystem;
let dir: string;
let file: string;
let reloader: PolicyReloader;
let lines: Array<{ level: 'info' | 'warn' | 'error'; obj: Record<string, unknown>; msg: string }>;
let second: WebhookReceiver | null;

const policyText = (extra = '') => TEST_POLICY.replaceAll('{{HOOK}}', t.hooks.url) + extra;

beforeEach(async () => {
  t = await startTestSystem();
  second = null;
  dir = await mkdtemp(path.join(tmpdir(), 'jit-reload-'));
  file = path.join(dir, 'access.yaml');
  await writeFile(file, policyText());
  lines = [];
  const record = (level: 'info' | 'warn' | 'error') => (obj: object, msg?: string) =>
    lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
  reloader = createPolicyReloader({
    path: file,
    env: { HOOK_SECRET },
    apply: (access) => t.system.applyPolicy(access),
    log: { info: record('info'), warn: record('warn'), error: record('error') },
    debounceMs: 50,
  });
});

afterEach(async () => {
  reloader.close();
  await t.close();
  await second?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('reloading the policy file', () => {
  it('puts a good file in force: a resource added to it can be requested at once', async () => {
    expect(t.system.service.findResource('new-box')).toBeUndefined();
    await writeFile(file, policyText(NEW_RESOURCE));
    expect(await reloader.reload('SIGHUP')).toBe(true);
    expect(lines.find((l) => l.msg === 'policy.reloaded')?.obj).toMatchObject({
      reason: 'SIGHUP',
      resources: 4,
    });
    const view = await openForm(t, USERS.erin, 'new-box');
    expect(collectText(view.blocks)).toContain('Brand new box');
  });

  it('refuses a bad file with a log line naming the problem, and the previous policy stays in force', async () => {
    await writeFile(file, policyText().replace('approvalWindow: PT1H', 'approvalWindow: soon'));
    expect(await reloader.reload('SIGHUP')).toBe(false);
    const refused = lines.find((l) => l.msg.startsWith('policy.reload_refused'));
    expect(refused?.level).toBe('error');
    expect(refused?.msg).toContain('defaults.approvalWindow: "soon" is not a positive ISO-8601 duration');
    expect(refused?.msg).toContain('the previous policy stays in force');
    // Still the old policy: staging-db is requestable, and the form opens for it.
    const view = await openForm(t, USERS.erin, 'staging-db');
    expect(collectText(view.blocks)).toContain('Staging database');
  });

  it('refuses a file whose webhook secret is not set, keeping the previous connectors', async () => {
    await writeFile(file, policyText().replace('secretEnv: HOOK_SECRET', 'secretEnv: MISSING_SECRET'));
    expect(await reloader.reload('SIGHUP')).toBe(false);
    expect(lines.find((l) => l.msg.startsWith('policy.reload_refused'))?.msg).toContain(
      'environment variable MISSING_SECRET is not set',
    );
  });

  it('moves connectors with the file: after the reload a grant is provisioned at the new webhook', async () => {
    second = await startWebhookReceiver({ secret: HOOK_SECRET, now: () => t.clock.now() });
    const moved = policyText().replace(
      `name: Staging database
    approvers: [alice@example.com]
    policy: { approval: auto, durations: [PT1H, PT4H] }
    connector: { type: webhook, url: "${t.hooks.url}"`,
      `name: Staging database
    approvers: [alice@example.com]
    policy: { approval: auto, durations: [PT1H, PT4H] }
    connector: { type: webhook, url: "${second.url}"`,
    );
    expect(moved).not.toBe(policyText());
    await writeFile(file, moved);
    expect(await reloader.reload('SIGHUP')).toBe(true);
    await t.system.service.submit({
      requester: { email: USERS.erin.email, name: USERS.erin.realName },
      resourceId: 'staging-db',
      approvers: [],
      duration: 'PT1H',
      justification: 'Deploy',
      submissionKey: 'reload-test',
    });
    await eventually(() =>
      expect(second?.calls.map((c) => (c.body as { event: string }).event)).toEqual(['grant.activated']),
    );
    expect(t.hooks.calls).toHaveLength(0);
  });

  it('reloads by itself when the file changes, and ignores a change that leaves the text as it was', async () => {
    reloader.watch();
    await writeFile(file, policyText());
    await writeFile(file, policyText(NEW_RESOURCE));
    await eventually(() => expect(t.system.service.findResource('new-box')?.name).toBe('Brand new box'));
    expect(lines.filter((l) => l.msg === 'policy.reloaded').map((l) => l.obj.reason)).toEqual([
      'file changed',
    ]);
  });
});
