/**
 * One id per piece of work, carried through everything it causes: the inbound HTTP request (or
 * Slack Socket Mode event), the domain operations it runs, the jobs it schedules (`JobData.reqId`),
 * the messages it queues (`OutboxItem.reqId`) and the connector calls they make (`X-Request-Id`).
 * Held in AsyncLocalStorage, so nothing has to pass it along by hand; the logger adds it to every
 * line as `reqId` (src/log.ts). A job that no request caused (a timer's own run, the sweep) gets an
 * id of its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

const storage = new AsyncLocalStorage<string>();

/** What an inbound `X-Request-Id` may look like to be kept (anything else gets a fresh id). */
const ACCEPTABLE = /^[A-Za-z0-9._:-]{8,128}$/;

/** The id of the work running now, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore();
}

export function newRequestId(): string {
  return randomUUID();
}

/** The caller's id when it is acceptable (e.g. from a load balancer), else a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTABLE.test(value) ? value : newRequestId();
}

/** Runs `fn` (and everything it starts) under `reqId`. */
export function withRequestId<T>(reqId: string, fn: () => T): T {
  return storage.run(reqId, fn);
}
