/**
 * The home on every platform that has one (Slack's App Home tab; Teams' "my access" and
 * "dashboard" cards): shown when the person opens it or acts in it, and refreshed whenever something
 * in it changes for them. A change (a lifecycle event) plans a `home.refresh` job per person whose
 * home shows it (src/domain/home/audience.ts); the job is unique per person and runs shortly after,
 * so a burst of changes costs one refresh (a debounce), and it is retried like any job.
 *
 * Where each home stands (pages, the dashboard's filters, where the surface shows it) is kept as the
 * person's message record of purpose `home` (or `home.<kind>`) on that platform (./home-record.ts),
 * so a refresh keeps what they were looking at, on any instance, after a restart too. A person who
 * never opened a home has no record, and nothing is refreshed for them. A refresh only ever edits
 * what is there (it never sends a new message), sends nothing when the home would look the same,
 * and writes the record back with a compare-and-swap: when a press or a new card came in meanwhile,
 * it shows the home again as that left it.
 */

import type { Clock } from '../domain/clock.js';
import type { LifecycleEvent, Log, Notifier } from '../domain/events.js';
import { homeAudience } from '../domain/home/audience.js';
import { type HomeState, initialHomeState } from '../domain/home/state.js';
import type { MessageRecord } from '../domain/model.js';
import type { AccessConfig } from '../domain/policy.js';
import type { Repositories, Scheduler } from '../domain/ports.js';
import type { AccessService } from '../domain/service.js';
import type { HomeView } from '../domain/views/home.js';
import { type ChatPerson, DeliveryError } from './chat.js';
import {
  HOME_PURPOSE,
  HOME_SUBJECT,
  type HomeRecord,
  homeFingerprint,
  isHomePurpose,
  readHomeRecord,
  writeHomeRecord,
} from './home-record.js';

export { HOME_PURPOSE, HOME_SUBJECT } from './home-record.js';

/** How long after a change a person's home is refreshed; changes in between share the refresh. */
export const HOME_REFRESH_DELAY_MS = 2_000;

/** How often a refresh shows a home again when presses keep coming in meanwhile. */
const REFRESH_TRIES = 3;

/** One home of a person on a surface: which record keeps it, and where the surface shows it. */
export interface HomePlace {
  /** The record's purpose: `home`, or `home.<kind>` for a surface with several homes. */
  purpose: string;
  /** Where the surface shows it (JSON; the surface reads it back). */
  where?: unknown;
}

/** A platform's home surface. */
export interface HomeSurface {
  /** The platform's name (`slack`, `teams`), as in message records. */
  readonly name: string;
  /** The person with this email on this platform, or null. */
  reach(email: string): Promise<ChatPerson | null>;
  /**
   * Shows `view` as the person's home at `where` (replacing what was there), with the `state` it
   * was built at. Throws a permanent `DeliveryError` when the place is gone for good.
   */
  publish(person: ChatPerson, view: HomeView, at: { state: HomeState; where?: unknown }): Promise<void>;
  /** What the home at `place` shows of the person's whole home (default: all of it). */
  part?(view: HomeView, place: HomePlace): HomeView;
  /** Display names for emails, when the platform knows them. */
  names(emails: string[]): Promise<Map<string, string>>;
}

export interface HomesDeps {
  service: AccessService;
  repos: Repositories;
  surfaces: HomeSurface[];
  clock: Clock;
  newId: () => string;
  log: Log;
}

export class Homes {
  constructor(private readonly deps: HomesDeps) {}

  /**
   * Shows `person` their home on `surface` (its one place), after `change` to where it stood (a
   * page turned, a filter set), and keeps the new state.
   */
  async show(surface: HomeSurface, person: ChatPerson, change?: (state: HomeState) => HomeState) {
    const place = { purpose: HOME_PURPOSE };
    const stored = (await this.record(surface.name, person.email, place.purpose))?.home.state;
    const base = stored ?? initialHomeState();
    const built = await this.build(surface, person, change ? change(base) : base, place);
    await surface.publish(person, built.view, { state: built.state });
    await this.remember(surface, person.email, place, built);
  }

  /**
   * The person's home at `state` as `place` shows it: the surface's part of it, and the state as
   * shown (pages clamped, the dashboard's next cursor).
   */
  async build(
    surface: HomeSurface,
    person: ChatPerson,
    state: HomeState,
    place: HomePlace,
  ): Promise<{ view: HomeView; state: HomeState }> {
    const built = await this.deps.service.home(person, state, (emails) => surface.names(emails));
    const view = surface.part ? surface.part(built.view, place) : built.view;
    return { view, state: built.state };
  }

  /**
   * Keeps `shown` (from `build`) as what `place` shows now: a surface that showed the home itself
   * (a card sent, a press answered) says so here, and refreshes then go there. Returns where the
   * same home was shown before, when that was somewhere else (an older card).
   */
  async remember(
    surface: HomeSurface,
    email: string,
    place: HomePlace,
    shown: { view: HomeView; state: HomeState },
  ): Promise<unknown> {
    const before = await this.record(surface.name, email, place.purpose);
    await this.write(surface.name, email, place, {
      state: shown.state,
      shown: homeFingerprint(shown.view, shown.state),
    });
    const old = before?.home.where;
    return old !== undefined && JSON.stringify(old) !== JSON.stringify(place.where) ? old : undefined;
  }

