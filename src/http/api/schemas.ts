/**
 * What the HTTP API accepts, in zod. A request that does not fit gets 400 with the first field at
 * fault named: `{ "error": "invalid_request", "field": "email", "message": "…" }`.
 */
import { z } from 'zod';
import { GRANT_LIST_STATUSES, MAX_PAGE_SIZE } from '../../domain/queries/grants.js';
import { MAX_END_COMMENT } from '../../domain/revocation.js';

const resourceId = z
  .string({ error: 'is required' })
  .trim()
  .min(1, 'is required')
  .max(200, 'is too long')
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a resource id such as acme-prod');
const email = z.email({ error: 'must be an email address' }).max(320, 'is too long');
/** An ISO 8601 date and time with a zone (`Z` or an offset). */
const instant = z.iso
  .datetime({
    offset: true,
    error: 'must be an ISO 8601 date and time with a zone, e.g. 2026-11-23T09:00:00Z',
  })
  .transform((s) => new Date(s));

export const accessQuery = z.object({ email, resource: resourceId });

export const accessEventBody = z.object({ email, resource: resourceId, at: instant }).strict();

export const grantsQuery = z
  .object({
    resource: resourceId.optional(),
    group: z.string().trim().min(1, 'must not be empty').max(75, 'is too long').optional(),
    user: email.optional(),
    status: z
      .string()
      .transform((s) => s.split(',').map((x) => x.trim()))
      .pipe(z.array(z.enum(GRANT_LIST_STATUSES, { error: `must be ${GRANT_LIST_STATUSES.join(', ')}` })))
      .optional(),
    expiresFrom: instant.optional(),
    expiresTo: instant.optional(),
    cursor: z.string().max(500, 'is too long').optional(),
    limit: z
      .string()
      .regex(/^\d+$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
      .transform(Number)
      .refine((n) => n >= 1 && n <= MAX_PAGE_SIZE, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
      .optional(),
  })
  .strict()
  .refine((q) => !(q.resource && q.group), { path: ['group'], error: 'cannot be combined with resource' });

export const revokeBody = z
  .object({
    reason: z
      .string({ error: 'is required' })
      .trim()
      .min(1, 'is required')
      .max(MAX_END_COMMENT, `must be at most ${MAX_END_COMMENT} characters`),
  })
  .strict();

export interface InvalidRequest {
  error: 'invalid_request';
  field: string;
  message: string;
}

/** The first issue of a failed parse, as the API's 400 body. */
export function invalid(error: z.ZodError): InvalidRequest {
  const issue = error.issues[0];
  const field =
    issue?.code === 'unrecognized_keys' ? String(issue.keys[0] ?? '') : String(issue?.path[0] ?? '');
  const message =
    issue?.code === 'unrecognized_keys' ? 'is not a known field' : (issue?.message ?? 'is not valid');
  return { error: 'invalid_request', field, message: `${field || 'body'} ${message}` };
}
