/** What a person does in Slack's App Home tab, as signed requests against the running app. */
import { expect } from 'vitest';
import { HOME_REFRESH_DELAY_MS } from '../../src/core/home.js';
import { collectText, type FakeView, isJsonObject, type JsonObject } from './fake-slack.js';
import { eventually } from './flows.js';
import type { TestSystem } from './system.js';

type User = { id: string };

/** Opens the Home tab (`app_home_opened`) and returns the home the app published. */
export async function openHome(t: TestSystem, user: User): Promise<FakeView> {
  const mark = t.fake.checkpoint();
  const res = await t.slack.event({
    type: 'app_home_opened',
    user: user.id,
    channel: `D${user.id}`,
    tab: 'home',
  });
  expect(res.status).toBe(200);
  const call = await t.fake.waitFor('views.publish', (c) => c.seq >= mark && c.args.user_id === user.id);
  expect(call.response.ok, JSON.stringify(call.response)).toBe(true);
  return home(t, user);
}

export function home(t: TestSystem, user: User): FakeView {
  const view = t.fake.homeViewOf(user.id);
  if (!view) throw new Error(`no home published for ${user.id}`);
  return view;
}

/** Does something in the home (a click, a choice) and returns the home published after it. */
export async function homeAction(
  t: TestSystem,
  user: User,
  actionId: string,
  input: {
    value?: string;
    selectedOption?: string | { text: string; value: string };
    selectedUser?: string;
    selectedDate?: string;
    blockId?: string;
  } = {},
): Promise<FakeView> {
  const mark = t.fake.checkpoint();
  const view = home(t, user);
  const res = await t.slack.blockAction({
    userId: user.id,
    actionId,
    view: view as unknown as JsonObject,
    ...input,
  });
  expect(res.status).toBe(200);
  const call = await t.fake.waitFor('views.publish', (c) => c.seq >= mark && c.args.user_id === user.id);
  expect(call.response.ok, JSON.stringify(call.response)).toBe(true);
  return home(t, user);
}

/** The blocks of one section of the home (from its divider to the next), by section id. */
export function sectionOf(view: FakeView, id: string): JsonObject[] {
  const blocks = view.blocks.filter(isJsonObject);
  const start = blocks.findIndex((b) => b.block_id === `${id}.divider`);
  if (start < 0) return [];
  const end = blocks.findIndex((b, i) => i > start && b.type === 'divider');
  return blocks.slice(start, end < 0 ? undefined : end);
}

export const textOf = (blocks: unknown) => collectText(blocks);

/** The buttons in `blocks` with this action id, with the block they are in. */
export function buttons(blocks: JsonObject[], actionId: string): Array<{ blockId: string; value: string }> {
  const out: Array<{ blockId: string; value: string }> = [];
  for (const b of blocks) {
    for (const el of Array.isArray(b.elements) ? b.elements.filter(isJsonObject) : []) {
      if (el.action_id === actionId) out.push({ blockId: String(b.block_id), value: String(el.value) });
    }
  }
  return out;
}

/** Lets the planned refreshes run (they wait a moment, so a burst of changes costs one). */
export async function refreshed(t: TestSystem): Promise<void> {
  await t.delivered();
  await t.runner.advance(HOME_REFRESH_DELAY_MS);
  await t.delivered();
}

/** Waits until `user`'s home shows `needle`. */
export async function homeShows(t: TestSystem, user: User, needle: string): Promise<FakeView> {
  return eventually(() => {
    const view = home(t, user);
    expect(collectText(view.blocks)).toContain(needle);
    return view;
  });
}

/** Clicks a button in the home that opens a modal (Revoke, Details, Deny) and returns that modal. */
export async function modalFromHome(
  t: TestSystem,
  user: User,
  actionId: string,
  button: { value?: string; blockId?: string },
): Promise<FakeView> {
  const mark = t.fake.checkpoint();
  await t.slack.blockAction({
    userId: user.id,
    actionId,
    view: home(t, user) as unknown as JsonObject,
    ...button,
  });
  const opened = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
  expect(opened.response.ok, JSON.stringify(opened.response)).toBe(true);
  return opened.response.view as FakeView;
}