  /** `place` shows something else for now (a form opened from it): it is not refreshed meanwhile. */
  async park(surface: HomeSurface, email: string, place: HomePlace, state: HomeState): Promise<void> {
    await this.write(surface.name, email, place, { state, parked: 'away' });
  }

  /**
   * Job `home.refresh` (id: an email): shows each of the person's homes again where it is, at the
   * state it was left in. Every home is tried; then the first failure worth another try is thrown,
   * so the job is retried. A home whose place is gone for good is given up, with a log line.
   */
  async refresh(email: string): Promise<void> {
    const records = (
      await this.deps.repos.messages.find({ subjectId: HOME_SUBJECT, recipient: email })
    ).filter((r) => isHomePurpose(r.purpose));
    const results = await Promise.allSettled(records.map((r) => this.refreshOne(r)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async refreshOne(first: MessageRecord): Promise<void> {
    const surface = this.deps.surfaces.find((s) => s.name === first.platform);
    if (!surface) return;
    const person = await surface.reach(first.recipient);
    if (!person) return;
    let record: MessageRecord | undefined = first;
    for (let i = 0; record && i < REFRESH_TRIES; i++) {
      const home = readHomeRecord(record.address);
      if (home.parked) return;
      const place = { purpose: record.purpose, where: home.where };
      const built = await this.build(surface, person, home.state, place);
      const shown = homeFingerprint(built.view, built.state);
      if (shown === home.shown) return; // it already shows exactly this
      let next: HomeRecord = { state: built.state, shown };
      try {
        await surface.publish(person, built.view, { state: built.state, where: home.where });
      } catch (error) {
        if (!(error instanceof DeliveryError) || !error.permanent) throw error;
        this.deps.log.warn(
          { platform: surface.name, email: person.email, purpose: record.purpose, err: error.message },
          'home.refresh_given_up: the home is no longer where it was shown; it is refreshed again once the person opens it',
        );
        next = { state: home.state, parked: 'gone' };
      }
      if (home.where !== undefined) next.where = home.where;
      if (await this.swap(record, next)) return;
      // A press or a new card came in meanwhile: show the home again as that left it.
      record = (await this.record(surface.name, person.email, record.purpose))?.message;
    }
  }

  private swap(record: MessageRecord, home: HomeRecord): Promise<boolean> {
    const address = writeHomeRecord({ ...home, rev: this.deps.newId() });
    return this.deps.repos.messages.replace({ ...record, address }, record.address);
  }

  private async write(platform: string, email: string, place: HomePlace, home: HomeRecord) {
    await this.deps.repos.messages.save({
      id: this.deps.newId(),
      platform,
      subjectId: HOME_SUBJECT,
      purpose: place.purpose,
      recipient: email,
      address: writeHomeRecord({
        ...home,
        ...(place.where !== undefined ? { where: place.where } : {}),
        rev: this.deps.newId(),
      }),
      createdAt: this.deps.clock.now(),
    });
  }

  private async record(platform: string, email: string, purpose: string) {
    const found = (
      await this.deps.repos.messages.find({ subjectId: HOME_SUBJECT, purpose, recipient: email })
    ).find((r) => r.platform === platform);
    return found ? { message: found, home: readHomeRecord(found.address) } : null;
  }
}

/**
 * The domain's notifier for homes: each event plans a refresh of the homes that show it, shortly
 * (one pending `home.refresh` per person, so changes in between share it). A person whose refresh
 * this process already planned and which has not come due yet is not planned again: that refresh
 * reads the store when it runs, so it shows this change too, and a burst of changes costs neither a
 * scheduler write per change nor a refresh pushed ever later while changes keep coming.
 */
export class HomeRefreshNotifier implements Notifier {
  /** email → when the refresh this process planned for them comes due (ms); pruned as they pass. */
  private readonly planned = new Map<string, number>();

  constructor(
    private readonly deps: {
      scheduler: Scheduler;
      clock: Clock;
      config: () => AccessConfig;
      delayMs?: number;
    },
  ) {}

  async notify(event: LifecycleEvent): Promise<void> {
    const { scheduler, clock, config, delayMs } = this.deps;
    const now = clock.now().getTime();
    const due = now + (delayMs ?? HOME_REFRESH_DELAY_MS);
    if (this.planned.size > 10_000) this.forgetPast(now);
    for (const email of homeAudience(config(), event)) {
      const planned = this.planned.get(email);
      if (planned !== undefined && planned > now && planned <= due) continue;
      await scheduler.schedule('home.refresh', new Date(due), { id: email });
      this.planned.set(email, due);
    }
  }

  private forgetPast(now: number): void {
    for (const [email, due] of this.planned) if (due <= now) this.planned.delete(email);
    // Still too many pending at once: forget them all (at worst a refresh is planned twice).
    if (this.planned.size > 10_000) this.planned.clear();
  }
}

/** Several notifiers: each is told every event; a failure of any is reported after all were told. */
export class Notifiers implements Notifier {
  constructor(private readonly all: Notifier[]) {}

  async notify(event: LifecycleEvent): Promise<void> {
    const results = await Promise.allSettled(this.all.map((n) => n.notify(event)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
