/**
 * The deployment files (Dockerfile, compose.yaml, deploy/k8s/*.yaml) checked offline: they parse,
 * and they name the app's real port, health paths, entry point and environment variables, so a
 * rename in the code cannot leave them pointing at something that no longer exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { PRODUCTION_NODE_OPTIONS } from '../../bench/lib/app-launch.js';
import { DEFAULT_PORT, DEFAULT_SHUTDOWN_TIMEOUT_MS, ENV_NAMES } from '../../src/config.js';

const read = (path: string) => readFileSync(path, 'utf8');
type Obj = Record<string, unknown>;
const K8S = 'deploy/k8s';
const k8sDocs = () =>
  readdirSync(K8S)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(read(`${K8S}/${f}`)).map((d) => ({ file: f, doc: d.toJS() as Obj })));
/** An env name the app reads, or a connector secret named in the policy (`secretEnv`, ends in _SECRET). */
const known = (name: string) => ENV_NAMES.includes(name) || /_SECRET$/.test(name);

describe('the Dockerfile', () => {
  const lines = read('Dockerfile')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('builds in one stage and runs from another, as a user other than root', () => {
    expect(lines.filter((l) => /^FROM /.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => / AS build$/.test(l))).toBe(true);
    const runtime = lines.slice(lines.findLastIndex((l) => /^FROM /.test(l)));
    expect(runtime.some((l) => /^COPY --from=build .*\/app\/dist/.test(l))).toBe(true);
    const user = runtime.filter((l) => /^USER /.test(l)).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)\b/);
    // No compiler or test tools in the image: devDependencies are pruned before the copy.
    expect(lines.some((l) => /npm prune --omit=dev/.test(l))).toBe(true);
  });

  it('exposes the default port, checks /healthz and starts `node dist/main.js`, whose source exists', () => {
    expect(lines).toContain(`EXPOSE ${DEFAULT_PORT}`);
    expect(lines.some((l) => l.includes(`PORT=${DEFAULT_PORT}`))).toBe(true);
    expect(lines.some((l) => /HEALTHCHECK|\/healthz/.test(l) && l.includes('/healthz'))).toBe(true);
    // The command the issue names; test/process/startup.test.ts runs it and sees the app serve.
    expect(lines).toContain('CMD ["node", "dist/main.js"]');
    expect(existsSync('src/main.ts')).toBe(true);
    for (const path of ['src', 'tsconfig.build.json', 'access.example.yaml', 'manifests']) {
      expect(existsSync(path), path).toBe(true);
    }
    for (const env of lines.filter((l) => /^ENV /.test(l) || /^\s+[A-Z_]+=/.test(l))) {
      for (const [, name] of env.matchAll(/(?:^|\s)([A-Za-z_]+)=/g)) {
        if (['NODE_ENV', 'NODE_OPTIONS', 'MONGOMS_DISABLE_POSTINSTALL'].includes(name ?? '')) continue;
        expect(known(name!), name).toBe(true);
      }
    }
  });
});

