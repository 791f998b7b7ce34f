/**
 * Turns lifecycle events into Slack direct messages, remembering where each card was sent so
 * later events edit it in place. Fan-out uses Promise.allSettled and reports every failure.
 */
import type { WebClient } from '@slack/web-api';
import type { LifecycleEvent, Log, Notifier } from '../../domain/events.js';
import type { MessageRecord } from '../../domain/model.js';
import type { MessageRecordRepo } from '../../domain/ports.js';
import {
  approvalCard,
  autoApprovedNotice,
  connectorFailing,
  decisionNotice,
  extendedNotice,
  grantStatus,
  reminder,
  requesterStatus,
} from '../../domain/views/messages.js';
import type { MessageView } from '../../domain/views/model.js';
import type { SlackDirectory, SlackPerson } from './directory.js';
import { renderMessage } from './render.js';

export const Purpose = {
  approvalCard: 'approval-card',
  requesterStatus: 'requester-status',
  reminder: 'reminder',
} as const;

export class SlackNotifier implements Notifier {
  constructor(
    private readonly client: WebClient,
    private readonly directory: SlackDirectory,
    private readonly messages: MessageRecordRepo,
    private readonly clock: { now(): Date },
    private readonly log: Log,
    private readonly newId: () => string,
  ) {}

  /** Sends a direct message; returns where it went, or null if the person is not in this workspace. */
  async dm(
    email: string,
    build: (p: SlackPerson) => MessageView | Promise<MessageView>,
    remember?: { subjectId: string; purpose: string },
  ): Promise<MessageRecord | null> {
    const person = await this.directory.byEmail(email);
    if (!person) {
      this.log.warn({ recipient: email }, 'slack.recipient_not_found');
      return null;
    }
    const opened = await this.client.conversations.open({ users: person.userId });
    const channel = opened.channel?.id;
    if (!channel) throw new Error(`conversations.open returned no channel for ${person.userId}`);
    const rendered = renderMessage(await build(person));
    const posted = await this.client.chat.postMessage({
      channel,
      ...rendered,
      unfurl_links: false,
      unfurl_media: false,
    });
    const ref: MessageRecord = {
      id: this.newId(),
      platform: 'slack',
      subjectId: remember?.subjectId ?? '',
      purpose: remember?.purpose ?? 'notice',
      recipient: email,
      address: JSON.stringify({ channel, ts: posted.ts ?? '' }),
      createdAt: this.clock.now(),
    };
    if (remember && posted.ts) await this.messages.save(ref);
    return ref;
  }

  /** Edits every stored message for (subject, purpose) in place. */
  async updateAll(
    subjectId: string,
    purpose: string,
    build: (p: SlackPerson | null) => MessageView,
  ): Promise<void> {
    const refs = (await this.messages.find({ subjectId, purpose })).filter((r) => r.platform === 'slack');
    await settle(
      refs.map(async (ref) => {
        const person = await this.directory.byEmail(ref.recipient);
        const rendered = renderMessage(build(person));
        const { channel, ts } = JSON.parse(ref.address) as { channel: string; ts: string };
        await this.client.chat.update({ channel, ts, ...rendered });
      }),
    );
  }

  private viewer(p: SlackPerson | null) {
    return { now: this.clock.now(), ...(p?.tz ? { tz: p.tz } : {}) };
  }

  /**
   * Events about one request or grant are handled one after another in this process, so a
   * decision that lands while the cards are still being sent still finds (and edits) every card.
   */
  private readonly queues = new Map<string, Promise<void>>();

  async notify(event: LifecycleEvent): Promise<void> {
    // Grant events (including grant.extended) queue under the grant's original request.
    const key = 'grant' in event ? event.grant.requestId : event.request.id;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(() => this.handle(event));
    const tail = run.catch(() => {});
    this.queues.set(key, tail);
    try {
      await run;
    } finally {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    }
  }

