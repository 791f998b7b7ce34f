/** `/access-settings` through the real Bolt app: open the form, and save it, as a Slack user. */
import { expect } from 'vitest';
import type { FakeView, JsonObject } from './fake-slack.js';
import type { TestSystem } from './system.js';

type User = { id: string; email: string };

/** Runs `/access-settings <text>` as `user` and returns the modal it opened. */
export async function openSettings(t: TestSystem, user: User, text: string): Promise<FakeView> {
  const mark = t.fake.checkpoint();
  const res = await t.slack.slashCommand({ command: '/access-settings', text, userId: user.id });
  expect(res.status).toBe(200);
  const call = await t.fake.waitFor('views.open', (c) => c.seq >= mark);
  expect(call.response.ok, JSON.stringify(call.response)).toBe(true);
  const view = call.response.view as FakeView;
  return t.fake.view(view.id) ?? view;
}

/** Submits the settings modal as `user` with `values`; returns Slack's response_action body. */
export async function saveSettings(
  t: TestSystem,
  user: User,
  view: FakeView,
  values: Record<string, string>,
) {
  const res = await t.slack.viewSubmission({ userId: user.id, view: view as unknown as JsonObject, values });
  expect(res.status).toBe(200);
  return res.body as { response_action: string; errors?: Record<string, string>; view?: JsonObject };
}
