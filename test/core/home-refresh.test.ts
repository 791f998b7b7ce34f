/**
 * The core of `home.refresh` (src/core/home.ts) on the domain over the memory store, with a surface
 * that records what it is asked to show: it shows a home again only when it changed, never writes
 * over a press that came in meanwhile, gives up a place that is gone (once, with a log line), and
 * throws what is worth retrying only after every other home was refreshed.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ChatPerson, DeliveryError } from '../../src/core/chat.js';
import {
  HOME_SUBJECT,
  type HomePlace,
  HomeRefreshNotifier,
  type HomeSurface,
  Homes,
} from '../../src/core/home.js';
import { readHomeRecord } from '../../src/core/home-record.js';
import type { Log } from '../../src/domain/events.js';
import { initialHomeState } from '../../src/domain/home/state.js';
import type { HomeView } from '../../src/domain/views/home.js';
import { type MemoryDomain, startMemoryDomain } from '../support/domain.js';

const POLICY = `
resources:
  - id: db
    name: Database
    approvers: [amy@example.com]
    connector: { type: log }
`;
const AMY: ChatPerson = { email: 'amy@example.com', name: 'Amy Approver' };

class RecordingSurface implements HomeSurface {
  readonly name = 'test';
  readonly shown: Array<{ where: unknown; view: HomeView }> = [];
  /** Runs before each publish (a press arriving meanwhile), or fails it. */
  before?: (where: unknown) => Promise<void> | void;

  async reach(email: string) {
    return email === AMY.email ? AMY : null;
  }

  async publish(_person: ChatPerson, view: HomeView, at: { where?: unknown }) {
    await this.before?.(at.where);
    this.shown.push({ where: at.where, view });
  }

  async names() {
    return new Map<string, string>();
  }
}

const lines: Array<{ obj: object; msg?: string }> = [];
const log: Log = {
  info() {},
  debug() {},
  error() {},
  warn: (obj, msg) => {
    lines.push({ obj, ...(msg ? { msg } : {}) });
  },
  child: () => log,
};

let d: MemoryDomain;
let surface: RecordingSurface;
let homes: Homes;
beforeEach(async () => {
  lines.length = 0;
  d = await startMemoryDomain(POLICY);
  surface = new RecordingSurface();
  homes = new Homes({
    service: d.service,
    repos: d.store.repos,
    surfaces: [surface],
    clock: d.clock,
    newId: randomUUID,
    log,
  });
});

/** Amy opens a home at `place` (as a surface that shows it itself would say). */
async function open(place: HomePlace) {
  const built = await homes.build(surface, AMY, initialHomeState(), place);
  await homes.remember(surface, AMY.email, place, built);
}

/** A new request for Amy's decision (each from someone else: one pending request per person). */
const request = (justification: string) =>
  d.service.submit({
    requester: { email: `${justification.toLowerCase()}@example.com`, name: justification },
    resourceId: 'db',
    approvers: [AMY.email],
    duration: 'PT1H',
    justification,
    submissionKey: justification,
  });

async function record(purpose = 'home') {
  const [found] = await d.store.repos.messages.find({ subjectId: HOME_SUBJECT, purpose });
  return found ? readHomeRecord(found.address) : null;
}