describe('the Node options production runs with', () => {
  it('are the same in the image, in `npm start` and in the benchmarks', () => {
    const dockerfile = read('Dockerfile');
    const env = dockerfile.match(/^\s*NODE_OPTIONS=(\S+)/m)?.[1];
    expect(env?.split(/\s+/)).toEqual(PRODUCTION_NODE_OPTIONS);
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toBe(`node ${PRODUCTION_NODE_OPTIONS.join(' ')} dist/cli.js start`);
    // Node takes them from NODE_OPTIONS (it refuses options it does not allow there).
    const run = spawnSync(process.execPath, ['-e', ''], {
      env: { ...process.env, NODE_OPTIONS: env ?? '' },
      encoding: 'utf8',
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });
});

describe('compose.yaml', () => {
  const compose = parseYaml(read('compose.yaml'), { merge: true }) as { services: Record<string, Obj> };

  it('runs two instances of the bot on one MongoDB replica set, each on the app’s port', () => {
    const bots = Object.entries(compose.services).filter(([name]) => name.startsWith('bot'));
    expect(bots.length).toBeGreaterThanOrEqual(2);
    const mongo = compose.services.mongo!;
    expect(String(mongo.command)).toContain('--replSet');
    for (const [name, bot] of bots) {
      const env = bot.environment as Record<string, string>;
      expect(env.MONGODB_URI, name).toMatch(/^mongodb:\/\/mongo:27017\/\w+\?replicaSet=rs0$/);
      expect(Number(env.PORT), name).toBe(DEFAULT_PORT);
      expect(
        (bot.ports as string[]).every((p) => p.endsWith(`:${DEFAULT_PORT}`)),
        name,
      ).toBe(true);
      for (const key of Object.keys(env)) expect(known(key), `${name}: ${key}`).toBe(true);
      // Docker waits longer than the app's own shutdown before it kills it.
      expect(Number.parseInt(String(bot.stop_grace_period), 10) * 1000).toBeGreaterThan(
        Number(env.SHUTDOWN_TIMEOUT_MS ?? DEFAULT_SHUTDOWN_TIMEOUT_MS),
      );
    }
  });
});

describe('the Kubernetes manifests', () => {
  it('parse, and each has a kind, a name and the app’s label', () => {
    const docs = k8sDocs();
    expect(docs.map((d) => d.doc.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Secret',
      'Service',
    ]);
    for (const { file, doc } of docs) {
      const meta = doc.metadata as { name: string; labels: Obj };
      expect(meta.name, file).toBe(
        meta.name === 'jit-access-bot-policy' ? 'jit-access-bot-policy' : 'jit-access-bot',
      );
      expect(meta.labels['app.kubernetes.io/name'], file).toBe('jit-access-bot');
    }
  });

  it('probe /healthz and /readyz on the port the app listens on, and outwait its shutdown', () => {
    const deployment = k8sDocs().find((d) => d.doc.kind === 'Deployment')!.doc as {
      spec: { replicas: number; template: { spec: Obj } };
    };
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const pod = deployment.spec.template.spec as {
      terminationGracePeriodSeconds: number;
      containers: Array<Obj>;
      securityContext: Obj;
    };
    const [bot] = pod.containers as Array<{
      args: string[];
      ports: Array<{ name: string; containerPort: number }>;
      env: Array<{ name: string; value: string }>;
      livenessProbe: { httpGet: { path: string; port: string } };
      readinessProbe: { httpGet: { path: string; port: string } };
      startupProbe: { httpGet: { path: string; port: string } };
    }>;
    expect(bot!.args).toEqual(['node', 'dist/main.js']);
    expect(bot!.ports).toEqual([{ name: 'http', containerPort: DEFAULT_PORT }]);
    expect(bot!.env.find((e) => e.name === 'PORT')?.value).toBe(String(DEFAULT_PORT));
    expect(bot!.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(bot!.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(bot!.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    for (const { name } of bot!.env) expect(known(name), name).toBe(true);
    const timeout = Number(bot!.env.find((e) => e.name === 'SHUTDOWN_TIMEOUT_MS')?.value);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(timeout + 5000); // + preStop
    expect(pod.securityContext.runAsNonRoot).toBe(true);
  });

  it('name in the example secret only variables the app reads (or connector secrets)', () => {
    const secret = k8sDocs().find((d) => d.doc.kind === 'Secret')!.doc as { stringData: Obj };
    for (const key of Object.keys(secret.stringData)) expect(known(key), key).toBe(true);
    expect(String(secret.stringData.MONGODB_URI)).toContain('replicaSet=');
  });

  it('carry a policy file that the app’s own checks accept', async () => {
    const { parseAccessConfig } = await import('../../src/domain/policy.js');
    const config = k8sDocs().find((d) => d.doc.kind === 'ConfigMap')!.doc as { data: Record<string, string> };
    expect(() => parseAccessConfig(parseYaml(config.data['access.yaml']!))).not.toThrow();
  });
});

describe('docs/deploy.md', () => {
  it('names the real health, readiness, metrics and chat paths', async () => {
    const text = read('docs/deploy.md');
    const { SLACK_EVENTS_PATH } = await import('../../src/bot/slack/app.js');
    const { TEAMS_MESSAGES_PATH } = await import('../../src/bot/teams/adapter.js');
    for (const path of ['/healthz', '/readyz', '/metrics', SLACK_EVENTS_PATH, TEAMS_MESSAGES_PATH]) {
      expect(text, path).toContain(path);
    }
    for (const name of ['MONGODB_URI', 'SHUTDOWN_TIMEOUT_MS', 'PORT']) expect(text).toContain(name);
  });
});
