/**
 * The HTTP API under /api/v1, for the systems being protected and for automation (described in
 * docs/openapi.yaml, which a test holds to these routes). Every call needs `Authorization: Bearer
 * <API_TOKEN>`: without it, or with another token, any /api/v1 path answers 401 and says nothing
 * more. Reads go through the domain as the API actor (`api`, who sees like an admin); a revocation is
 * the domain's, audited with actor `api`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { type ErrorCode, isDomainError } from '../../domain/errors.js';
import type { Log } from '../../domain/events.js';
import { StoreUnavailableError } from '../../domain/ports.js';
import type { GrantRow } from '../../domain/queries/grants.js';
import { API_ACTOR } from '../../domain/queries/visibility.js';
import type { AccessService } from '../../domain/service.js';
import { type HttpServer, pathParams, type Route, sendJson } from '../server.js';
import { bearerMatches } from './auth.js';
import { accessEventBody, accessQuery, grantsQuery, invalid, revokeBody } from './schemas.js';

export const API_PREFIX = '/api/v1';
/** The largest request body read (a few small fields are all any route takes). */
const MAX_BODY_BYTES = 16 * 1024;

export interface ApiDeps {
  service: AccessService;
  token: string;
  log: Log;
  /** The link that brings `email` to the request form for a resource (see ../request-link.ts). */
  requestUrl: (email: string, resourceId: string, req: IncomingMessage) => string;
}

const apiActor = { email: API_ACTOR, name: 'Access API' };

type ApiHandler = (ctx: {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
}) => Promise<void>;

/** The status a refusal of the domain answers with. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  RESOURCE_UNKNOWN: 400,
  NOT_FOUND: 404,
  NO_ACTIVE_GRANT: 409,
  GRANT_NOT_ACTIVE: 409,
};

class BadBody extends Error {}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  if (type !== 'application/json')
    throw new BadBody('the body must be JSON (Content-Type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadBody('the body is too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadBody('the body is not valid JSON');
  }
}

function query(req: IncomingMessage): Record<string, string> {
  const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = value;
  return out;
}

function parse<S extends z.ZodType>(res: ServerResponse, schema: S, input: unknown): z.infer<S> | undefined {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  sendJson(res, 400, invalid(parsed.error));
  return undefined;
}

function grantJson(row: GrantRow) {
  return {
    id: row.id,
    resource: { id: row.resourceId, name: row.resourceName, ...(row.group ? { group: row.group } : {}) },
    user: { email: row.holder.email, name: row.holder.name },
    status: row.status,
    requestedAt: row.requestedAt.toISOString(),
    startsAt: row.since?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    endedAt: row.endedAt?.toISOString() ?? null,
    endedBy: row.endedBy ?? null,
    extensions: row.extensions,
  };
}

function routesOf(deps: ApiDeps): Array<{ method: Route['method']; path: string; run: ApiHandler }> {
  const { service } = deps;
  return [
    {
      method: 'GET',
      path: `${API_PREFIX}/access`,
      run: async ({ req, res }) => {
        const q = parse(res, accessQuery, query(req));
        if (!q) return;
        if (!service.config.resources.some((r) => r.id === q.resource)) {
          sendJson(res, 400, {
            error: 'invalid_request',
            field: 'resource',
            message: 'resource is not a known resource id',
          });
          return;
        }
        const grant = await service.activeGrant(q.email, q.resource);
        if (grant) {
          sendJson(res, 200, {
            allowed: true,
            grant: { id: grant.id, expiresAt: grant.expiresAt?.toISOString() ?? null },
          });
        } else {
          sendJson(res, 200, {
            allowed: false,
            grant: null,
            requestUrl: deps.requestUrl(q.email, q.resource, req),
          });
        }
      },
    },
    {
      method: 'POST',
      path: `${API_PREFIX}/access-events`,
      run: async ({ req, res }) => {
        const body = parse(res, accessEventBody, await readJson(req));
        if (!body) return;
        const event = await service.recordAccessUse(
          { email: body.email, resourceId: body.resource, at: body.at },
          API_ACTOR,
        );
        sendJson(res, 201, { id: event.id, grantId: event.grantId, at: event.at.toISOString() });
      },
    },
    {
      method: 'GET',
      path: `${API_PREFIX}/grants`,
      run: async ({ req, res }) => {
        const q = parse(res, grantsQuery, query(req));
        if (!q) return;
        const page = await service.listGrants(
          apiActor,
          {
            ...(q.resource ? { resource: q.resource } : {}),
            ...(q.group ? { group: q.group } : {}),
            ...(q.user ? { user: q.user } : {}),
            ...(q.status ? { status: q.status } : {}),
            ...(q.expiresFrom ? { expiresFrom: q.expiresFrom } : {}),
            ...(q.expiresTo ? { expiresTo: q.expiresTo } : {}),
          },
          { ...(q.cursor ? { cursor: q.cursor } : {}), ...(q.limit ? { size: q.limit } : {}) },
        );
        sendJson(res, 200, { grants: page.rows.map(grantJson), total: page.total, next: page.next });
      },
    },
    {
      method: 'POST',
      path: `${API_PREFIX}/grants/{id}/revoke`,
      run: async ({ req, res, params }) => {
        const body = parse(res, revokeBody, await readJson(req));
        if (!body) return;
        const grant = await service.endAccess(params.id ?? '', apiActor, body.reason);
        sendJson(res, 202, { id: grant.id, status: grant.status });
      },
    },
  ];
}

/** Mounts the API on `http`: its routes, then a catch-all that keeps unknown paths behind the token too. */
export function mountApi(http: HttpServer, deps: ApiDeps): void {
  const routes = routesOf(deps);
  const guarded =
    (run: ApiHandler, template: string): Route['handler'] =>
    async (req, res) => {
      if (!bearerMatches(req, deps.token)) {
        res.setHeader('www-authenticate', 'Bearer');
        sendJson(res, 401, { error: 'unauthorized' });
        return;
      }
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      try {
        await run({ req, res, params: pathParams(template, path) ?? {} });
      } catch (error) {
        if (error instanceof BadBody) {
          sendJson(res, 400, { error: 'invalid_request', field: 'body', message: error.message });
        } else if (error instanceof StoreUnavailableError) {
          // Nothing was written by the call that failed: the client may simply try again.
          deps.log.warn({ err: error, path: template }, 'api.store_unavailable');
          res.setHeader('retry-after', '60');
          sendJson(res, 503, {
            error: 'store_unavailable',
            message: 'The database cannot be reached just now; nothing was changed. Try again in a minute.',
          });
        } else if (isDomainError(error)) {
          sendJson(res, STATUS[error.code] ?? 403, {
            error: error.code.toLowerCase(),
            message: error.message,
          });
        } else {
          throw error;
        }
      }
    };
  for (const route of routes)
    http.route({ method: route.method, path: route.path, handler: guarded(route.run, route.path) });
  // After the routes: an unknown path, or a known one with another method, answers only a token holder.
  const unknown: ApiHandler = async ({ req, res }) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const known = routes.some((r) => pathParams(r.path, path) !== null);
    sendJson(res, known ? 405 : 404, { error: known ? 'method_not_allowed' : 'not_found' });
  };
  for (const method of ['GET', 'POST'] as const) {
    http.route({ method, path: `${API_PREFIX}/*`, handler: guarded(unknown, `${API_PREFIX}/*`) });
  }
}
