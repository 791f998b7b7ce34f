/**
 * Prometheus metrics at `GET /metrics` (prom-client): the process's own, and the outbox's depth,
 * read from the store when scraped, so every instance reports the same shared truth.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Repositories } from '../domain/ports.js';

export function createMetrics(repos: Repositories) {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'jit-access-bot' });
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'jit_outbox_messages',
    help: 'Messages in the outbox by status (pending: waiting or retrying; undeliverable: given up)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      for (const status of ['pending', 'undeliverable'] as const) {
        this.set({ status }, await repos.outbox.count({ status }));
      }
    },
  });
  return {
    registry,
    async handler(_req: IncomingMessage, res: ServerResponse) {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(body);
    },
  };
}
