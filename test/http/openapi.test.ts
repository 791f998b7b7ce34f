/**
 * docs/openapi.yaml is a valid OpenAPI 3.1 document and describes exactly the /api/v1 routes the
 * app's server registers, in both directions.
 */
import { readFileSync } from 'node:fs';
import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventually, requestAccess } from '../support/flows.js';
import { startTestSystem, type TestSystem, USERS } from '../support/system.js';

const DOC = 'docs/openapi.yaml';
const doc = parse(readFileSync(DOC, 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
};
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

const TOKEN = 'openapi-test-token-0123456789abcdef0123';
let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem({ apiToken: TOKEN });
});
afterAll(async () => {
  await t.close();
});

describe(DOC, () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('is refused when broken, so the validation really checks', async () => {
    const broken = structuredClone(doc) as {
      paths: Record<string, Record<string, { parameters?: Array<Record<string, unknown>> }>>;
    };
    const param = broken.paths['/api/v1/access']?.get?.parameters?.[0];
    if (param) delete param.in; // a parameter must say where it goes
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('describes every /api/v1 route the server registers, and no other', () => {
    const registered = t.system
      .routes()
      .filter((r) => r.path.startsWith('/api/v1/') && !r.path.endsWith('/*'))
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((k) => METHODS.includes(k))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    expect(registered.length).toBeGreaterThan(0);
    expect(documented).toEqual(registered);
  });

  it('names the same path parameters the routes take', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        const params = ((op as { parameters?: Array<{ in: string; name: string }> }).parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name);
        expect(params, `${method} ${path}`).toEqual(inPath);
      }
    }
  });
});

type Operation = {
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
};

describe('what the API answers', () => {
  it('fits the response schemas the document gives, for each route and status', async () => {
    const api = (await dereference(structuredClone(doc) as never)) as unknown as {
      paths: Record<string, Record<string, Operation>>;
    };
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const base = `http://127.0.0.1:${t.system.port}`;
    const check = async (method: string, template: string, path: string, body?: unknown, token = TOKEN) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const op = api.paths[template]?.[method.toLowerCase()];
      const schema = op?.responses[String(res.status)]?.content?.['application/json']?.schema;
      expect(schema, `${method} ${path}: status ${res.status} is not documented`).toBeDefined();
      const validate = ajv.compile(schema as object);
      const json: unknown = await res.json();
      expect(validate(json), `${method} ${path} ${res.status}: ${JSON.stringify(validate.errors)}`).toBe(
        true,
      );
      return res.status;
    };

    const { bob, carol } = USERS;
    await requestAccess(t, bob, { resource: 'staging-db', duration: '1 hour' });
    const grant = await eventually(async () => {
      const [g] = await t.store.repos.grants.list({ holderEmail: bob.email, status: 'active' });
      if (!g) throw new Error('not active yet');
      return g;
    });
    const now = t.clock.now().toISOString();
    const access = '/api/v1/access';
    expect(await check('GET', access, `${access}?email=${bob.email}&resource=staging-db`)).toBe(200);
    expect(await check('GET', access, `${access}?email=${carol.email}&resource=staging-db`)).toBe(200);
    expect(await check('GET', access, `${access}?email=nobody`)).toBe(400);
    expect(
      await check('GET', access, `${access}?email=${bob.email}&resource=staging-db`, undefined, 'wrong'),
    ).toBe(401);
    const events = '/api/v1/access-events';
    expect(await check('POST', events, events, { email: bob.email, resource: 'staging-db', at: now })).toBe(
      201,
    );
    expect(await check('POST', events, events, { email: carol.email, resource: 'staging-db', at: now })).toBe(
      409,
    );
    expect(await check('GET', '/api/v1/grants', '/api/v1/grants?limit=5')).toBe(200);
    const revoke = '/api/v1/grants/{id}/revoke';
    expect(await check('POST', revoke, `/api/v1/grants/nope/revoke`, { reason: 'x' })).toBe(404);
    expect(await check('POST', revoke, `/api/v1/grants/${grant.id}/revoke`, { reason: 'incident' })).toBe(
      202,
    );
    await eventually(async () => {
      expect((await t.store.repos.grants.get(grant.id))?.status).toBe('revoked');
    });
    expect(await check('POST', revoke, `/api/v1/grants/${grant.id}/revoke`, { reason: 'again' })).toBe(409);
  });
});
