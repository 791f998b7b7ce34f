import { readFileSync } from 'node:fs';
import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerListeners } from '../../src/bot/slack/app.js';
import type { SlackDeps } from '../../src/bot/slack/deps.js';
import { FormIds, SettingsIds, SHORTCUTS, SLASH_COMMANDS } from '../../src/bot/slack/ids.js';
import { ActionId } from '../../src/domain/views/model.js';

type Matcher =
  | string
  | RegExp
  | { action_id?: string | RegExp; callback_id?: string | RegExp; type?: string };

/** Records what the app registers, through Bolt's own registration API. */
function recordRegistrations() {
  const seen = {
    commands: [] as string[],
    actions: [] as Matcher[],
    views: [] as Matcher[],
    shortcuts: [] as Matcher[],
    options: [] as unknown[],
  };
  const app = {
    command: (name: string) => void seen.commands.push(name),
    action: (m: Matcher) => void seen.actions.push(m),
    view: (m: Matcher) => void seen.views.push(m),
    shortcut: (m: Matcher) => void seen.shortcuts.push(m),
    options: (m: unknown) => void seen.options.push(m),
    event: () => {},
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
  features?: { slash_commands?: Array<{ command: string }>; shortcuts?: Array<{ callback_id: string }> };
  settings?: {
    interactivity?: { is_enabled?: boolean; request_url?: string; message_menu_options_url?: string };
  };
};

describe('what the code registers matches manifests/slack.yaml', () => {
  const seen = recordRegistrations();

  it('declares exactly the slash commands the app listens to', () => {
    expect(seen.commands.sort()).toEqual([...SLASH_COMMANDS].sort());
    expect((manifest.features?.slash_commands ?? []).map((c) => c.command).sort()).toEqual(
      [...SLASH_COMMANDS].sort(),
    );
  });

  it('declares exactly the shortcuts the app listens to (none)', () => {
    expect(seen.shortcuts).toEqual([...SHORTCUTS]);
    expect((manifest.features?.shortcuts ?? []).map((s) => s.callback_id)).toEqual([...SHORTCUTS]);
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
    for (const id of [...Object.values(ActionId), ...formActions]) {
      expect(
        seen.actions.some((m) => matches(m, id, 'action_id')),
        `no listener for action ${id}`,
      ).toBe(true);
    }
    for (const id of [FormIds.requestCallback, FormIds.denyCallback, SettingsIds.callback]) {
      expect(
        seen.views.some((m) => matches(m, id, 'callback_id')),
        `no listener for view ${id}`,
      ).toBe(true);
    }
  });
});
