/**
 * docs/openapi.yaml is a valid OpenAPI 3.1 document and describes exactly the /api/v1 routes the
 * app's server registers, in both directions.
 */
import { readFileSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestSystem, type TestSystem } from '../support/system.js';

const DOC = 'docs/openapi.yaml';
const doc = parse(readFileSync(DOC, 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
};
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

let t: TestSystem;
beforeAll(async () => {
  t = await startTestSystem({ apiToken: 'openapi-test-token-0123456789abcdef0123' });
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
