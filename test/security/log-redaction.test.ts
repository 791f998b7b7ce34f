/**
 * Threat: a secret written to the log (a token in a config object, an Authorization header, a
 * Slack or webhook signature), where anyone who reads the logs could reuse it.
 * Expected refusal: the process logger (src/log.ts) replaces them with "[redacted]" wherever
 * they appear in a logged object, at the top or one level down.
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
