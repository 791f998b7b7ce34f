/**
 * The chat-adapter contract: what every chat platform (src/core/chat.ts) must do, run against each
 * one through a harness built on that platform's faithful local fake. Slack runs it in
 * ./slack.test.ts; Teams will run the same suite with a harness of its own.
 *
 * Two halves. The delivery half drives a real `ChatPlatform` (reach, send, update) against the
 * fake and reads back what the recipient sees. The interactive half drives the whole product:
 * a person presses a button on a delivered card, through the platform's signed inbound requests,
 * and the contract watches what the product does and who is told what.
 *
 * Everything the contract knows about people is their email; the harness maps emails to whatever
 * the platform uses (Slack user ids, Teams AAD object ids).
 */
import { afterEach, describe, expect, it as vitestIt } from 'vitest';
import { type ChatPlatform, DeliveryError } from '../../src/core/chat.js';
import { ActionId, type MessageView } from '../../src/domain/views/model.js';

// ------------------------------------------------------------------ the harness a platform supplies

/** A person the fake platform knows. */
export interface ContractPerson {
  email: string;
  /** The name the platform shows for them. */
  name: string;
  /** Their IANA time zone as the platform holds it. */
  tz: string;
}

/**
 * One message as its recipient sees it, read back from the fake platform's own state (not from
 * what the adapter meant to send). Texts are as a person reads them: the platform's escapes
 * decoded (Slack `&lt;` reads as `<`), invisible characters dropped.
 */
export interface SeenMessage {
  /** The platform's identity of the message; an edit in place keeps it (Slack: channel and ts). */
  id: string;
  /** Email of the person whose conversation with the bot holds the message. */
  recipient: string;
  /** The notification / preview text (Slack: the message's `text`). */
  notification: string;
  /** The heading of the message. */
  title: string;
  /** Everything else shown in the message body (lines, field labels and values, small print), no button labels. */
  body: string;
  /** Labels of the buttons on the message, in order; empty when it has none. */
  buttons: string[];
}

/** What a platform would turn into a notification of someone or a clickable link, by its own markup rules. */
export interface ActiveMarkup {
  /** e.g. Slack `<!channel>`, `<@U123>`, or a bare `@here` in text that is not verbatim. */
  mentions: string[];
  /** e.g. Slack `<https://x|label>`, or a bare URL in text that is not verbatim. */
  links: string[];
}

/**
 * Faults the fake platform can be told to answer with. Each lasts until `clear()` and applies to
 * every call the adapter makes (unless said otherwise), so it does not matter which call of an
 * operation meets it first.
 */
export interface FaultInjection {
  /** An HTTP 5xx answer (Slack: 503). */
  serverError(): void;
  /** An HTTP 429 answer saying `Retry-After: <seconds>`. */
  rateLimited(retryAfterSec: number): void;
  /**
   * Sending a message is refused because the recipient does not exist or cannot receive messages
   * (Slack: `user_not_found` when opening the DM). Looking people up still works.
   */
  noSuchUser(): void;
  /** Every call is held at least four times `ChatContractHarness.timeoutMs` before any answer. */
  hang(): void;
  /** Back to normal answers. */
  clear(): void;
}

/** A private answer the product showed to one person (the only one who can see it). */
export interface PrivateAnswer {
  /** Email of the person who sees it. */
  to: string;
  text: string;
}

/** A button press as the product received it. */
export interface Click {
  /** The HTTP status the product answered the platform's request with (200 taken, 401 refused). */
  status: number;
  /**
   * The private answer given as the reply to this very click (Slack: an ephemeral message through
   * the click's `response_url`; Teams: the invoke response shown to the clicker), or null when none
   * came within `withinMs`. An answer sent any other way (Slack `chat.postEphemeral`) is not one.
   */
  answer(withinMs?: number): Promise<PrivateAnswer | null>;
}

/**
 * The interactive side: the whole product running against the fake platform, which sends it
 * signed requests as the platform would. One pending access request, made through the product by
 * `requester` with `approver` as its only approver; `outsider` has nothing to do with it.
 */
export interface InteractionHarness {
  requester: string;
  approver: string;
  outsider: string;
  /** Makes the request; resolves with the address of the approval card once it reached `approver`. */
  pendingApproval(): Promise<{ card: string }>;
  /** The request's status in the product's store: `pending`, `approved`, `denied`… */
  requestStatus(): Promise<string>;
  /** The card as its recipient sees it now. */
  seen(card: string): Promise<SeenMessage | null>;
  /**
   * `as` presses `button` on the card as it was delivered (a stale client may still show buttons
   * after an edit), in a request signed as the platform signs it for that person; `forged` signs
   * it with the wrong secret, `missing` sends no signature.
   */
  click(input: {
    as: string;
    card: string;
    button: ActionId;
    signature?: 'valid' | 'forged' | 'missing';
  }): Promise<Click>;
  /** Every text the person can see from the bot: their conversation with it and private answers to them. */
  visibleTo(email: string): Promise<string[]>;
  /** Resolves once the product has finished the work of every request it accepted (and sent what that caused). */
  settle(): Promise<void>;
}

