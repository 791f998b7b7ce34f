/**
 * The process logger: JSON lines (pino), each carrying the id of the work it belongs to (`reqId`,
 * see src/request-id.ts), with secrets redacted wherever they might appear.
 */
import { pino } from 'pino';
import { currentRequestId } from './request-id.js';

/** Keys whose values are secrets, wherever they sit in a logged object. */
const SECRET_KEYS = [
  'token',
  'botToken',
  'appToken',
  'accessToken',
  'refreshToken',
  'secret',
  'signingSecret',
  'clientSecret',
  'hookSecret',
  'webhookSecret',
  'password',
  'appPassword',
  'MicrosoftAppPassword',
  'apiToken',
  'linkSigningSecret',
  'authorization',
  'Authorization',
  'cookie',
];

/** Headers that carry a secret or a signature (redacted under any key too, not only in `headers`). */
const SECRET_HEADERS = [
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'x-slack-signature',
  'X-Slack-Signature',
  'x-jit-signature',
  'X-Jit-Signature',
];

/** Every key whose value is replaced by {@link CENSOR}. */
export const SECRET_NAMES: ReadonlySet<string> = new Set([...SECRET_KEYS, ...SECRET_HEADERS]);
export const CENSOR = '[redacted]';
/**
 * How deep the walk looks: a secret's key at the top of a logged object is depth 0. Pino's
 * wildcard paths looked two levels down (three for headers); this looks further, at no extra
 * cost for the small objects the app logs.
 */
export const REDACT_DEPTH = 8;

/**
 * `value` with every secret-named key's value replaced by the censor, as a copy of only what had
 * to change (the caller's objects are never modified); `value` itself when it holds no secret,
 * which is nearly always, so a line costs a walk over its keys and nothing more. Walks plain
 * objects, arrays and errors' enumerable fields (what the line's JSON shows), down to
 * {@link REDACT_DEPTH}; byte arrays and other typed arrays are not walked.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || depth > REDACT_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const clean = redactSecrets(item, depth + 1);
      if (clean !== item) {
        copy ??= value.slice();
        copy[i] = clean;
      }
    }
    return (copy ?? value) as T;
  }
  if (ArrayBuffer.isView(value)) return value;
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const item = source[key];
    let clean: unknown;
    if (SECRET_NAMES.has(key)) {
      if (item === undefined) continue;
      clean = CENSOR;
    } else {
      clean = redactSecrets(item, depth + 1);
    }
    if (clean !== item) {
      // Same prototype, so whatever the line's JSON would have shown (toJSON included) is kept.
      copy ??= Object.assign(Object.create(Object.getPrototypeOf(source) as object | null), source) as Record<
        string,
        unknown
      >;
      copy[key] = clean;
    }
  }
  return (copy ?? value) as T;
}

/**
 * A line's own fields: every field but `err`, which its serializer (below) redacts once pino has
 * turned the Error into plain fields (copying the Error itself would lose its message and stack).
 */
function redactLine(obj: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in obj) {
    if (key === 'err' || !Object.hasOwn(obj, key)) continue;
    const item = obj[key];
    let clean: unknown;
    if (SECRET_NAMES.has(key)) {
      if (item === undefined) continue;
      clean = CENSOR;
    } else {
      clean = redactSecrets(item, 1);
    }
    if (clean !== item) {
      copy ??= { ...obj };
      copy[key] = clean;
    }
  }
  return copy ?? obj;
}

const serializeError = pino.stdSerializers.err;

/**
 * Standard output, written in batches: a line waits until 4 KB are buffered or 100 ms have passed,
 * whichever comes first, and pino writes what is left synchronously when the process exits. Writing
 * each line by itself handed one write to libuv's thread pool per line (a thread switch each on a
 * busy 2-core machine: 0.4 ms of the main thread per revocation's single log line in the expiry bench).
 */
function standardOutput(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 100 });
}

/**
 * Secrets are redacted by a walk over each line's fields and each child logger's bindings
 * ({@link redactSecrets}) rather than pino's `redact` paths: its wildcard paths cost about 45 µs a
 * line and 9 µs a child logger, the walk about 1 µs.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  const logger = pino(
    {
      level,
      base: { app: 'jit-access-bot' },
      mixin() {
        const reqId = currentRequestId();
        return reqId ? { reqId } : {};
      },
      formatters: {
        log: redactLine,
        bindings: redactLine,
      },
      serializers: { err: (error: unknown) => redactSecrets(serializeError(error as Error), 1) },
    },
    destination ?? (level === 'silent' ? undefined : standardOutput()),
  );
  // Pino gives a child's bindings to no formatter (`formatters.bindings` sees only `base`), so the
  // child method redacts them. Children inherit it from this logger (pino makes a child with
  // Object.create), and call it with themselves as `this`.
  const child = logger.child;
  logger.child = function redactedChild(this: pino.Logger, bindings, options) {
    return child.call(this, redactLine(bindings), options);
  } as typeof child;
  return logger;
}
