/**
 * The app's Slack Web API clients: a `WebClient` (every method, its types, its error classes) whose
 * per-call path is our own, for the calls every flow makes (about ten: `chat.postMessage`,
 * `chat.update`, `views.open`, `views.update`, `conversations.open`, `users.info`).
 *
 * Why not the library's own path: per call, `WebClient.makeRequest` walks and stringifies the body
 * and the headers for debug lines that it builds even when debug is off (`redact`, a `.*token.*`
 * RegExp per key), runs each call through `p-queue` and `p-retry`, form-encodes through
 * `querystring`, and wraps the answer in a fetch `Response` whose headers it reads one at a time.
 * Measured on a local server (bench in docs/benchmarks.md, `perf-client`): µs of CPU a call, the
 * transport included, given in the commit that made this.
 *
 * What stays as the library does it, on the wire and to the caller:
 * - the same request: POST to `<slackApiUrl><method>`, the same headers in the same order
 *   (`User-Agent`, `Accept`, `Authorization: Bearer <token>`, `Content-Type`), the same
 *   form-encoded body (objects as JSON, a `team_id` first), a 3xx refused;
 * - the same result (`response_metadata` with `scopes`, `acceptedScopes`, `retryAfter`) and the same
 *   errors: `WebAPIPlatformError` (`data.error`) for `ok: false`, `WebAPIRateLimitedError`
 *   (`retryAfter`) for a 429 when calls are rejected rather than retried, `WebAPIHTTPError` for any
 *   other status but 200, `WebAPIRequestError` when no answer came;
 * - the same retries (`retryConfig`'s count and backoff, as `p-retry`/`retry` compute them; the
 *   error rejected with at the end is the most frequent one, the latest on a tie) and, when a 429 is
 *   waited out, every call of the client held until its `Retry-After` has passed, then retried;
 * - at most `maxRequestConcurrency` calls at once (100).
 * Everything else (an upload, binary values, an absolute URL, the gzip answer of
 * `admin.analytics.getFile`, a client logging at debug level) goes the library's way.
 */

import { escape as querystringEscape } from 'node:querystring';
import {
  type Logger,
  LogLevel,
  SlackError,
  type WebAPICallResult,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  WebClientEvent,
} from '@slack/web-api';
import { headerValue, KeepAliveTransport, type RawAnswer } from './http-fetch.js';

/** The retry settings the app uses (`retry`'s options, without randomisation or a time limit). */
export interface SlackRetries {
  retries: number;
  factor?: number;
  minTimeout?: number;
  maxTimeout?: number;
}

export interface SlackApiClientOptions {
  slackApiUrl?: string;
  logger?: Logger;
  /** Each try's deadline, kept by the transport. */
  timeoutMs: number;
  retryConfig: SlackRetries;
  rejectRateLimitedCalls?: boolean;
  maxRequestConcurrency?: number;
}

/** The waits between tries, as `retry.timeouts` computes them (no randomisation). */
export function retryTimeouts({
  retries,
  factor = 2,
  minTimeout = 1000,
  maxTimeout = Infinity,
}: SlackRetries) {
  if (minTimeout > maxTimeout) throw new Error('minTimeout is greater than maxTimeout');
  const timeouts: number[] = [];
  for (let i = 0; i < retries; i++) {
    timeouts.push(Math.min(Math.round(Math.max(minTimeout, 1) * factor ** i), maxTimeout));
  }
  return timeouts.sort((a, b) => a - b);
}

/** A failure no retry is made after (as `p-retry`'s `AbortError`). */
class FinalError {
  constructor(readonly error: Error) {}
}

