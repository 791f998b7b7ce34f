/**
 * Reloading the policy file while the app runs (the function SIGHUP calls, and the file watch):
 * a good file is put in force, connectors included; a bad one is refused with a log line and the
 * previous policy stays. The real SIGHUP is in test/process/reload.test.ts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createPolicyReloader, type PolicyReloader } from '../../src/policy-reload.js';
import { collectText } from '../support/fake-slack.js';
import { click, eventually, hasButton, openForm, requestAccess, waitForDm } from '../support/flows.js';
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
/** What the app itself logged (JSON lines). */
let appLog: Array<Record<string, unknown>>;

const policyText = (extra = '') => TEST_POLICY.replaceAll('{{HOOK}}', t.hooks.url) + extra;

beforeEach(async () => {
  appLog = [];
  const log = createLogger('info', { write: (line: string) => void appLog.push(JSON.parse(line)) });
  t = await startTestSystem({ log });
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

  it('closes a resource the new file makes owner-controlled at once: grants revoked, waiting requests closed', async () => {
    const { alice, bob, carol } = USERS;
    await requestAccess(t, bob, { approvers: [alice.email] });
    await click(
      t,
      alice,
      await waitForDm(t, alice, `${bob.realName} requests access`),
      'jit.request.approve',
    );
    const grant = await eventually(async () => {
      const [active] = await t.store.repos.grants.list({ status: 'active' });
      expect(active).toBeDefined();
      return active!;
    });
    await requestAccess(t, carol, { approvers: [alice.email] });
    const card = await waitForDm(t, alice, `${carol.realName} requests access`);
    await t.delivered();

    await writeFile(
      file,
      policyText().replace(
        'name: Acme Corp — production tenant\n',
        'name: Acme Corp — production tenant\n    owners: [erin@example.com]\n    ownerControlled: true\n',
      ),
    );
    expect(await reloader.reload('SIGHUP')).toBe(true);
    // At once, exactly as if an owner had switched it off (by the system: no owner did).
    expect(await t.store.repos.grants.get(grant.id)).toMatchObject({
      endReason: 'closed-by-owner',
      endedBy: 'system',
    });
    const [closed] = await t.store.repos.requests.list({ requesterEmail: carol.email });
    expect(closed).toMatchObject({
      status: 'cancelled',
      closedReason: 'closed-by-owner',
      decidedBy: 'system',
    });
    await eventually(() =>
      expect(t.hooks.calls.map((c) => (c.body as { event: string }).event)).toEqual([
        'grant.activated',
        'grant.revoked',
      ]),
    );
    await t.delivered();
    const shown = t.fake.message(t.fake.dmChannelFor(alice.id), card.ts as string);
    expect(collectText(shown?.blocks)).toContain("the resource's owners closed access to it");
    expect(hasButton(shown, 'jit.request.approve')).toBe(false);
    await waitForDm(t, carol, 'controlled by its owners, who have not switched on just-in-time access yet');
  });

  it('keeps a grant of a resource the new file removed until it ends, logged, then revokes it through the old connector', async () => {
    await t.system.service.submit({
      requester: { email: USERS.erin.email, name: USERS.erin.realName },
      resourceId: 'staging-db',
      approvers: [],
      duration: 'PT1H',
      justification: 'Deploy',
      submissionKey: 'removed-resource',
    });
    const grant = await eventually(async () => {
      const [active] = await t.store.repos.grants.list({ status: 'active' });
      expect(active).toBeDefined();
      return active!;
    });
    const removed = policyText().replace(/ {2}- id: staging-db\n(?: {4}.*\n)+/, '');
    expect(removed).not.toContain('staging-db');
    await writeFile(file, removed);
    expect(await reloader.reload('SIGHUP')).toBe(true);
    expect(t.system.service.findResource('staging-db')).toBeUndefined();
    expect((await t.store.repos.grants.get(grant.id))?.status).toBe('active');
    const missing = appLog.find((l) => String(l.msg).startsWith('grant.resource_missing'));
    expect(missing).toMatchObject({ grantId: grant.id, resourceId: 'staging-db', level: 50 });
    expect(String(missing?.msg)).toContain('revoked through the connector the previous file named');

    await t.runner.advance(61 * 60_000);
    await eventually(async () => expect((await t.store.repos.grants.get(grant.id))?.status).toBe('expired'));
    const revoked = t.hooks.calls.filter((c) => (c.body as { event: string }).event === 'grant.revoked');
    expect(revoked.map((c) => (c.body as { grant: { id: string } }).grant.id)).toEqual([grant.id]);
  });
  it('names at start-up every open grant of a resource the file no longer has, however many grants are open', async () => {
    const now = t.clock.now().getTime();
    const grant = (n: number, resourceId: string, createdAt: number) => ({
      id: `grant-${n}`,
      requestId: `req-${n}`,
      resourceId,
      // one open grant per person and resource: each its own holder
      holder: { email: `holder-${n}@example.com`, name: `Holder ${n}` },
      duration: 'P1D',
      justification: 'incident',
      status: 'active' as const,
      createdAt: new Date(createdAt),
      startsAt: new Date(createdAt),
      expiresAt: new Date(now + 86_400_000),
      attempts: 0,
    });
    // The oldest open grant is on a resource no file names; 1,500 newer ones are on a known resource.
    await t.store.repos.grants.insert(grant(0, 'gone-box', now - 3_600_000));
    for (let n = 1; n <= 1_500; n++)
      await t.store.repos.grants.insert(grant(n, 'staging-db', now - 3_000_000 + n));
    appLog.length = 0;
    await t.restart();
    const missing = appLog.filter((l) => String(l.msg).startsWith('grant.resource_missing'));
    expect(missing.map((l) => [l.grantId, l.resourceId, l.level])).toEqual([['grant-0', 'gone-box', 50]]);
    expect(String(missing[0]?.msg)).toContain('cannot be revoked automatically');
  });
});