describe('home.refresh', () => {
  it('shows a home again only when what it shows changed', async () => {
    await open({ purpose: 'home', where: 'card-1' });
    await homes.refresh(AMY.email);
    expect(surface.shown).toEqual([]);

    await request('First');
    await homes.refresh(AMY.email);
    expect(surface.shown.map((s) => s.where)).toEqual(['card-1']);
    expect(JSON.stringify(surface.shown[0]?.view)).toContain('First');
    await homes.refresh(AMY.email);
    expect(surface.shown).toHaveLength(1);
  });

  it('never writes over a press that came in meanwhile: the place keeps what the press left', async () => {
    await open({ purpose: 'home', where: 'card-1' });
    await request('First');
    surface.before = async () => {
      surface.before = undefined;
      // Amy types "my access" again while the refresh is on its way: card-2 is the home now.
      await open({ purpose: 'home', where: 'card-2' });
    };
    await homes.refresh(AMY.email);
    // card-2 was built after the change, so it already shows it: nothing more is sent there.
    expect(surface.shown.map((s) => s.where)).toEqual(['card-1']);
    expect((await record())?.where).toBe('card-2');
  });

  it('gives up a place that is gone, once and with a log line, until the home is opened again', async () => {
    await open({ purpose: 'home', where: 'card-1' });
    surface.before = () => {
      throw new DeliveryError('Teams 404 NotFound: Activity not found.', true);
    };
    await request('First');
    await homes.refresh(AMY.email);
    expect((await record())?.parked).toBe('gone');
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/^home\.refresh_given_up/)]);

    surface.before = undefined;
    await request('Second');
    await homes.refresh(AMY.email);
    expect(surface.shown).toEqual([]);

    await open({ purpose: 'home', where: 'card-2' });
    await request('Third');
    await homes.refresh(AMY.email);
    expect(surface.shown.map((s) => s.where)).toEqual(['card-2']);
  });

  it('refreshes every other home before throwing what is worth retrying', async () => {
    await open({ purpose: 'home', where: 'throttled' });
    await open({ purpose: 'home.dashboard', where: 'fine' });
    surface.before = (where) => {
      if (where === 'throttled') throw new DeliveryError('Teams 429', false, 1000);
    };
    await request('First');
    await expect(homes.refresh(AMY.email)).rejects.toMatchObject({ permanent: false, retryAfterMs: 1000 });
    expect(surface.shown.map((s) => s.where)).toEqual(['fine']);
    // The throttled home is left as it was, so the retry shows it.
    expect((await record())?.parked).toBeUndefined();
    surface.before = undefined;
    await homes.refresh(AMY.email);
    expect(surface.shown.map((s) => s.where)).toEqual(['fine', 'throttled']);
  });

  it('leaves a parked place (a form shown in its place) alone', async () => {
    await open({ purpose: 'home', where: 'card-1' });
    await homes.park(surface, AMY.email, { purpose: 'home', where: 'card-1' }, initialHomeState());
    await request('First');
    await homes.refresh(AMY.email);
    expect(surface.shown).toEqual([]);
  });
});

describe('planning refreshes (HomeRefreshNotifier)', () => {
  /** The notifier over the domain's own runner, with every refresh it plans written down. */
  function planner() {
    const planned: Array<{ email: string; at: string }> = [];
    const notifier = new HomeRefreshNotifier({
      scheduler: {
        schedule: async (name, at, data) => {
          planned.push({ email: data.id, at: at.toISOString() });
          await d.runner.schedule(name, at, data);
        },
        cancel: (name, id) => d.runner.cancel(name, id),
      },
      clock: d.clock,
      config: () => d.service.config,
    });
    return { planned, notifier };
  }
  const submitted = async (name: string) => {
    const r = await request(name);
    return { type: 'request.submitted' as const, request: r, resource: { id: 'db', name: 'Database' } };
  };

  it('plans one refresh for a burst of changes, due after the first, and a new one once that came due', async () => {
    const { planned, notifier } = planner();
    await notifier.notify(await submitted('Bob'));
    d.clock.advance(500);
    await notifier.notify(await submitted('Cid'));
    d.clock.advance(1_000);
    await notifier.notify(await submitted('Dee'));
    // Amy (the approver of all three) once, two seconds after the first change; each requester once.
    const amy = planned.filter((p) => p.email === AMY.email);
    expect(amy).toEqual([{ email: AMY.email, at: '2026-11-23T09:00:02.000Z' }]);
    expect(planned.map((p) => p.email).sort()).toEqual(
      [AMY.email, 'bob@example.com', 'cid@example.com', 'dee@example.com'].sort(),
    );
    // That refresh comes due; a change after it is planned anew.
    d.clock.advance(600);
    await notifier.notify(await submitted('Eve'));
    expect(planned.filter((p) => p.email === AMY.email).map((p) => p.at)).toEqual([
      '2026-11-23T09:00:02.000Z',
      '2026-11-23T09:00:04.100Z',
    ]);
  });

  it('the one refresh shows every change of the burst', async () => {
    const { notifier } = planner();
    d.runner.define('home.refresh', (data) => homes.refresh(data.id));
    await open({ purpose: 'home', where: 'card-1' });
    for (const name of ['Bob', 'Cid', 'Dee']) {
      await notifier.notify(await submitted(name));
      d.clock.advance(300);
    }
    await d.runner.advance(2_000);
    expect(surface.shown).toHaveLength(1);
    const text = JSON.stringify(surface.shown[0]?.view);
    for (const name of ['Bob', 'Cid', 'Dee']) expect(text).toContain(name);
  });
});