/** The error of a failed series of tries, as `retry`'s `mainError`: the most frequent, the latest on a tie. */
function mainError(errors: Error[]): Error {
  const counts = new Map<string, number>();
  let main = errors[0] as Error;
  let mainCount = 0;
  for (const error of errors) {
    const count = (counts.get(error.message) ?? 0) + 1;
    counts.set(error.message, count);
    if (count >= mainCount) {
      main = error;
      mainCount = count;
    }
  }
  return main;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A form value as `WebClient.serializeBody` turns it into text, or null when it cannot (binary). */
function formValue(value: unknown): string | undefined | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : '';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return undefined;
      if (Buffer.isBuffer(value)) return null;
      return JSON.stringify(value);
    case 'undefined':
      return undefined;
    default:
      // functions, symbols, bigints: as rare as they are odd; the library's way
      return null;
  }
}

/**
 * `querystring.escape`, through the engine's own encoder (the same characters kept: letters,
 * digits and `-_.!~*'()`), and querystring's for text with a lone surrogate, which
 * `encodeURIComponent` refuses and querystring encodes as it stands.
 */
function formEscape(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return querystringEscape(text);
  }
}

/**
 * The form-encoded body `WebClient` sends for these arguments (in their order, a `team_id`
 * put first by the caller; null and undefined left out), or null when it would not send a form.
 */
export function encodeForm(args: Record<string, unknown>): string | null {
  let body = '';
  for (const key in args) {
    if (!Object.hasOwn(args, key)) continue;
    const value = formValue(args[key]);
    if (value === undefined) continue;
    if (value === null) return null;
    body += `${body === '' ? '' : '&'}${formEscape(key)}=${formEscape(value)}`;
  }
  return body;
}

function retryAfterOf(answer: RawAnswer): number | undefined {
  const raw = headerValue(answer.headers['retry-after']);
  if (raw === null) return undefined;
  const seconds = Number.parseInt(raw, 10);
  return Number.isNaN(seconds) ? undefined : seconds;
}

const scopeList = (raw: string) => raw.trim().split(/\s*,\s*/);

type CallResult = WebAPICallResult & Record<string, unknown>;

/** `WebClient.buildResult` for a JSON answer. */
function buildResult(answer: RawAnswer): CallResult {
  const text = answer.body.toString('utf8');
  let data: CallResult;
  try {
    data = JSON.parse(text);
  } catch {
    data = { ok: false, error: text };
  }
  if (data.response_metadata === undefined) data.response_metadata = {};
  const scopes = headerValue(answer.headers['x-oauth-scopes']);
  if (scopes !== null) data.response_metadata.scopes = scopeList(scopes);
  const accepted = headerValue(answer.headers['x-accepted-oauth-scopes']);
  if (accepted !== null) data.response_metadata.acceptedScopes = scopeList(accepted);
  const retrySec = retryAfterOf(answer);
  if (retrySec !== undefined) data.response_metadata.retryAfter = retrySec;
  return data;
}

function headersAsObject(answer: RawAnswer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    const joined = headerValue(value);
    if (joined !== null) out[name] = joined;
  }
  return out;
}

export class SlackApiClient extends WebClient {
  readonly #transport: KeepAliveTransport;
  readonly #apiUrl: string;
  readonly #wireHeaders: string[];
  readonly #log: Logger;
  readonly #timeouts: number[];
  readonly #retriesAllowed: number;
  readonly #rejectRateLimited: boolean;
  readonly #maxConcurrent: number;
  #active = 0;
  #paused = false;
  readonly #waiting: (() => void)[] = [];

