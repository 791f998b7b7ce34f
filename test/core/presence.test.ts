/**
 * Where a person is reached (src/core/presence.ts) over the memory store: a sighting is written
 * when it says something new (another platform, or the last one written is no longer fresh), not
 * on every click, and the platform to try first still follows the person across platforms.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  preferredPlatform,
  SIGHTING_FRESH_MS,
  SIGHTINGS_REMEMBERED,
  sightingRecorder,
} from '../../src/core/presence.js';
import { ManualClock } from '../../src/domain/clock.js';
import { createLogger } from '../../src/log.js';
import { createMemoryStore, type Store } from '../../src/store/index.js';

const log = createLogger('silent');
let store: Store;
let clock: ManualClock;
beforeEach(() => {
  store = createMemoryStore();
  clock = new ManualClock('2026-11-23T09:00:00Z');
});

const seenAt = async (email: string) => (await store.repos.sightings.get(email))?.seenAt.toISOString();

describe('sightings', () => {
  it('a person clicking again on the same platform is not written again while the sighting is fresh', async () => {
    const slack = sightingRecorder(store.repos.sightings, 'slack', clock, log);
    await slack('Amy@Example.com');
    clock.advance(SIGHTING_FRESH_MS - 1_000);
    await slack('amy@example.com');
    expect(await seenAt('amy@example.com')).toBe('2026-11-23T09:00:00.000Z');
    // Once it is no longer fresh, the next click is written.
    clock.advance(2_000);
    await slack('amy@example.com');
    expect(await seenAt('amy@example.com')).toBe('2026-11-23T09:01:01.000Z');
  });

  it('follows the person from Slack to Teams and back at once, however fresh the last sighting', async () => {
    const slack = sightingRecorder(store.repos.sightings, 'slack', clock, log);
    const teams = sightingRecorder(store.repos.sightings, 'teams', clock, log);
    const first = preferredPlatform('last-seen', store.repos.sightings, log, () => clock.now().getTime());
    await slack('amy@example.com');
    expect(await first('amy@example.com')).toBe('slack');
    clock.advance(1_000);
    await teams('amy@example.com');
    expect(await first('amy@example.com')).toBe('teams');
    expect((await store.repos.sightings.get('amy@example.com'))?.platform).toBe('teams');
    clock.advance(1_000);
    await slack('amy@example.com');
    expect(await first('amy@example.com')).toBe('slack');
    expect((await store.repos.sightings.get('amy@example.com'))?.platform).toBe('slack');
  });

  it('reads the store for someone this process did not see, or not lately (another instance may have)', async () => {
    const first = preferredPlatform('last-seen', store.repos.sightings, log, () => clock.now().getTime());
    expect(await first('bob@example.com')).toBeNull();
    // Another instance (another store client) saw Bob on Teams.
    await store.repos.sightings.record({ email: 'bob@example.com', platform: 'teams', seenAt: clock.now() });
    expect(await first('bob@example.com')).toBe('teams');
    // This process saw him on Slack; after that sighting is no longer fresh, the store is asked again.
    await sightingRecorder(store.repos.sightings, 'slack', clock, log)('bob@example.com');
    clock.advance(1_000);
    await store.repos.sightings.record({ email: 'bob@example.com', platform: 'teams', seenAt: clock.now() });
    clock.advance(SIGHTING_FRESH_MS);
    expect(await first('bob@example.com')).toBe('teams');
  });

  it('remembers a bounded number of people, and still writes whoever it forgot', async () => {
    const slack = sightingRecorder(store.repos.sightings, 'slack', clock, log);
    for (let i = 0; i <= SIGHTINGS_REMEMBERED; i++) await slack(`p${i}@example.com`);
    clock.advance(1_000);
    // p1 is still remembered: not written; p0 was forgotten (the oldest): written again.
    await slack('p1@example.com');
    await slack('p0@example.com');
    expect(await seenAt('p0@example.com')).toBe('2026-11-23T09:00:01.000Z');
    expect(await seenAt('p1@example.com')).toBe('2026-11-23T09:00:00.000Z');
  });

  it('a configured preference wins over any sighting', async () => {
    await sightingRecorder(store.repos.sightings, 'teams', clock, log)('amy@example.com');
    expect(await preferredPlatform('slack', store.repos.sightings, log)('amy@example.com')).toBe('slack');
  });
});
