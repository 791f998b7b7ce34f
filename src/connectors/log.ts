import type { Logger } from 'pino';
import type { Connector, ConnectorEvent } from '../domain/ports.js';

/**
 * Provisions nothing: logs each event at info and succeeds. For demos, dry runs and resources whose
 * access is granted by hand from the log. The justification is never logged.
 */
export class LogConnector implements Connector {
  readonly type = 'log';

  constructor(private readonly logger: Logger) {}

  async deliver(event: ConnectorEvent): Promise<void> {
    this.logger.info(
      {
        event: event.event,
        grantId: event.grant.id,
        resourceId: event.grant.resourceId,
        user: event.grant.user.email,
        expiresAt: event.grant.expiresAt,
        idempotencyKey: event.idempotencyKey,
      },
      'connector.delivered',
    );
  }
}