export interface ChatContractHarness {
  /** The platform under test, as the product builds it, talking to the fake. */
  platform: ChatPlatform;
  /** The same platform configured against an address where nothing listens (a network failure). */
  unreachable: ChatPlatform;
  /** The client timeout `platform` was built with, in ms (keep it short: the hang tests wait for it). */
  timeoutMs: number;
  people: {
    /** Active, with a name and a time zone. */
    reachable: ContractPerson;
    /** An email the platform has nobody for. */
    unknownEmail: string;
    /**
     * An email whose `reach` must ask the platform, and that no test reaches before its fault is
     * injected (default `unknownEmail`: a platform that looks people up by email asks about anyone).
     * A platform that keeps its own record of whom it can reach (Teams: stored conversation
     * references) asks only about someone it has a record of, so it names such a person here.
     */
    lookupEmail?: string;
    /** The email of a deactivated account. */
    deactivatedEmail: string;
  };
  /** Deactivates the account with this email on the fake platform, from now on. */
  deactivate(email: string): Promise<void>;
  /** The message at `address` as its recipient sees it, or null when the platform holds none there. */
  seen(address: string): Promise<SeenMessage | null>;
  /** Every message in the person's conversation with the bot, oldest first. */
  conversationWith(email: string): Promise<SeenMessage[]>;
  /** Mentions and links the platform would make of the message at `address`, by its own markup rules. */
  activeMarkup(address: string): Promise<ActiveMarkup>;
  /** Addresses in this platform's own format that name no message the adapter sent (e.g. an unknown ts). */
  addressesNotMade: string[];
  faults: FaultInjection;
  /** Starts the whole product against a fake of its own (only the tests that click pay for it). */
  interaction(): Promise<InteractionHarness>;
  /** Stops everything the harness started, including any interaction. */
  close(): Promise<void>;
}

// ------------------------------------------------------------------ what the contract sends

/** A pending approval card as the product would build one, in neutral form. */
function cardView(): MessageView {
  return {
    text: 'Carol Support requests access to Acme production for 4 hours',
    title: 'Access request',
    lines: ['Carol Support requests access to Acme production.', 'Nobody has decided yet.'],
    fields: [
      { label: 'Resource', value: 'Acme production' },
      { label: 'Duration', value: '4 hours' },
    ],
    actions: [
      { id: ActionId.approve, label: 'Approve', value: 'req-1', style: 'primary' },
      { id: ActionId.deny, label: 'Deny', value: 'req-1', style: 'danger' },
    ],
    note: 'The request expires in one hour.',
  };
}

/** The same card, decided: a new record and no buttons. */
function decidedView(): MessageView {
  return {
    text: 'Access request from Carol Support: approved',
    title: 'Access request approved',
    lines: ['Approved by Alice Approver at 14:05.'],
    fields: [{ label: 'Outcome', value: 'Approved' }],
  };
}

/** Text a person typed that tries to ping everyone, impersonate a mention, and pose as a link. */
const HOSTILE = [
  '<!channel>',
  '<@U123>',
  '@here',
  '<https://evil.example/login|Your bank>',
  'https://evil.example/login',
];
const HOSTILE_TEXT = `Look ${HOSTILE.join(' ')} now`;

function hostileView(): MessageView {
  return {
    text: HOSTILE_TEXT,
    title: `Request: ${HOSTILE_TEXT}`,
    lines: [HOSTILE_TEXT],
    fields: [{ label: 'Justification', value: HOSTILE_TEXT }],
    actions: [{ id: ActionId.approve, label: 'Approve', value: 'req-1' }],
    note: HOSTILE_TEXT,
  };
}

/** The domain's refusal for someone who is not an approver of the request (src/domain/request-decisions.ts). */
const NOT_AN_APPROVER = 'Only the approvers chosen for this request can decide it.';

/** Addresses no platform makes: the adapter must refuse them without asking anyone. */
const GARBAGE_ADDRESSES = [
  '',
  'not an address',
  'null',
  '{}',
  '[]',
  '{"conversationId":"a:1Xyz","activityId":"1700000000000"}',
];

