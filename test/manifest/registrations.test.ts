import { readFileSync } from 'node:fs';
import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerListeners } from '../../src/bot/slack/app.js';
import type { SlackDeps } from '../../src/bot/slack/deps.js';
import { BOT_EVENTS, FormIds, SettingsIds, SHORTCUTS, SLASH_COMMANDS } from '../../src/bot/slack/ids.js';
import { ActionId, HomeActionId } from '../../src/domain/views/model.js';

type Matcher =
  | string
  | RegExp
  | { action_id?: string | RegExp; callback_id?: string | RegExp; type?: string };

/** Records what the app registers, through Bolt's own registration API. */
function recordRegistrations() {
  const seen = {
    commands: [] as Array<string | RegExp>,
    actions: [] as Matcher[],
    views: [] as Matcher[],
    shortcuts: [] as Matcher[],
    options: [] as unknown[],
    events: [] as string[],
  };
  const app = {
    command: (name: string | RegExp) => void seen.commands.push(name),
    action: (m: Matcher) => void seen.actions.push(m),
    view: (m: Matcher) => void seen.views.push(m),
    shortcut: (m: Matcher) => void seen.shortcuts.push(m),
    options: (m: unknown) => void seen.options.push(m),
    event: (name: string) => void seen.events.push(name),
    message: () => {},
    error: () => {},
    use: () => {},
  };
  registerListeners(app as unknown as App, {} as SlackDeps);
  return seen;
}

function matches(m: Matcher, id: string, key: 'action_id' | 'callback_id'): boolean {
  const test = (p: string | RegExp | undefined) =>
    typeof p === 'string' ? p === id : p instanceof RegExp ? p.test(id) : false;
  if (typeof m === 'string' || m instanceof RegExp) return test(m);
  return test(m[key]);
}

const manifest = parse(readFileSync('manifests/slack.yaml', 'utf8')) as {
  features?: {
    slash_commands?: Array<{ command: string }>;
    shortcuts?: Array<{ callback_id: string }>;
    app_home?: { home_tab_enabled?: boolean };
  };
  settings?: {
    event_subscriptions?: { request_url?: string; bot_events?: string[] };
    interactivity?: { is_enabled?: boolean; request_url?: string; message_menu_options_url?: string };
  };
};

describe('what the code registers matches manifests/slack.yaml', () => {
  const seen = recordRegistrations();

  it('declares exactly the slash commands the app listens to', () => {
    // The app gives Bolt one listener for all its commands (src/bot/slack/listeners.ts, SlackRoutes):
    // each declared command is matched, and nothing else, not even a near miss.
    const handled = (command: string) =>
      seen.commands.some((m) => (typeof m === 'string' ? m === command : m.test(command)));
    for (const command of SLASH_COMMANDS) expect(handled(command), `no listener for ${command}`).toBe(true);
    const nearMisses = SLASH_COMMANDS.flatMap((c) => [
      c.slice(1),
      `${c}s`,
      `${c} `,
      c.slice(0, -1),
      c.toUpperCase(),
    ]);
    for (const other of [...nearMisses, '/request', '/access', '/', '']) {
      expect(handled(other), `a listener for ${other}`).toBe(false);
    }
    expect((manifest.features?.slash_commands ?? []).map((c) => c.command).sort()).toEqual(
      [...SLASH_COMMANDS].sort(),
    );
  });

  it('declares exactly the shortcuts the app listens to (none)', () => {
    expect(seen.shortcuts).toEqual([...SHORTCUTS]);
    expect((manifest.features?.shortcuts ?? []).map((s) => s.callback_id)).toEqual([...SHORTCUTS]);
  });

  it('subscribes to exactly the events the app listens to, at the Bolt endpoint, with the Home tab on', () => {
    expect(seen.events.sort()).toEqual([...BOT_EVENTS].sort());
    expect([...(manifest.settings?.event_subscriptions?.bot_events ?? [])].sort()).toEqual(
      [...BOT_EVENTS].sort(),
    );
    expect(manifest.settings?.event_subscriptions?.request_url).toBe(
      manifest.settings?.interactivity?.request_url,
    );
    expect(manifest.features?.app_home?.home_tab_enabled).toBe(true);
  });

  it('turns interactivity on, because buttons and modals are handled', () => {
    expect(seen.actions.length + seen.views.length).toBeGreaterThan(0);
    expect(manifest.settings?.interactivity?.is_enabled).toBe(true);
  });

  it('declares an options load URL exactly when the app serves type-ahead options', () => {
    expect(seen.options.length).toBeGreaterThan(0);
    const interactivity = manifest.settings?.interactivity;
    expect(interactivity?.message_menu_options_url).toBe(interactivity?.request_url);
  });

  it('handles every button and form element the views can show', () => {
    const formActions = [
      FormIds.resource,
      FormIds.approvers,
      FormIds.customAmount,
      FormIds.customUnit,
      FormIds.template,
      `${FormIds.durationPrefix}0`,
      `${FormIds.durationPrefix}12`,
      SettingsIds.resource,
      SettingsIds.jit,
      SettingsIds.window,
      SettingsIds.date,
      SettingsIds.time,
    ];
    for (const id of [...Object.values(ActionId), ...Object.values(HomeActionId), ...formActions]) {
      expect(
        seen.actions.some((m) => matches(m, id, 'action_id')),
        `no listener for action ${id}`,
      ).toBe(true);
    }
    for (const id of [
      FormIds.requestCallback,
      FormIds.denyCallback,
      FormIds.revokeCallback,
      SettingsIds.callback,
    ]) {
      expect(
        seen.views.some((m) => matches(m, id, 'callback_id')),
        `no listener for view ${id}`,
      ).toBe(true);
    }
  });
});
