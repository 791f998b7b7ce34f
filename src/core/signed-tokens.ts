/**
 * Short-lived signed tokens for the links the bot hands out (report downloads, request links): the
 * claims as base64url JSON, a dot, and an HMAC-SHA256 of them under `LINK_SIGNING_SECRET`. Each kind
 * of link signs under its own purpose, so a token made for one kind is refused by every other. The
 * signature is compared in constant time, and the claims are checked with their schema and their
 * expiry (`exp`, ms since the epoch) before anyone reads them.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';

/** Why a token was refused: forged, altered, made for another kind of link, or not a token at all; or too old. */
export type TokenRefusal = 'invalid' | 'expired';

export type TokenCheck<T> = { ok: true; claims: T } | { ok: false; reason: TokenRefusal };

export class SignedTokens<T extends { exp: number }> {
  private readonly key: Buffer;

  /**
   * `purpose` names the kind of link (`report-link`, `request-link`). `secret` unset: a random key,
   * so tokens work only on this process until it stops.
   */
  constructor(
    private readonly purpose: string,
    private readonly schema: z.ZodType<T>,
    secret: string | undefined,
    private readonly now: () => number,
  ) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  sign(claims: T): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The claims of a token this key signed for this purpose, or why not. */
  check(token: string): TokenCheck<T> {
    const [body, mac, ...rest] = token.split('.');
    if (!body || !mac || rest.length > 0) return { ok: false, reason: 'invalid' };
    const expected = this.mac(body);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'invalid' };
    }
    let claims: T;
    try {
      const parsed = this.schema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
      if (!parsed.success) return { ok: false, reason: 'invalid' };
      claims = parsed.data;
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    return claims.exp > this.now() ? { ok: true, claims } : { ok: false, reason: 'expired' };
  }

  /** The claims of a valid, unexpired token, else null. */
  verify(token: string): T | null {
    const checked = this.check(token);
    return checked.ok ? checked.claims : null;
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(`${this.purpose}.${body}`).digest();
  }
}
