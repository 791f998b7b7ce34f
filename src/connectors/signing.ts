/**
 * Webhook request signing. The bot signs every webhook with HMAC-SHA256 over `<timestamp>.<body>`
 * (timestamp = the `X-Jit-Timestamp` header, unix seconds; body = the raw request body, byte for
 * byte) and sends `X-Jit-Signature: sha256=<hex>`.
 *
 * Receivers should verify with `verifySignature` (or an equivalent): compare in constant time and
 * reject stale timestamps, so that a captured request cannot be replayed later. Use the
 * `X-Jit-Idempotency-Key` header to drop duplicates inside the tolerance window.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256=';
const SIGNATURE_PATTERN = /^sha256=[0-9a-f]{64}$/;
const TIMESTAMP_PATTERN = /^\d{1,15}$/;

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` */
export function signBody(secret: string, timestamp: string, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `${PREFIX}${mac}`;
}

/**
 * True when `signature` is the signature of `body` at `timestamp` with `secret`, and `timestamp`
 * (unix seconds) is within `toleranceSec` of `now` in either direction. Never throws on malformed
 * input: anything unexpected is simply `false`.
 */
export function verifySignature(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
  now: Date,
  toleranceSec = 300,
): boolean {
  if (typeof timestamp !== 'string' || !TIMESTAMP_PATTERN.test(timestamp)) return false;
  if (typeof signature !== 'string') return false;
  const ageSec = Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp));
  if (!Number.isFinite(ageSec) || ageSec > toleranceSec) return false;

  const normalized = signature.trim().toLowerCase();
  if (!SIGNATURE_PATTERN.test(normalized)) return false;
  const expected = Buffer.from(signBody(secret, timestamp, body), 'utf8');
  const actual = Buffer.from(normalized, 'utf8');
  // Both are `sha256=` + 64 hex characters here, so the lengths match and the compare is constant-time.
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
