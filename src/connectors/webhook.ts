import { Agent, type Dispatcher, request } from 'undici';
import type { Clock } from '../domain/clock.js';
import { type Connector, ConnectorError, type ConnectorEvent } from '../domain/ports.js';
import { currentRequestId } from '../request-id.js';
import { signBody } from './signing.js';

export interface WebhookConnectorOptions {
  url: string;
  /** The HMAC secret itself (already resolved from its environment variable). */
  secret: string;
  timeoutMs: number;
  clock: Clock;
}

/**
 * Answers by which the receiver refuses the call as sent: the same signed body gets the same
 * answer however often it is sent, so retrying would only delay the report. 400 Bad Request,
 * 401 Unauthorized, 403 Forbidden, 404 Not Found, 405 Method Not Allowed, 410 Gone, 413 Content
 * Too Large, 415 Unsupported Media Type, 422 Unprocessable Content.
 */
export const REFUSAL_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 405, 410, 413, 415, 422]);

/**
 * The HTTP client every webhook call goes through: one keep-alive connection pool per origin,
 * shared by all connectors and the notifications webhook (which builds a connector per message).
 * undici's `request` on it costs a fraction of what `fetch` does per call (no WHATWG streams,
 * Request/Response objects or per-call body iterator): the connector call is on the critical path
 * of every revocation. Redirects are never followed (undici's `request` has no redirect handling
 * unless asked for).
 */
let sharedAgent: Agent | undefined;
/** Idle connections are unref'd by undici, so they never keep the process alive. */
function agent(): Dispatcher {
  sharedAgent ??= new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000 });
  return sharedAgent;
}

/**
 * POSTs the `ConnectorEvent` as JSON to a URL, signed (see `signing.ts`).
 *
 * Which failures are retried: a refusal (`REFUSAL_STATUSES`: 400, 401, 403, 404, 405, 410, 413,
 * 415, 422) is a non-retryable `ConnectorError`, so the domain stops retrying and tells the
 * resource's approvers at once. Everything else that is not 2xx is retryable and the domain
 * reschedules it with backoff: 5xx, 408 Request Timeout, 409 Conflict, 425 Too Early, 429 Too Many
 * Requests and any other 4xx, a 3xx, network errors and timeouts. A receiver should therefore
 * answer 2xx to a repeat (same `X-Jit-Idempotency-Key`) and to the revocation of access it never
 * granted, and keep 4xx refusals for calls that can never succeed.
 *
 * Redirects are not followed (a 3xx is a failure), so a signed body is never re-sent to a host
 * nobody configured. Credentials in the URL (`https://user:pw@host/`) are sent as HTTP Basic auth.
 * Error messages name the URL without its query string or credentials and never contain the
 * secret or the body.
 */
export class WebhookConnector implements Connector {
  readonly type = 'webhook';
  private readonly url: string;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly authorization: string | undefined;
  /** The URL as it may appear in errors and logs. */
  readonly displayUrl: string;

  constructor(opts: WebhookConnectorOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new Error('webhook connector: url is not a valid URL');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new Error(`webhook connector: url must be http(s), got ${parsed.protocol}`);
    }
    if (!opts.secret) throw new Error(`webhook connector for ${safeUrl(parsed)}: secret is empty`);
    if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
      throw new Error(`webhook connector for ${safeUrl(parsed)}: timeoutMs must be positive`);
    }
    // Credentials in the URL are sent as HTTP Basic auth, never as part of the URL.
    if (parsed.username || parsed.password) {
      let user: string;
      let password: string;
      try {
        user = decodeURIComponent(parsed.username);
        password = decodeURIComponent(parsed.password);
      } catch {
        throw new Error(`webhook connector for ${safeUrl(parsed)}: malformed credentials in url`);
      }
      this.authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    }
    this.url = parsed.toString();
    this.displayUrl = safeUrl(parsed);
    this.secret = opts.secret;
    this.timeoutMs = opts.timeoutMs;
    this.clock = opts.clock;
  }

  deliver(event: ConnectorEvent): Promise<void> {
    return this.post(event, event.idempotencyKey);
  }

  /**
   * POSTs any JSON document the same way (signed, no redirects, bounded by the timeout), e.g. the
   * policy's notifications webhook (src/core/notifications.ts). Throws `ConnectorError` as `deliver` does.
   */
  async post(document: object, idempotencyKey: string): Promise<void> {
    const body = JSON.stringify(document);
    const timestamp = String(Math.floor(this.clock.now().getTime() / 1000));
    const reqId = currentRequestId();
    let status: number;
    try {
      const response = await request(this.url, {
        method: 'POST',
        dispatcher: agent(),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'jit-access-bot',
          'X-Jit-Timestamp': timestamp,
          'X-Jit-Signature': signBody(this.secret, timestamp, body),
          'X-Jit-Idempotency-Key': idempotencyKey,
          ...(reqId ? { 'X-Request-Id': reqId } : {}),
          ...(this.authorization ? { Authorization: this.authorization } : {}),
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.statusCode;
      // Release the connection for the next call; the answer's body is not used, and its status
      // decides even if reading the rest fails.
      await response.body.dump().catch(() => undefined);
    } catch (err) {
      throw new ConnectorError(this.describeFailure(err));
    }
    if (status < 200 || status > 299) {
      throw new ConnectorError(
        `webhook ${this.displayUrl} answered ${status}`,
        !REFUSAL_STATUSES.has(status),
      );
    }
  }

  private describeFailure(err: unknown): string {
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return `webhook ${this.displayUrl} timed out after ${this.timeoutMs} ms`;
    }
    // undici's `request` throws the socket's error itself (code ECONNREFUSED …); fetch wrapped it.
    const code = errorCode(err) ?? errorCode(err instanceof Error ? err.cause : undefined);
    return `webhook ${this.displayUrl} unreachable${code ? ` (${code})` : ''}`;
  }
}

function errorCode(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** Origin and path only: no user-info, query or fragment (they may carry tokens). */
function safeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