  constructor(token: string, options: SlackApiClientOptions) {
    const transport = new KeepAliveTransport(options.timeoutMs);
    super(token, {
      ...(options.slackApiUrl !== undefined ? { slackApiUrl: options.slackApiUrl } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      // the library's own path (uploads and the like) over the same connections
      fetch: transport.fetch,
      timeout: 0,
      retryConfig: options.retryConfig,
      rejectRateLimitedCalls: options.rejectRateLimitedCalls ?? false,
      ...(options.maxRequestConcurrency !== undefined
        ? { maxRequestConcurrency: options.maxRequestConcurrency }
        : {}),
    });
    this.#transport = transport;
    this.#apiUrl = this.slackApiUrl;
    // What WebClient sends on every call (User-Agent, Accept, Authorization), in its order.
    const own = this as unknown as { defaultHeaders: Record<string, string>; logger: Logger };
    this.#wireHeaders = Object.entries(own.defaultHeaders).flat();
    this.#log = own.logger;
    this.#timeouts = retryTimeouts(options.retryConfig);
    this.#retriesAllowed = options.retryConfig.retries;
    this.#rejectRateLimited = options.rejectRateLimitedCalls ?? false;
    this.#maxConcurrent = options.maxRequestConcurrency ?? 100;
  }

  override async apiCall(method: string, options: Record<string, unknown> = {}): Promise<WebAPICallResult> {
    if (
      typeof options !== 'object' ||
      method === 'files.uploadV2' ||
      method === 'admin.analytics.getFile' ||
      method.startsWith('http://') ||
      method.startsWith('https://') ||
      this.#log.getLevel() === LogLevel.DEBUG
    ) {
      return super.apiCall(method, options);
    }
    // WebClient puts `team_id` first (these clients have no `teamId` of their own)
    const args = 'team_id' in options ? { team_id: undefined, ...options } : options;
    const body = encodeForm(args);
    if (body === null) return super.apiCall(method, options);
    warnIfNoText(method, options, this.#log);
    const headers = this.#wireHeaders.slice();
    headers.push('Content-Type', 'application/x-www-form-urlencoded');
    if (options.token) {
      // a per-call token replaces the client's in its place, as WebClient's merge of headers does
      const at = headers.indexOf('Authorization');
      if (at >= 0) headers[at + 1] = `Bearer ${options.token}`;
      else headers.push('Authorization', `Bearer ${options.token}`);
    }
    const url = `${this.#apiUrl}${method}`;
    const answer = await this.#withRetries(url, args, body, headers);
    const result = buildResult(answer);
    const metadata = result.response_metadata;
    if (metadata?.warnings !== undefined) metadata.warnings.forEach(this.#log.warn.bind(this.#log));
    if (metadata?.messages !== undefined) {
      for (const msg of metadata.messages) {
        const error = /\[ERROR\](.*)/.exec(msg);
        const warning = error ? null : /\[WARN\](.*)/.exec(msg);
        if (error) this.#log.error((error[1] as string).trim());
        else if (warning) this.#log.warn((warning[1] as string).trim());
      }
    }
    if (!result.ok) throw new WebAPIPlatformError(result as CallResult & { error: string });
    return result;
  }

  /** `p-retry` around one try, with `retryConfig`'s waits. */
  async #withRetries(
    url: string,
    args: Record<string, unknown>,
    body: string,
    headers: string[],
  ): Promise<RawAnswer> {
    const errors: Error[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#inTurn(url, args, body, headers);
      } catch (caught) {
        if (caught instanceof FinalError) throw caught.error;
        const error = caught as Error & { attemptNumber?: number; retriesLeft?: number };
        error.attemptNumber = attempt;
        error.retriesLeft = this.#retriesAllowed - (attempt - 1);
        errors.push(error);
        const wait = this.#timeouts[attempt - 1];
        if (wait === undefined) throw mainError(errors);
        await sleep(wait);
      }
    }
  }

  /** One try, in its turn among the client's calls (`p-queue`'s place in `makeRequest`). */
  async #inTurn(
    url: string,
    args: Record<string, unknown>,
    body: string,
    headers: string[],
  ): Promise<RawAnswer> {
    if (this.#paused || this.#active >= this.#maxConcurrent) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await this.#tryOnce(url, args, body, headers);
    } finally {
      this.#active--;
      this.#startWaiting();
    }
  }

  /** Lets waiting calls start while the client is not held and has room (each takes its place). */
  #startWaiting(): void {
    while (!this.#paused && this.#active < this.#maxConcurrent && this.#waiting.length > 0) {
      this.#active++;
      (this.#waiting.shift() as () => void)();
    }
  }