  private async handle(event: LifecycleEvent): Promise<void> {
    const v = (p: SlackPerson | null) => this.viewer(p);
    switch (event.type) {
      case 'request.submitted': {
        const { request: r, resource } = event;
        const names = await this.directory.names(r.approvers);
        const nameOf = (e: string) => names.get(e) ?? e;
        const sent = await Promise.allSettled(
          r.approvers.map((email) =>
            this.dm(email, (p) => approvalCard(r, resource, v(p)), {
              subjectId: r.id,
              purpose: Purpose.approvalCard,
            }),
          ),
        );
        // The requester is told who did not get the request, so it does not silently expire.
        const unreachable = r.approvers.filter((_, i) => {
          const result = sent[i];
          return result?.status === 'rejected' || result?.value === null;
        });
        await settle([
          ...sent.map((x) => (x.status === 'rejected' ? Promise.reject(x.reason) : Promise.resolve())),
          this.dm(r.requester.email, (p) => requesterStatus(r, resource, v(p), nameOf, unreachable), {
            subjectId: r.id,
            purpose: Purpose.requesterStatus,
          }),
        ]);
        return;
      }
      case 'request.decided':
      case 'request.expired':
      case 'request.cancelled': {
        const { request: r, resource } = event;
        const names = await this.directory.names(r.approvers);
        const nameOf = (e: string) => names.get(e) ?? e;
        const told = r.approvers.filter((a) => a !== r.decidedBy);
        await settle([
          this.updateAll(r.id, Purpose.approvalCard, (p) => approvalCard(r, resource, v(p))),
          this.updateAll(r.id, Purpose.requesterStatus, (p) => requesterStatus(r, resource, v(p), nameOf)),
          // The requester gets a fresh message (an edit notifies nobody); expiry offers "Request again".
          this.dm(r.requester.email, (p) =>
            event.type === 'request.decided'
              ? decisionNotice(r, resource, v(p))
              : requesterStatus(r, resource, v(p), nameOf),
          ),
          ...(event.type === 'request.decided'
            ? told.map((email) => this.dm(email, (p) => decisionNotice(r, resource, v(p))))
            : []),
        ]);
        return;
      }
      case 'request.auto_approved': {
        const { request: r, resource } = event;
        await settle([
          ...event.informed.map((email) => this.dm(email, (p) => autoApprovedNotice(r, resource, v(p)))),
          this.dm(r.requester.email, (p) => requesterStatus(r, resource, v(p), (e) => e)),
        ]);
        return;
      }
      case 'grant.activated':
      case 'grant.provisioning_delayed':
      case 'grant.revocation_delayed':
        await this.dm(event.grant.holder.email, async (p) =>
          grantStatus(event.grant, event.resource, v(p), (e) => e),
        );
        return;
      case 'grant.connector_failing':
        await settle(
          event.recipients.map((email) =>
            this.dm(email, (p) => connectorFailing(event.grant, event.resource, event.operation, v(p))),
          ),
        );
        return;
      case 'grant.reminder':
        await this.dm(
          event.grant.holder.email,
          (p) => reminder(event.grant, event.resource, v(p), event.extensionsAllowed),
          { subjectId: event.grant.id, purpose: Purpose.reminder },
        );
        return;
      case 'grant.extended':
        await settle([
          this.updateAll(event.grant.id, Purpose.reminder, (p) =>
            extendedNotice(event.grant, event.resource, v(p)),
          ),
          this.dm(event.grant.holder.email, (p) => extendedNotice(event.grant, event.resource, v(p))),
        ]);
        return;
      case 'grant.ended': {
        const names = await this.directory.names(event.grant.endedBy ? [event.grant.endedBy] : []);
        const build = (p: SlackPerson | null) =>
          grantStatus(event.grant, event.resource, v(p), (e) => names.get(e) ?? e);
        await settle([
          this.updateAll(event.grant.id, Purpose.reminder, build),
          this.dm(event.grant.holder.email, build),
        ]);
        return;
      }
    }
  }
}

/** Waits for every send; if any failed, throws one error naming them all (the caller logs it). */
async function settle(work: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(work);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length) {
    throw new AggregateError(
      failures.map((f) => f.reason),
      `${failures.length} of ${results.length} Slack messages failed`,
    );
  }
}
