/**
 * Threat: calls to the HTTP API (/api/v1) with no token, a wrong one, another scheme, or tokens
 * chosen to probe the comparison by timing (a prefix of the real one, the real one with its last
 * character changed, much shorter and much longer ones).
 * Expected refusal: 401 `{ "error": "unauthorized" }` with `WWW-Authenticate: Bearer` and nothing
 * else, the same for every wrong token; no action taken. The comparison is constant-time: both
 * sides are hashed to 32 bytes and compared with crypto.timingSafeEqual. This file checks that the
 * compare function is the one used (and that tokens of any length reach it without an error, which
 * timingSafeEqual would throw on unhashed inputs of different lengths), never how long it takes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USERS } from '../support/system.js';
import { useSystem } from './support.js';

const TOKEN = 'test-api-token-0123456789abcdef0123456789';
const sys = useSystem({ apiToken: TOKEN, publicUrl: 'https://jit.example.com' });

function api(path: string, authorization: string | null, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (authorization !== null) headers.set('authorization', authorization);
  return fetch(`http://127.0.0.1:${sys().system.port}${path}`, { ...init, headers });
}

const PATHS = ['/api/v1/access?email=bob@example.com&resource=staging-db', '/api/v1/grants', '/api/v1/nope'];

const WRONG: Array<[string, string | null]> = [
  ['no header', null],
  ['an empty bearer', 'Bearer '],
  ['a wrong token', 'Bearer wrong'],
  ['the token with one more character', `Bearer ${TOKEN}x`],
  ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
  ['the first character only', `Bearer ${TOKEN[0]}`],
  ['the token with its last character changed', `Bearer ${TOKEN.slice(0, -1)}0`],
  ['the token with its first character changed', `Bearer X${TOKEN.slice(1)}`],
  ['a token of 8 KB', `Bearer ${'a'.repeat(8000)}`],
  ['another scheme', `Basic ${TOKEN}`],
  ['the token without a scheme', TOKEN],
  ['two tokens', `Bearer ${TOKEN} ${TOKEN}`],
];

describe('API tokens', () => {
  it.each(WRONG)('answers %s with the same 401 and nothing more', async (_what, authorization) => {
    for (const path of PATHS) {
      const res = await api(path, authorization);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toEqual({ error: 'unauthorized' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    const revoke = await api('/api/v1/grants/g1/revoke', authorization, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'x' }),
    });
    expect(revoke.status).toBe(401);
    const used = await api('/api/v1/access-events', authorization, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: USERS.bob.email, resource: 'staging-db' }),
    });
    expect(used.status).toBe(401);
    expect(await sys().store.repos.audit.list({})).toEqual([]);
  });

  it('takes the token, so the refusals above are the token’s', async () => {
    expect((await api('/api/v1/grants', `Bearer ${TOKEN}`)).status).toBe(200);
    expect((await api('/api/v1/grants', `bearer  ${TOKEN}`)).status).toBe(200);
    expect((await api('/api/v1/nope', `Bearer ${TOKEN}`)).status).toBe(404);
  });
});

describe('the comparison', () => {
  const src = (path: string) => readFileSync(join(import.meta.dirname, '../../src', path), 'utf8');

  it('is crypto.timingSafeEqual over fixed-length digests of both sides', () => {
    const auth = src('http/api/auth.ts');
    expect(auth).toMatch(/import \{[^}]*timingSafeEqual[^}]*\} from 'node:crypto'/);
    expect(auth).toMatch(/createHash\('sha256'\)\s*\.update\(match\?\.\[1\] \?\? ''\)/);
    expect(auth).toMatch(/createHash\('sha256'\)\.update\(token\)/);
    expect(auth).toMatch(/timingSafeEqual\(sent, expected\)/);
    // No early exit on the token's content or length before the compare.
    expect(auth).not.toMatch(/token\s*(===|!==|==|!=)|\.length\s*(===|!==)/);
  });

  it('is the only way the API token is checked: every use of it in src goes through bearerMatches', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk(join(import.meta.dirname, '../../src/http'));
    const comparisons = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => /\btoken\b/.test(line) && /(===|!==|==|!=|startsWith|includes)/.test(line))
        .filter((line) => !/typeof|\?\?|\.length ===? 0/.test(line))
        .map((line) => `${file}: ${line.trim()}`),
    );
    // Only the signed report link compares anything token-like, and it uses timingSafeEqual too.
    expect(comparisons.filter((l) => !l.includes('report-download'))).toEqual([]);
    expect(src('http/api/routes.ts')).toMatch(/if \(!bearerMatches\(req, deps\.token\)\)/);
    expect(src('core/signed-tokens.ts')).toMatch(/timingSafeEqual\(given, expected\)/);
    expect(src('core/reports/links.ts')).toMatch(/new SignedTokens\('report-link'/);
  });
});