  async #tryOnce(
    url: string,
    args: Record<string, unknown>,
    body: string,
    headers: string[],
  ): Promise<RawAnswer> {
    try {
      const answer = await this.#transport.request(url, {
        method: 'POST',
        headers,
        body,
        refuseRedirects: true,
      });
      if (answer.status === 429) {
        const retrySec = retryAfterOf(answer);
        if (retrySec === undefined) {
          throw new FinalError(
            new Error(
              `Retry header did not contain a valid timeout (url: ${url}, retry-after header: ${headerValue(answer.headers['retry-after'])})`,
            ),
          );
        }
        this.emit(WebClientEvent.RATE_LIMITED, retrySec, { url, body: args });
        if (this.#rejectRateLimited) throw new FinalError(new WebAPIRateLimitedError(retrySec));
        this.#log.info(`API Call failed due to rate limiting. Will retry in ${retrySec} seconds.`);
        // every call of this client waits as long as Slack asked, then this one is tried again
        this.#paused = true;
        await sleep(retrySec * 1000);
        this.#paused = false;
        this.#startWaiting();
        // reported as a failed request, as WebClient does (its own catch below wraps it)
        throw new Error(`A rate limit was exceeded (url: ${url}, retry-after: ${retrySec})`);
      }
      // Slack's Web API uses no meaningful status besides 429 and 200
      if (answer.status !== 200) {
        throw new WebAPIHTTPError(
          answer.status,
          answer.statusText,
          headersAsObject(answer),
          answer.body.toString('utf8'),
        );
      }
      return answer;
    } catch (error) {
      if (error instanceof FinalError || error instanceof SlackError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      this.#log.warn('http request failed', message);
      throw new WebAPIRequestError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

const TEXT_METHODS = new Set(['chat.postEphemeral', 'chat.postMessage', 'chat.scheduleMessage']);

/** WebClient's warnings for a message without `text` (or a fallback), and a `thread_ts` not a string. */
function warnIfNoText(method: string, options: Record<string, unknown>, log: Logger): void {
  if (!TEXT_METHODS.has(method)) return;
  const emptyText =
    (options.text === undefined || options.text === null || options.text === '') &&
    (options.markdown_text === undefined || options.markdown === null || options.markdown_text === '');
  const attachments = options.attachments;
  if (Array.isArray(attachments) && attachments.length) {
    const missingFallback = attachments.some(
      (a: { fallback?: string }) => !a.fallback || a.fallback.trim() === '',
    );
    if (missingFallback && emptyText) {
      log.warn(
        `The top-level \`text\` argument is missing in the request payload for a ${method} call - It's a best practice to always provide a \`text\` argument when posting a message. The \`text\` is used in places where the content cannot be rendered such as: system push notifications, assistive technology such as screen readers, etc.`,
      );
      log.warn(
        `Additionally, the attachment-level \`fallback\` argument is missing in the request payload for a ${method} call - To avoid this warning, it is recommended to always provide a top-level \`text\` argument when posting a message. Alternatively, you can provide an attachment-level \`fallback\` argument, though this is now considered a legacy field (see https://docs.slack.dev/legacy/legacy-messaging/legacy-secondary-message-attachments for more details).`,
      );
    }
  } else if (emptyText) {
    log.warn(
      `The top-level \`text\` argument is missing in the request payload for a ${method} call - It's a best practice to always provide a \`text\` argument when posting a message. The \`text\` is used in places where the content cannot be rendered such as: system push notifications, assistive technology such as screen readers, etc.`,
    );
  }
  if (options.thread_ts !== undefined && typeof options.thread_ts !== 'string') {
    log.warn(
      `The given thread_ts value in the request payload for a ${method} call is a float value. We highly recommend using a string value instead.`,
    );
  }
}
