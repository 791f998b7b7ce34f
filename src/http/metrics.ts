/**
 * Prometheus metrics at `GET /metrics` (prom-client). Two kinds:
 *
 * - counters and histograms of what happened in this process (requests, decisions, decision
 *   latency, revocation lag, connector failures), reported by the domain through its metrics port
 *   (`src/domain/metrics.ts`) by whichever instance's conditional write won, so summing them over
 *   instances (`sum(rate(…))`) counts each event once;
 * - levels read from the store when scraped (grants by status, outbox depth and the age of its
 *   oldest pending message, pending retries), so every instance reports the same shared truth
 *   (aggregate those with `max`, not `sum`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../domain/clock.js';
import type { Metrics } from '../domain/metrics.js';
import type { Repositories } from '../domain/ports.js';

/** Seconds: a decision within minutes to days. */
const DECISION_BUCKETS = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86_400, 3 * 86_400];
/** Seconds: revocations are due within a second, at worst within a sweep interval or a backoff. */
const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

export interface AppMetrics {
  registry: Registry;
  /** The port the domain reports through. */
  port: Metrics;
  handler(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function createMetrics(repos: Repositories, clock: Clock): AppMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'jit-access-bot' });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({
    name: 'jit_requests_total',
    help: 'Access and extension submissions by outcome (submitted to approvers, auto_approved, refused)',
    labelNames: ['outcome'],
    registers,
  });
  const decisions = new Counter({
    name: 'jit_decisions_total',
    help: 'What became of pending requests (approved, denied, expired, cancelled) and refused attempts to decide one',
    labelNames: ['outcome'],
    registers,
  });
  const decisionLatency = new Histogram({
    name: 'jit_decision_latency_seconds',
    help: 'From submission to an approver’s decision',
    labelNames: ['outcome'],
    buckets: DECISION_BUCKETS,
    registers,
  });
  const revocationLag = new Histogram({
    name: 'jit_revocation_lag_seconds',
    help: 'From a grant’s expiresAt to its revocation confirmed by the connector',
    buckets: LAG_BUCKETS,
    registers,
  });
  const connectorFailures = new Counter({
    name: 'jit_connector_failures_total',
    help: 'Failed connector calls by connector type, resource and operation (provision, extend, revoke)',
    labelNames: ['connector', 'resource', 'operation'],
    registers,
  });

  new Gauge({
    name: 'jit_grants',
    help: 'Grants by status, from the store: provisioning (waiting for the connector), active, revoking',
    labelNames: ['status'],
    registers,
    async collect() {
      for (const status of ['provisioning', 'active', 'revoking'] as const) {
        this.set({ status }, await repos.grants.count({ status: [status] }));
      }
    },
  });
  new Gauge({
    name: 'jit_outbox_messages',
    help: 'Messages in the outbox by status (pending: waiting or retrying; undeliverable: given up, kept for OUTBOX_RETENTION)',
    labelNames: ['status'],
    registers,
    async collect() {
      for (const status of ['pending', 'undeliverable'] as const) {
        this.set({ status }, await repos.outbox.count({ status }));
      }
    },
  });
  new Gauge({
    name: 'jit_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest message still waiting to be delivered (0 when none is)',
    registers,
    async collect() {
      const [oldest] = await repos.outbox.list({ status: 'pending', limit: 1 });
      this.set(oldest ? Math.max(0, clock.now().getTime() - oldest.createdAt.getTime()) / 1000 : 0);
    },
  });
  new Gauge({
    name: 'jit_pending_retries',
    help: 'Work that failed at least once and waits for its next attempt: connector calls on grants, and messages',
    labelNames: ['kind'],
    registers,
    async collect() {
      const statuses = ['provisioning', 'active', 'revoking'] as const;
      this.set({ kind: 'connector' }, await repos.grants.count({ status: [...statuses], retrying: true }));
      this.set({ kind: 'message' }, await repos.outbox.count({ status: 'pending', retrying: true }));
    },
  });

  const port: Metrics = {
    request: (outcome) => requests.inc({ outcome }),
    decision(outcome, latencyMs) {
      decisions.inc({ outcome });
      if (latencyMs !== undefined) decisionLatency.observe({ outcome }, Math.max(0, latencyMs) / 1000);
    },
    revocationLag: (lagMs) => revocationLag.observe(Math.max(0, lagMs) / 1000),
    connectorFailure: (connector, resource, operation) =>
      connectorFailures.inc({ connector, resource, operation }),
  };
  return {
    registry,
    port,
    async handler(_req, res) {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(body);
    },
  };
}
