/**
 * The domain's metrics port: counters and timings reported where things happen, without the domain
 * knowing Prometheus. src/http/metrics.ts implements it with prom-client; tests and tools that do
 * not care pass nothing and get `NO_METRICS`. Levels (active grants, outbox depth, retries) are not
 * reported here: they are read from the store when scraped, so every instance shows the same truth.
 */
import type { ConnectorOperation } from './events.js';

/** What became of a submission: sent to approvers, approved on submit, or refused. */
export type RequestOutcome = 'submitted' | 'auto_approved' | 'refused';

/** What became of a pending request, or of someone's attempt to decide it. */
export type DecisionOutcome = 'approved' | 'denied' | 'expired' | 'cancelled' | 'refused';

export interface Metrics {
  request(outcome: RequestOutcome): void;
  /** `latencyMs`: from submission to the decision (absent for a refused attempt). */
  decision(outcome: DecisionOutcome, latencyMs?: number): void;
  /** An expired grant's revocation was confirmed `lagMs` after its `expiresAt`. */
  revocationLag(lagMs: number): void;
  /** A connector call failed (`connector`: the connector type, e.g. `webhook`). */
  connectorFailure(connector: string, resourceId: string, operation: ConnectorOperation): void;
}

export const NO_METRICS: Metrics = {
  request() {},
  decision() {},
  revocationLag() {},
  connectorFailure() {},
};
