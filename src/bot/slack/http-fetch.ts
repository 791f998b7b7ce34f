/**
 * The transport under the Slack Web API clients (`WebClient`'s `fetch` option): Node's own HTTP
 * client over kept-alive connections, with a deadline per call. Node's global `fetch` costs about
 * five times the CPU per call (WHATWG streams, an `AbortSignal.timeout` per call, header objects),
 * and every flow makes about ten Slack calls (docs/benchmarks.md). It answers with the small
 * subset of a fetch `Response` the client reads (status, headers, text); what it does not carry (a
 * multipart upload's `FormData`) goes to the global `fetch` as before.
 *
 * Errors are those a fetch gives: a rejection (connection refused, reset, the deadline) that the
 * client reports as a request error, and any status answered as it came, so the client's own
 * handling of 429 `Retry-After` and of other statuses is unchanged.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { FetchFunction } from '@slack/web-api';

type FetchRequestInit = NonNullable<Parameters<FetchFunction>[1]>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;
type FetchHeaders = FetchResponse['headers'];

/** Idle kept-alive connections are closed after this long (below the usual 5 s of servers). */
const IDLE_SOCKET_MS = 4_000;
/** Connections open at once per host; more calls wait for a free one. */
const MAX_SOCKETS = 64;

class NodeHeaders implements FetchHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const [name, value] of Object.entries(this.raw)) {
      if (value !== undefined) yield [name, Array.isArray(value) ? value.join(', ') : value];
    }
  }
}

class NodeResponse implements FetchResponse {
  readonly ok: boolean;
  readonly headers: NodeHeaders;

  constructor(
    readonly status: number,
    readonly statusText: string,
    raw: IncomingHttpHeaders,
    readonly url: string,
    private readonly body: Buffer,
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = new NodeHeaders(raw);
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

/**
 * A `fetch` for `WebClient` over kept-alive connections, each call given at most `timeoutMs`
 * (give the client itself `timeout: 0`, so it does not build an `AbortSignal` per call as well).
 */
export function keepAliveFetch({ timeoutMs }: { timeoutMs: number }): FetchFunction {
  const options = { keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS };
  const agents = { 'http:': new http.Agent(options), 'https:': new https.Agent(options) };
  return (input: string | URL, init: FetchRequestInit = {}) => {
    const url = String(input);
    const { body } = init;
    if (body !== undefined && typeof body !== 'string') return fetch(url, init as RequestInit);
    const https_ = url.startsWith('https:');
    const agent = https_ ? agents['https:'] : agents['http:'];
    const headers: Record<string, string | number> = { ...init.headers };
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    return new Promise<FetchResponse>((resolve, reject) => {
      const signal = init.signal;
      let done = false;
      const finish = (error: Error | null, response?: FetchResponse) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(response as FetchResponse);
      };
      const req = (https_ ? https : http).request(
        url,
        { method: init.method ?? 'GET', headers, agent },
        (res) => {
          const status = res.statusCode ?? 0;
          if (init.redirect === 'error' && status >= 300 && status < 400) {
            res.resume();
            finish(new TypeError(`fetch failed: ${url} redirected (${status})`));
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (error) => finish(error));
          res.on('end', () =>
            finish(
              null,
              new NodeResponse(
                status,
                res.statusMessage ?? '',
                res.headers,
                url,
                chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
              ),
            ),
          );
        },
      );
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              const error = new SlackTimeoutError(url, timeoutMs);
              req.destroy(error);
              finish(error);
            }, timeoutMs)
          : undefined;
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
  };
}