/**
 * How long an operation against a hanging platform may take, in client timeouts: less than the
 * hang itself (at least four), so an adapter that waits the hang out fails.
 */
const HANG_BOUND_IN_TIMEOUTS = 3;

/** The error `promise` rejected with; fails the test when it resolved or threw something else. */
async function deliveryFailure(promise: Promise<unknown>): Promise<DeliveryError> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => error,
  );
  expect(outcome, 'expected a DeliveryError').toBeInstanceOf(DeliveryError);
  return outcome as DeliveryError;
}

// ------------------------------------------------------------------ the contract

/** Tests a platform leaves out, by title, each with the reason printed in the output. */
export interface ContractOptions {
  skip?: Record<string, string>;
}

export function runChatContract(
  name: string,
  makeHarness: () => Promise<ChatContractHarness>,
  options: ContractOptions = {},
): void {
  const skips = new Map(Object.entries(options.skip ?? {}));
  const defined = new Set<string>();
  /** `it`, or `it.skip` with its reason in the title and on the console, never silently. */
  const it = (title: string, fn: () => Promise<void>) => {
    defined.add(title);
    const reason = skips.get(title);
    if (reason === undefined) {
      vitestIt(title, fn);
      return;
    }
    console.warn(`[chat contract: ${name}] skipping "${title}": ${reason}`);
    vitestIt.skip(`${title} [skipped for ${name}: ${reason}]`, fn);
  };
  describe(`chat platform contract: ${name}`, () => {
    let current: ChatContractHarness | undefined;
    const harness = async () => {
      current = await makeHarness();
      return current;
    };
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });

    /** Reaches the reachable person and sends them the pending card. */
    async function sentCard(h: ChatContractHarness) {
      const person = await h.platform.reach(h.people.reachable.email);
      if (!person) throw new Error(`${h.people.reachable.email} should be reachable`);
      const address = await h.platform.send(person, cardView());
      return { person, address };
    }

    describe('reaching people', () => {
      it('reaches a person by email with their name and time zone', async () => {
        const h = await harness();
        const { email, name: shownName, tz } = h.people.reachable;
        expect(await h.platform.reach(email)).toEqual({ email, name: shownName, tz });
      });

      it('reaches the same person whatever the case of the email it is given', async () => {
        const h = await harness();
        const { email, name: shownName, tz } = h.people.reachable;
        expect(await h.platform.reach(email.toUpperCase())).toEqual({ email, name: shownName, tz });
      });

      it('does not reach an email the platform has nobody for', async () => {
        const h = await harness();
        expect(await h.platform.reach(h.people.unknownEmail)).toBeNull();
      });

      it('does not reach a deactivated account', async () => {
        const h = await harness();
        expect(await h.platform.reach(h.people.deactivatedEmail)).toBeNull();
      });
    });

    describe('sending and updating', () => {
      it('sends a neutral view to a person, who sees its title, lines, fields and buttons', async () => {
        const h = await harness();
        const { address } = await sentCard(h);
        expect(address).toEqual(expect.any(String));
        const view = cardView();
        const seen = await h.seen(address);
        expect(seen).not.toBeNull();
        expect(seen?.recipient).toBe(h.people.reachable.email);
        expect(seen?.title).toBe(view.title);
        expect(seen?.notification).toBe(view.text);
        for (const line of view.lines ?? []) expect(seen?.body).toContain(line);
        for (const field of view.fields ?? []) {
          expect(seen?.body).toContain(field.label);
          expect(seen?.body).toContain(field.value);
        }
        expect(seen?.body).toContain(view.note);
        expect(seen?.buttons).toEqual(['Approve', 'Deny']);
        expect(await h.conversationWith(h.people.reachable.email)).toEqual([seen]);
      });

      it('gives every message it sends an address of its own', async () => {
        const h = await harness();
        const { person, address: first } = await sentCard(h);
        const second = await h.platform.send(person, decidedView());
        expect(second).not.toBe(first);
        expect((await h.seen(first))?.title).toBe('Access request');
        expect((await h.seen(second))?.title).toBe('Access request approved');
        expect(await h.conversationWith(person.email)).toHaveLength(2);
      });

      it('updates the message at an address in place: same message, new content, no buttons when the view has none', async () => {
        const h = await harness();
        const { person, address } = await sentCard(h);
        const other = await h.platform.send(person, cardView());
        const before = await h.seen(address);

        await h.platform.update(address, decidedView());

        const after = await h.seen(address);
        expect(after?.id).toBe(before?.id);
        expect(after?.recipient).toBe(person.email);
        expect(after?.title).toBe('Access request approved');
        expect(after?.notification).toBe('Access request from Carol Support: approved');
        expect(after?.body).toContain('Approved by Alice Approver at 14:05.');
        expect(after?.body).not.toContain('Nobody has decided yet.');
        expect(after?.buttons).toEqual([]);
        // Nothing new was posted, and the other message is untouched.
        expect((await h.conversationWith(person.email)).map((m) => m.id)).toEqual([
          before?.id,
          (await h.seen(other))?.id,
        ]);
        expect((await h.seen(other))?.buttons).toEqual(['Approve', 'Deny']);
      });

      it('refuses an address it did not make as a permanent DeliveryError and changes no message', async () => {
        const h = await harness();
        const { address } = await sentCard(h);
        const before = await h.seen(address);
        expect(h.addressesNotMade.length).toBeGreaterThan(0);
        for (const foreign of [...GARBAGE_ADDRESSES, ...h.addressesNotMade]) {
          const error = await deliveryFailure(h.platform.update(foreign, decidedView()));
          expect(error.permanent, `update(${JSON.stringify(foreign)})`).toBe(true);
        }
        expect(await h.conversationWith(h.people.reachable.email)).toEqual([before]);
      });
    });

    describe('typed text', () => {
      it('keeps typed text inert: mentions and links in a view neither notify anyone nor become links', async () => {
        const h = await harness();
        const person = await h.platform.reach(h.people.reachable.email);
        if (!person) throw new Error('reachable person not reached');
        const sent = await h.platform.send(person, hostileView());
        const updated = await h.platform.send(person, cardView());
        await h.platform.update(updated, hostileView());

        for (const address of [sent, updated]) {
          expect(await h.activeMarkup(address)).toEqual({ mentions: [], links: [] });
          // …and still shows what was typed, character for character.
          const seen = await h.seen(address);
          expect(seen?.title).toBe(`Request: ${HOSTILE_TEXT}`);
          expect(seen?.notification).toBe(HOSTILE_TEXT);
          for (const typed of HOSTILE) expect(seen?.body).toContain(typed);
        }
      });
    });

    describe('failures', () => {
      it('reports a server error as a DeliveryError that is not permanent, and works again once the platform does', async () => {
        const h = await harness();
        const { person, address } = await sentCard(h);
        h.faults.serverError();
        // A platform that cannot answer does not make an email unknown.
        const failures = [
          await deliveryFailure(h.platform.reach(h.people.lookupEmail ?? h.people.unknownEmail)),
          await deliveryFailure(h.platform.send(person, cardView())),
          await deliveryFailure(h.platform.update(address, decidedView())),
        ];
        expect(failures.map((e) => e.permanent)).toEqual([false, false, false]);
        h.faults.clear();
        await h.platform.update(address, decidedView());
        expect((await h.seen(address))?.title).toBe('Access request approved');
        expect(await h.platform.reach(h.people.unknownEmail)).toBeNull();
      });

      it('reports an unreachable platform as a DeliveryError that is not permanent', async () => {
        const h = await harness();
        const { person, address } = await sentCard(h);
        const failures = [
          await deliveryFailure(h.unreachable.reach(person.email)),
          await deliveryFailure(h.unreachable.send(person, cardView())),
          await deliveryFailure(h.unreachable.update(address, decidedView())),
        ];
        expect(failures.map((e) => e.permanent)).toEqual([false, false, false]);
      });

      it('reports a rate limit as a DeliveryError that is not permanent and waits as long as Retry-After says', async () => {
        const h = await harness();
        const { person, address } = await sentCard(h);
        h.faults.rateLimited(7);
        const failures = [
          await deliveryFailure(h.platform.reach(h.people.lookupEmail ?? h.people.unknownEmail)),
          await deliveryFailure(h.platform.send(person, cardView())),
          await deliveryFailure(h.platform.update(address, decidedView())),
        ];
        expect(failures.map((e) => [e.permanent, e.retryAfterMs])).toEqual([
          [false, 7000],
          [false, 7000],
          [false, 7000],
        ]);
      });

      it('reports a recipient the platform says does not exist as a permanent DeliveryError', async () => {
        const h = await harness();
        const person = await h.platform.reach(h.people.reachable.email);
        if (!person) throw new Error('reachable person not reached');
        h.faults.noSuchUser();
        const error = await deliveryFailure(h.platform.send(person, cardView()));
        expect(error.permanent).toBe(true);
        expect(await h.conversationWith(person.email)).toEqual([]);
      });

      it('reports sending to a person deactivated since they were reached as a permanent DeliveryError', async () => {
        const h = await harness();
        const person = await h.platform.reach(h.people.reachable.email);
        if (!person) throw new Error('reachable person not reached');
        await h.deactivate(person.email);
        const error = await deliveryFailure(h.platform.send(person, cardView()));
        expect(error.permanent).toBe(true);
        expect(await h.conversationWith(person.email)).toEqual([]);
      });

      it('gives up on a platform that hangs once its timeout has passed, with a DeliveryError that is not permanent', async () => {
        const h = await harness();
        const { person, address } = await sentCard(h);
        h.faults.hang();
        const timed = async (operation: Promise<unknown>) => {
          const started = Date.now();
          const error = await deliveryFailure(operation);
          return { permanent: error.permanent, ms: Date.now() - started };
        };
        const outcomes = await Promise.all([
          timed(h.platform.reach(h.people.lookupEmail ?? h.people.unknownEmail)),
          timed(h.platform.send(person, decidedView())),
          timed(h.platform.update(address, decidedView())),
        ]);
        for (const outcome of outcomes) {
          expect(outcome.permanent).toBe(false);
          // It did wait for the timeout (the hang was real), and not much longer.
          expect(outcome.ms).toBeGreaterThanOrEqual(h.timeoutMs - 50);
          expect(outcome.ms).toBeLessThan(h.timeoutMs * HANG_BOUND_IN_TIMEOUTS);
        }
      });
    });

    describe('clicks', () => {
      it('acts on a click as the person who signed it: an outsider is refused, the chosen approver approves', async () => {
        const i = await (await harness()).interaction();
        const { card } = await i.pendingApproval();

        const byOutsider = await i.click({ as: i.outsider, card, button: ActionId.approve });
        expect(byOutsider.status).toBe(200);
        expect(await byOutsider.answer()).toEqual({ to: i.outsider, text: NOT_AN_APPROVER });
        await i.settle();
        expect(await i.requestStatus()).toBe('pending');
        expect((await i.seen(card))?.buttons).toEqual(['Approve', 'Deny']);

        const byApprover = await i.click({ as: i.approver, card, button: ActionId.approve });
        expect(byApprover.status).toBe(200);
        await i.settle();
        expect(await i.requestStatus()).toBe('approved');
        // The card was resolved in place: no buttons left to press.
        expect((await i.seen(card))?.buttons).toEqual([]);
      });

      it('answers a click privately: the reply to the click reaches the clicker and nobody else', async () => {
        const i = await (await harness()).interaction();
        const { card } = await i.pendingApproval();

        const refused = await i.click({ as: i.outsider, card, button: ActionId.deny });
        expect(await refused.answer()).toEqual({ to: i.outsider, text: NOT_AN_APPROVER });
        await i.settle();
        expect(await i.visibleTo(i.outsider)).toContain(NOT_AN_APPROVER);
        for (const other of [i.approver, i.requester]) {
          expect((await i.visibleTo(other)).join('\n')).not.toContain(NOT_AN_APPROVER);
        }

        // The approver decides, then presses Approve again on the card as it was delivered.
        await i.click({ as: i.approver, card, button: ActionId.approve });
        await i.settle();
        const again = await i.click({ as: i.approver, card, button: ActionId.approve });
        const answer = await again.answer();
        expect(answer?.to).toBe(i.approver);
        expect(answer?.text).toContain('already approved this request');
        await i.settle();
        for (const other of [i.outsider, i.requester]) {
          expect((await i.visibleTo(other)).join('\n')).not.toContain('already approved this request');
        }
      });

      it('refuses a click with a forged or missing signature with 401 and changes nothing', async () => {
        const i = await (await harness()).interaction();
        const { card } = await i.pendingApproval();
        await i.settle();
        const seenBefore = await i.visibleTo(i.approver);

        for (const signature of ['forged', 'missing'] as const) {
          const click = await i.click({ as: i.approver, card, button: ActionId.approve, signature });
          expect(click.status, `${signature} signature`).toBe(401);
          expect(await click.answer(300)).toBeNull();
        }
        await i.settle();
        expect(await i.requestStatus()).toBe('pending');
        expect((await i.seen(card))?.buttons).toEqual(['Approve', 'Deny']);
        expect(await i.visibleTo(i.approver)).toEqual(seenBefore);

        // The very same click, signed, is taken: it was only the signature that was refused.
        const signed = await i.click({ as: i.approver, card, button: ActionId.approve });
        expect(signed.status).toBe(200);
        await i.settle();
        expect(await i.requestStatus()).toBe('approved');
      });
    });

    // A skip that names no test would quietly stop skipping what it meant to (runs once all are defined).
    vitestIt('skips only tests the contract has', () => {
      expect([...skips.keys()].filter((title) => !defined.has(title))).toEqual([]);
    });
  });
}
