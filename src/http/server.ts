/**
 * The one HTTP server the app owns, on `PORT`. Front ends and surfaces mount routes on it:
 * Slack's receiver at `POST /slack/events`, Teams at `POST /api/messages`, the HTTP API under
 * `/api/v1`, `/metrics`, `/healthz` and `/readyz`. Nothing else listens.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Log } from '../domain/events.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface Route {
  method: 'GET' | 'POST';
  /**
   * An exact path, a template whose `{name}` segments match any one segment
   * (`/api/v1/grants/{id}/revoke`; see `pathParams`), or a prefix ending in `/*` (e.g. `/api/v1/*`).
   */
  path: string;
  handler: Handler;
}

/** The `{name}` segments of `template` as found in `path`, or null when the path does not fit it. */
export function pathParams(template: string, path: string): Record<string, string> | null {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const actual = got[i] ?? '';
    const name = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (name) {
      if (actual === '') return null;
      try {
        params[name] = decodeURIComponent(actual);
      } catch {
        return null;
      }
    } else if (segment !== actual) return null;
  }
  return params;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export interface HttpServer {
  /** Adds a route; the first route that matches a request answers it. */
  route(route: Route): void;
  /** Every route added, in order (method and path as given). */
  routes(): Array<Pick<Route, 'method' | 'path'>>;
  listen(port: number, host?: string): Promise<number>;
  /** Stops taking connections and closes idle ones; resolves when the server has closed. */
  close(): Promise<void>;
  readonly server: Server;
}

function pathMatches(route: Route, path: string): boolean {
  if (route.path.endsWith('/*')) {
    const prefix = route.path.slice(0, -2);
    return path === prefix || path.startsWith(`${prefix}/`);
  }
  if (route.path.includes('{')) return pathParams(route.path, path) !== null;
  return route.path === path;
}

function methodMatches(route: Route, method: string): boolean {
  return route.method === method || (route.method === 'GET' && method === 'HEAD');
}

export function createHttpServer(log: Log): HttpServer {
  const routes: Route[] = [];
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      sendJson(res, 400, { error: 'bad_request' });
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const route = routes.find((r) => pathMatches(r, path) && methodMatches(r, method));
    if (!route) {
      const known = routes.some((r) => pathMatches(r, path));
      sendJson(res, known ? 405 : 404, { error: known ? 'method_not_allowed' : 'not_found' });
      return;
    }
    Promise.resolve()
      .then(() => route.handler(req, res))
      .catch((error: unknown) => {
        log.error({ err: error, path, method }, 'http.handler_failed');
        sendJson(res, 500, { error: 'internal_error' });
      });
  });
  // Slack expects an answer within 3 s; nobody legitimate holds a request open longer than this.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  return {
    server,
    route(route) {
      routes.push(route);
    },
    routes() {
      return routes.map(({ method, path }) => ({ method, path }));
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
