/**
 * The transport under the Slack Web API clients: Node's own HTTP client over kept-alive
 * connections, with a deadline per call. Node's global `fetch` costs about five times the CPU per
 * call (WHATWG streams, an `AbortSignal.timeout` per call, header objects), and every flow makes
 * about ten Slack calls (docs/benchmarks.md).
 *
 * Two ways in: `request` (./web-client.ts, the app's own clients) sends a body with headers
 * already in wire order and answers with the status, headers and body as they came; `fetch` (for a
 * plain `WebClient`, as Bolt's own) answers with the small subset of a fetch `Response` the client
 * reads (status, headers, text), and what it does not carry (a multipart upload's `FormData`) goes
 * to the global `fetch` as before. Each parsed target (an API method's URL) is kept, so a call
 * does not parse its URL again.
 *
 * Errors are those a fetch gives: a rejection (connection refused, reset, the deadline) that the
 * client reports as a request error, and any status answered as it came, so the client's own
 * handling of 429 `Retry-After` and of other statuses is unchanged.
 */
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { FetchFunction } from '@slack/web-api';

type FetchRequestInit = NonNullable<Parameters<FetchFunction>[1]>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;
type FetchHeaders = FetchResponse['headers'];

/** Idle kept-alive connections are closed after this long (below the usual 5 s of servers). */
const IDLE_SOCKET_MS = 4_000;
/** Connections open at once per host; more calls wait for a free one. */
const MAX_SOCKETS = 64;
/** Parsed URLs kept per transport (one per API method called; more are parsed each time). */
const MAX_TARGETS = 256;

/** A header value as fetch's `Headers.get` gives it (repeated headers joined). */
export function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

class NodeHeaders implements FetchHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    return headerValue(this.raw[name.toLowerCase()]);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const [name, value] of Object.entries(this.raw)) {
      if (value !== undefined) yield [name, Array.isArray(value) ? value.join(', ') : value];
    }
  }
}

/** An answer as it came: status, headers (lower-case names) and the whole body. */
export interface RawAnswer {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

class NodeResponse implements FetchResponse {
  readonly ok: boolean;
  readonly headers: NodeHeaders;
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  private readonly body: Buffer;

  constructor(answer: RawAnswer) {
    this.status = answer.status;
    this.statusText = answer.statusText;
    this.url = answer.url;
    this.body = answer.body;
    this.ok = answer.status >= 200 && answer.status < 300;
    this.headers = new NodeHeaders(answer.headers);
  }

  async text(): Promise<string> {
    return this.body.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.body.toString('utf8'));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const { buffer, byteOffset, byteLength } = this.body;
    return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
  }
}

export class SlackTimeoutError extends Error {
  constructor(url: string, ms: number) {
    super(`no answer from ${new URL(url).pathname} within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Where a URL's requests go, as `http.request` takes it (what `urlToHttpOptions` gives). */
interface Target {
  secure: boolean;
  protocol: string;
  hostname: string;
  port: number | undefined;
  path: string;
  /** The Host header Node would send for it (the port only when not the scheme's default). */
  host: string;
}

function parseTarget(url: string): Target {
  const u = new URL(url);
  return {
    secure: u.protocol === 'https:',
    protocol: u.protocol,
    hostname: u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname,
    port: u.port === '' ? undefined : Number(u.port),
    path: `${u.pathname}${u.search}`,
    host: u.host,
  };
}

export interface RequestOptions {
  method?: string;
  /**
   * Either an object (Node adds Host) or name, value, name, value… in the order they go on the
   * wire, without Host and Content-Length (both added here).
   */
  headers?: OutgoingHttpHeaders | string[];
  body?: string;
  signal?: AbortSignal | null;
  /** A 3xx answer is a failure, as fetch's `redirect: 'error'`. */
  refuseRedirects?: boolean;
}

/** Node's HTTP client over kept-alive connections, each call given at most `timeoutMs`. */
export class KeepAliveTransport {
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly targets = new Map<string, Target>();

  constructor(private readonly timeoutMs: number) {
    const options = { keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS };
    this.agents = { http: new http.Agent(options), https: new https.Agent(options) };
  }

  private target(url: string): Target {
    let target = this.targets.get(url);
    if (!target) {
      target = parseTarget(url);
      if (this.targets.size < MAX_TARGETS) this.targets.set(url, target);
    }
    return target;
  }

  /** Sends one request and reads the whole answer (any status). */
  request(url: string, init: RequestOptions): Promise<RawAnswer> {
    const target = this.target(url);
    const { body, signal } = init;
    const length = body === undefined ? undefined : Buffer.byteLength(body);
    let headers: OutgoingHttpHeaders | string[];
    if (Array.isArray(init.headers)) {
      headers = init.headers.slice();
      if (length !== undefined) headers.push('content-length', String(length));
      headers.push('Host', target.host);
    } else {
      headers = { ...init.headers };
      if (length !== undefined) headers['content-length'] = length;
    }
    const timeoutMs = this.timeoutMs;
    return new Promise<RawAnswer>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: Error | null, answer?: RawAnswer) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(answer as RawAnswer);
      };
      const req = (target.secure ? https : http).request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          path: target.path,
          method: init.method ?? 'GET',
          headers,
          agent: target.secure ? this.agents.https : this.agents.http,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (init.refuseRedirects && status >= 300 && status < 400) {
            res.resume();
            finish(new TypeError(`fetch failed: ${url} redirected (${status})`));
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (error) => finish(error));
          res.on('end', () =>
            finish(null, {
              status,
              statusText: res.statusMessage ?? '',
              headers: res.headers,
              url,
              body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
            }),
          );
        },
      );
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          const error = new SlackTimeoutError(url, timeoutMs);
          req.destroy(error);
          finish(error);
        }, timeoutMs);
      }
      const onAbort = () => {
        const reason = signal?.reason instanceof Error ? signal.reason : new Error('aborted');
        req.destroy(reason);
        finish(reason);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) => finish(error));
      req.end(body);
    });
  }

  /**
   * A `fetch` for `WebClient` (give the client itself `timeout: 0`, so it does not build an
   * `AbortSignal` per call as well).
   */
  readonly fetch: FetchFunction = async (input: string | URL, init: FetchRequestInit = {}) => {
    const url = String(input);
    const { body } = init;
    if (body !== undefined && typeof body !== 'string') return fetch(url, init as RequestInit);
    const answer = await this.request(url, {
      method: init.method ?? 'GET',
      headers: init.headers as OutgoingHttpHeaders | undefined,
      ...(body !== undefined ? { body } : {}),
      signal: init.signal ?? null,
      refuseRedirects: init.redirect === 'error',
    });
    return new NodeResponse(answer);
  };
}

/**
 * A `fetch` for `WebClient` over kept-alive connections, each call given at most `timeoutMs`
 * (give the client itself `timeout: 0`, so it does not build an `AbortSignal` per call as well).
 */
export function keepAliveFetch({ timeoutMs }: { timeoutMs: number }): FetchFunction {
  return new KeepAliveTransport(timeoutMs).fetch;
}
