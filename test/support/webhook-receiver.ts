/**
 * A local webhook receiver for tests: records every call, checks its signature with
 * `verifySignature`, and answers with a configurable status (200 by default).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/connectors/signing.js';

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (`undefined` when it was not JSON). */
  body: unknown;
  rawBody: string;
  signatureValid: boolean;
}

export interface WebhookReceiverOptions {
  secret: string;
  /** Status for the nth call (1-based). Default: always 200. */
  respond?: (n: number) => number;
  /**
   * The receiver's idea of "now" when checking the timestamp. Pass the connector's clock when it
   * is a ManualClock, or every signature will look stale. Default: real time.
   */
  now?: () => Date;
  /** Wait this long before answering (to provoke timeouts). Default 0. */
  delayMs?: number;
}

export interface WebhookReceiver {
  url: string;
  calls: ReceivedWebhook[];
  setStatus(status: number | ((n: number) => number)): void;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(opts: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const calls: ReceivedWebhook[] = [];
  let respond: (n: number) => number = opts.respond ?? (() => 200);
  let delayMs = opts.delayMs ?? 0;
  const now = opts.now ?? (() => new Date());
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const timestamp = header(req.headers['x-jit-timestamp']);
      const signature = header(req.headers['x-jit-signature']);
      calls.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        rawBody,
        signatureValid: verifySignature(opts.secret, timestamp, rawBody, signature, now()),
      });
      const status = respond(calls.length);
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ ok: status >= 200 && status < 300 }));
      };
      if (delayMs > 0) {
        const t = setTimeout(() => {
          timers.delete(t);
          answer();
        }, delayMs);
        timers.add(t);
      } else {
        answer();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks/jit`,
    calls,
    setStatus(status) {
      respond = typeof status === 'number' ? () => status : status;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}
