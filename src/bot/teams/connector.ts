/**
 * Calls to the Bot Connector service: they fail fast (the SDK's own retries removed, each call
 * bounded by a timeout) so that the outbox, not a request in flight, decides when to try again,
 * and a failure says what the service answered (status, its error code, `Retry-After`).
 */
import type { ConfigurationBotFrameworkAuthentication } from 'botbuilder';

/** How long one connector call may take before the outbox tries again later. */
export const CONNECTOR_TIMEOUT_MS = 10_000;

/** A failed connector call as botbuilder reports it (core-rest-pipeline's RestError and kin). */
export interface ConnectorFailure {
  /** HTTP status, when the service answered. */
  status?: number;
  /** The service's `error.code`, when it gave one. */
  code?: string;
  /** `Retry-After`, in ms, when given. */
  retryAfterMs?: number;
  message: string;
}

export type ConnectorFactory = ReturnType<ConfigurationBotFrameworkAuthentication['createConnectorFactory']>;
type ConnectorClient = Awaited<ReturnType<ConnectorFactory['create']>>;

/** The slice of core-rest-pipeline's pipeline that connector clients are tuned through. */
interface PipelineLike {
  removePolicy(options: { phase?: string; name?: string }): unknown;
  addPolicy(policy: {
    name: string;
    sendRequest(request: { timeout: number }, next: (request: unknown) => Promise<unknown>): Promise<unknown>;
  }): void;
}

/** Removes the SDK's retries and bounds every call by `timeoutMs`. */
function failFast(client: ConnectorClient, timeoutMs: number): ConnectorClient {
  const pipeline = (client as unknown as { client?: { pipeline?: PipelineLike } }).client?.pipeline;
  if (!pipeline) throw new Error('botbuilder connector client has no pipeline to tune (SDK changed?)');
  pipeline.removePolicy({ phase: 'Retry' });
  pipeline.addPolicy({
    name: 'jitAccessTimeout',
    sendRequest(request, next) {
      request.timeout = timeoutMs;
      return next(request);
    },
  });
  return client;
}

/** A connector factory whose clients fail fast (and, in tests, talk to the fake). */
export function tuned(
  inner: ConnectorFactory,
  timeoutMs: number,
  serviceUrl: string | undefined,
): ConnectorFactory {
  const factory = {
    async create(url: string, audience?: string) {
      return failFast(await inner.create(serviceUrl ?? url, audience), timeoutMs);
    },
  };
  return factory as unknown as ConnectorFactory;
}

/** The failure behind an error from a connector call (status, service error code, Retry-After). */
export function connectorFailure(error: unknown): ConnectorFailure {
  const e = (error ?? {}) as {
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
    response?: { headers?: { get?: (name: string) => string | undefined }; bodyAsText?: unknown };
  };
  const failure: ConnectorFailure = { message: typeof e.message === 'string' ? e.message : String(error) };
  if (typeof e.statusCode === 'number') failure.status = e.statusCode;
  const body = typeof e.response?.bodyAsText === 'string' ? e.response.bodyAsText : '';
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    if (typeof parsed.error?.code === 'string') failure.code = parsed.error.code;
  } catch {
    // not the service's JSON error: the status says enough
  }
  if (!failure.code && typeof e.code === 'string' && failure.status !== undefined) failure.code = e.code;
  const retryAfter = e.response?.headers?.get?.('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms) && ms >= 0) failure.retryAfterMs = Math.round(ms);
  }
  return failure;
}
