/**
 * Threat: a secret written to the log (a token in a config object, an Authorization header, a
 * Slack or webhook signature), where anyone who reads the logs could reuse it.
 * Expected refusal: the process logger (src/log.ts) replaces them with "[redacted]" wherever
 * they appear in a logged object (down to eight levels), in an error's fields and in a child
 * logger's bindings, without changing the object the caller logged.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { log: createLogger('info', stream), lines };
}

const SECRET = 'xoxb-very-secret-0123456789';

describe('secrets in logs', () => {
  it.each([
    ['a token', { token: SECRET }],
    ['a secret', { secret: SECRET }],
    ['a nested bot token', { slack: { botToken: SECRET } }],
    ['a nested signing secret', { slack: { signingSecret: SECRET } }],
    ['a nested app token', { slack: { appToken: SECRET } }],
    ['the API token', { api: { apiToken: SECRET } }],
    ['the link signing secret', { reports: { linkSigningSecret: SECRET } }],
    ['an Authorization header', { headers: { authorization: `Bearer ${SECRET}` } }],
    ['a request’s Authorization header', { req: { headers: { authorization: `Bearer ${SECRET}` } } }],
    ['a Slack signature', { headers: { 'x-slack-signature': SECRET } }],
    ['a webhook signature', { headers: { 'x-jit-signature': SECRET } }],
  ])('redacts %s', (_what, fields) => {
    const { log, lines } = capture();
    log.info(fields, 'something.happened');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).toContain('[redacted]');
    expect(JSON.parse(lines[0]!).msg).toBe('something.happened');
  });
});

describe('secrets in logs, wherever they sit', () => {
  it.each([
    ['deep in a configuration', { a: { b: { c: { d: { token: SECRET } } } } }],
    ['in a list', { calls: [{ ok: true }, { headers: { authorization: `Bearer ${SECRET}` } }] }],
    ['a cookie header', { res: { headers: { cookie: SECRET } } }],
    ['a Slack signature outside headers', { verify: { 'X-Slack-Signature': SECRET } }],
    ['a Teams app password', { teams: { MicrosoftAppPassword: SECRET } }],
    [
      'in an error of another key',
      { failure: Object.assign(new Error('no'), { config: { token: SECRET } }) },
    ],
  ])('redacts %s', (_what, fields) => {
    const { log, lines } = capture();
    log.info(fields, 'something.happened');
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).toContain('[redacted]');
  });

  it('redacts an error’s fields and keeps its message and stack', () => {
    const { log, lines } = capture();
    const err = Object.assign(new Error('the call failed'), {
      code: 'E_CALL',
      request: { headers: { authorization: `Bearer ${SECRET}`, accept: 'application/json' } },
      data: { ok: false, token: SECRET },
    });
    log.error({ err, userId: 'U1' }, 'call.failed');
    expect(lines[0]).not.toContain(SECRET);
    const line = JSON.parse(lines[0]!);
    expect(line.err.message).toBe('the call failed');
    expect(line.err.stack).toContain('the call failed');
    expect(line.err.code).toBe('E_CALL');
    expect(line.err.request.headers).toEqual({ authorization: '[redacted]', accept: 'application/json' });
    expect(line.err.data).toEqual({ ok: false, token: '[redacted]' });
    expect(line.userId).toBe('U1');
    // The error itself is untouched.
    expect(err.request.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('redacts an error logged by itself', () => {
    const { log, lines } = capture();
    log.error(Object.assign(new Error('boom'), { secret: SECRET }));
    expect(lines[0]).not.toContain(SECRET);
    expect(JSON.parse(lines[0]!).err.secret).toBe('[redacted]');
  });

  it('redacts the bindings of child loggers, and of their children', () => {
    const { log, lines } = capture();
    const child = log.child({ component: 'x', token: SECRET, config: { signingSecret: SECRET } });
    child.info({ n: 1 }, 'one');
    child.child({ headers: { 'x-jit-signature': SECRET }, grantId: 'g1' }).info({ password: SECRET }, 'two');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain(SECRET);
    const [one, two] = lines.map((l) => JSON.parse(l));
    expect(one).toMatchObject({
      component: 'x',
      token: '[redacted]',
      config: { signingSecret: '[redacted]' },
      n: 1,
    });
    expect(two).toMatchObject({
      component: 'x',
      token: '[redacted]',
      headers: { 'x-jit-signature': '[redacted]' },
      grantId: 'g1',
      password: '[redacted]',
    });
  });

  it('leaves the logged object as it was, and everything that is not a secret as it is', () => {
    const { log, lines } = capture();
    const fields = {
      slack: { botToken: SECRET, team: 'T1' },
      list: [{ token: SECRET }, 'plain', 3],
      when: new Date('2026-12-03T00:00:00.000Z'),
      nothing: null,
      deep: { a: { b: { c: 'kept' } } },
    };
    const before = structuredClone(fields);
    log.info(fields, 'something.happened');
    expect(fields).toEqual(before);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      slack: { botToken: '[redacted]', team: 'T1' },
      list: [{ token: '[redacted]' }, 'plain', 3],
      when: '2026-12-03T00:00:00.000Z',
      nothing: null,
      deep: { a: { b: { c: 'kept' } } },
      msg: 'something.happened',
    });
  });
});
