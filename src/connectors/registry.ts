import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { ConnectorConfig } from '../domain/policy.js';
import { type Connector, ConnectorError, type ConnectorRegistry } from '../domain/ports.js';
import { LogConnector } from './log.js';
import { SlackUsergroupConnector } from './slack-usergroup.js';
import { WebhookConnector } from './webhook.js';

export interface ConnectorRegistryOptions {
  resources: Array<{ id: string; connector: ConnectorConfig }>;
  /** The value of an environment variable holding a webhook secret; may throw when it is unset. */
  secretFor(envName: string): string;
  clock: Clock;
  logger: Logger;
  /** Required when any resource uses a `slack-usergroup` connector. */
  slack?: { client: WebClient; lookupUserId(email: string): Promise<string> };
}

/**
 * Builds one connector per resource at start-up, so a missing secret or Slack client stops the bot
 * from starting instead of failing the first grant. Throws an `Error` naming the resource.
 *
 * `forResource` for a resource that is not configured (e.g. removed from the policy while grants on
 * it were still active) returns a connector that always fails with a non-retryable
 * `ConnectorError`, so the domain reports it instead of the job crashing.
 */
export function createConnectorRegistry(opts: ConnectorRegistryOptions): ConnectorRegistry {
  const connectors = new Map<string, Connector>();
  for (const resource of opts.resources) {
    if (connectors.has(resource.id)) {
      throw new Error(`connectors: resource ${resource.id} is configured twice`);
    }
    connectors.set(resource.id, build(resource.id, resource.connector, opts));
  }
  return {
    forResource(resourceId: string): Connector {
      return connectors.get(resourceId) ?? new MissingConnector(resourceId);
    },
  };
}

function build(resourceId: string, config: ConnectorConfig, opts: ConnectorRegistryOptions): Connector {
  switch (config.type) {
    case 'webhook': {
      let secret: string;
      try {
        secret = opts.secretFor(config.secretEnv);
      } catch (err) {
        const why = err instanceof Error ? `: ${err.message}` : '';
        throw new Error(
          `connectors: resource ${resourceId}: webhook secret ${config.secretEnv} is not available${why}`,
        );
      }
      if (!secret) {
        throw new Error(`connectors: resource ${resourceId}: webhook secret ${config.secretEnv} is empty`);
      }
      try {
        return new WebhookConnector({
          url: config.url,
          secret,
          timeoutMs: config.timeoutMs,
          clock: opts.clock,
        });
      } catch (err) {
        throw new Error(`connectors: resource ${resourceId}: ${(err as Error).message}`);
      }
    }
    case 'slack-usergroup': {
      if (!opts.slack) {
        throw new Error(
          `connectors: resource ${resourceId} uses a slack-usergroup connector (${config.usergroupId}) but no Slack client is configured`,
        );
      }
      const slack = opts.slack;
      return new SlackUsergroupConnector({
        client: slack.client,
        usergroupId: config.usergroupId,
        lookupUserId: (email) => slack.lookupUserId(email),
      });
    }
    case 'log':
      return new LogConnector(opts.logger);
    default: {
      const unknown: never = config;
      throw new Error(
        `connectors: resource ${resourceId}: unknown connector type ${String((unknown as { type?: unknown }).type)}`,
      );
    }
  }
}

class MissingConnector implements Connector {
  readonly type = 'missing';
  constructor(private readonly resourceId: string) {}
  async deliver(): Promise<void> {
    throw new ConnectorError(`no connector is configured for resource ${this.resourceId}`, false);
  }
}
