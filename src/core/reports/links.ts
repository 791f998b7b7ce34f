/**
 * Short-lived signed links to the access report, for platforms that cannot take an upload into a
 * chat (Teams): the link names who asked and what, signed with HMAC-SHA256 (../signed-tokens.ts); the bot's own server
 * (`GET /reports/access.csv?token=…`, src/http/report-download.ts) checks the signature and the
 * expiry, then builds the report afresh as that person, so it shows only what they may see.
 */
import { z } from 'zod';
import type { Person } from '../../domain/model.js';
import { SignedTokens } from '../signed-tokens.js';

export const REPORT_DOWNLOAD_PATH = '/reports/access.csv';
/** How long a link works. */
export const REPORT_LINK_TTL_MS = 15 * 60_000;

const claimsSchema = z.object({
  email: z.string().min(1),
  name: z.string(),
  tz: z.string().optional(),
  query: z.string().max(300),
  exp: z.number().int(),
});
export type ReportLinkClaims = z.infer<typeof claimsSchema>;

export class ReportLinks {
  private readonly tokens: SignedTokens<ReportLinkClaims>;

  /** `secret` unset: a random key, so links work only on this process until it stops. */
  constructor(
    secret: string | undefined,
    private readonly now: () => number,
    private readonly ttlMs = REPORT_LINK_TTL_MS,
  ) {
    this.tokens = new SignedTokens('report-link', claimsSchema, secret, now);
  }

  /** The token for `person`'s report of `query` (the words of `/access-report`). */
  sign(person: Person, query: string): string {
    return this.tokens.sign({
      email: person.email,
      name: person.name,
      ...(person.tz ? { tz: person.tz } : {}),
      query,
      exp: this.now() + this.ttlMs,
    });
  }

  /** The download link on the server at `base` (e.g. PUBLIC_URL) for `person`'s report of `query`. */
  url(base: string, person: Person, query: string): string {
    return `${base.replace(/\/+$/, '')}${REPORT_DOWNLOAD_PATH}?token=${encodeURIComponent(this.sign(person, query))}`;
  }

  /** The claims of a token this key signed and that has not expired, else null. */
  verify(token: string): ReportLinkClaims | null {
    return this.tokens.verify(token);
  }
}
