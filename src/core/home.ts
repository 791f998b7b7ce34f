/**
 * The home on every platform that has one (Slack's App Home tab now; a "my access" card in Teams
 * later): shown when the person opens it or acts in it, and refreshed whenever something in it
 * changes for them. A change (a lifecycle event) plans a `home.refresh` job per person whose home
 * shows it (src/domain/home/audience.ts); the job is unique per person and runs shortly after, so a
 * burst of changes costs one refresh (a debounce), and it is retried like any job.
 *
 * Where a home stands (pages, the dashboard's filters) is kept as the person's message record of
 * purpose `home` on that platform (subject `home`; its address holds the state as JSON), so a
 * refresh after a change keeps what they were looking at, on any instance. A person who never
 * opened the home has no record, and nothing is refreshed for them.
 */
import type { Clock } from '../domain/clock.js';
import type { LifecycleEvent, Notifier } from '../domain/events.js';
import { homeAudience } from '../domain/home/audience.js';
import { type HomeState, readHomeState } from '../domain/home/state.js';
import type { AccessConfig } from '../domain/policy.js';
import type { Repositories, Scheduler } from '../domain/ports.js';
import type { AccessService } from '../domain/service.js';
import type { HomeView } from '../domain/views/home.js';
import type { ChatPerson } from './chat.js';

/** How long after a change a person's home is refreshed; changes in between share the refresh. */
export const HOME_REFRESH_DELAY_MS = 2_000;
export const HOME_SUBJECT = 'home';
export const HOME_PURPOSE = 'home';

/** A platform's home surface. */
export interface HomeSurface {
  /** The platform's name (`slack`), as in message records. */
  readonly name: string;
  /** The person with this email on this platform, or null. */
  reach(email: string): Promise<ChatPerson | null>;
  /** Shows `view` as the person's home, replacing what was there. */
  publish(person: ChatPerson, view: HomeView): Promise<void>;
  /** Display names for emails, when the platform knows them. */
  names(emails: string[]): Promise<Map<string, string>>;
}

export interface HomesDeps {
  service: AccessService;
  repos: Repositories;
  surfaces: HomeSurface[];
  clock: Clock;
  newId: () => string;
}

export class Homes {
  constructor(private readonly deps: HomesDeps) {}

  /**
   * Shows `person` their home on `surface`, after `change` to where it stood (a page turned, a
   * filter set), and keeps the new state.
   */
  async show(surface: HomeSurface, person: ChatPerson, change?: (state: HomeState) => HomeState) {
    const stored = await this.state(surface.name, person.email);
    const wanted = change ? change(stored ?? readHomeState({})) : (stored ?? readHomeState({}));
    const built = await this.deps.service.home(person, wanted, (emails) => surface.names(emails));
    await surface.publish(person, built.view);
    await this.deps.repos.messages.save({
      id: this.deps.newId(),
      platform: surface.name,
      subjectId: HOME_SUBJECT,
      purpose: HOME_PURPOSE,
      recipient: person.email,
      address: JSON.stringify({ state: built.state }),
      createdAt: this.deps.clock.now(),
    });
  }

  /** Job `home.refresh` (id: an email): shows the person's home again wherever they opened it. */
  async refresh(email: string): Promise<void> {
    const records = await this.deps.repos.messages.find({
      subjectId: HOME_SUBJECT,
      purpose: HOME_PURPOSE,
      recipient: email,
    });
    for (const record of records) {
      const surface = this.deps.surfaces.find((s) => s.name === record.platform);
      if (!surface) continue;
      const person = await surface.reach(email);
      if (!person) continue;
      await this.show(surface, person);
    }
  }

  private async state(platform: string, email: string): Promise<HomeState | null> {
    const [record] = (
      await this.deps.repos.messages.find({
        subjectId: HOME_SUBJECT,
        purpose: HOME_PURPOSE,
        recipient: email,
      })
    ).filter((r) => r.platform === platform);
    if (!record) return null;
    try {
      return readHomeState((JSON.parse(record.address) as { state?: unknown }).state);
    } catch {
      return null;
    }
  }
}

/**
 * The domain's notifier for homes: each event plans a refresh of the homes that show it, shortly
 * (one pending `home.refresh` per person, so changes in between share it).
 */
export class HomeRefreshNotifier implements Notifier {
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
    const at = new Date(clock.now().getTime() + (delayMs ?? HOME_REFRESH_DELAY_MS));
    for (const email of homeAudience(config(), event))
      await scheduler.schedule('home.refresh', at, { id: email });
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
