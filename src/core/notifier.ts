/**
 * The domain's `Notifier` for every platform: a lifecycle event becomes deliveries
 * (./deliveries.ts), stored in the outbox (./outbox.ts) before anything is sent. Storing is
 * retried briefly; the send itself happens in the `outbox.deliver` job, never in the caller, so a
 * slow or failing chat API never delays anyone's click.
 */
import type { LifecycleEvent, Log, Notifier } from '../domain/events.js';
import { plan } from './deliveries.js';
import { notificationDelivery } from './notifications.js';
import type { Outbox } from './outbox.js';

/** Waits before each further try of storing an event's deliveries. */
const ENQUEUE_RETRY_MS = [100, 500, 2_000];

export class OutboxNotifier implements Notifier {
  constructor(
    private readonly outbox: Outbox,
    private readonly log: Log,
    /** True while the policy in force has a notifications webhook: every event is also queued for it. */
    private readonly webhookOn: () => boolean = () => false,
  ) {}

  async notify(event: LifecycleEvent): Promise<void> {
    const deliveries = [...plan(event), ...(this.webhookOn() ? [notificationDelivery(event)] : [])];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.outbox.enqueue(deliveries);
        return;
      } catch (error) {
        const wait = ENQUEUE_RETRY_MS[attempt];
        if (wait === undefined) throw error;
        this.log.warn({ err: error, event: event.type, attempt: attempt + 1 }, 'outbox.enqueue_retrying');
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}
