/** Every Slack-side identifier the app registers. The manifest test checks these against manifests/slack.yaml. */
export const SlashCommand = {
  requestAccess: '/request-access',
  accessReport: '/access-report',
  /** The owners' support-access controls (src/core/forms/access-settings.ts). */
  accessSettings: '/access-settings',
} as const;
export const REQUEST_COMMAND = SlashCommand.requestAccess;
export const SETTINGS_COMMAND = SlashCommand.accessSettings;
export const SLASH_COMMANDS = Object.values(SlashCommand);
/** Events API events the app subscribes to (the manifest's `bot_events`). */
export const BOT_EVENTS = ['app_home_opened'] as const;
/** Global and message shortcuts (none yet; the manifest must declare none either). */
export const SHORTCUTS: readonly string[] = [];

export const FormIds = {
  requestCallback: 'jit.request.form',
  denyCallback: 'jit.deny.form',
  revokeCallback: 'jit.revoke.form',
  /** A resource's access history (a read-only modal; "Older entries" turns its page in place). */
  historyCallback: 'jit.history.view',
  resource: 'jit.form.resource',
  approvers: 'jit.form.approvers',
  /** one action id per quick-duration button: prefix + index */
  durationPrefix: 'jit.form.duration.',
  customAmount: 'jit.form.custom_amount',
  customUnit: 'jit.form.custom_unit',
  template: 'jit.form.template',
  justification: 'jit.form.justification',
  ticket: 'jit.form.ticket',
} as const;

/** The access settings modal (`/access-settings`). */
export const SettingsIds = {
  callback: 'jit.settings.form',
  resource: 'jit.settings.resource',
  jit: 'jit.settings.jit',
  window: 'jit.settings.window',
  date: 'jit.settings.date',
  time: 'jit.settings.time',
} as const;

export const SettingsBlocks = {
  resource: 'settings_resource',
  jit: 'settings_jit',
  window: 'settings_window',
  date: 'settings_date',
  time: 'settings_time',
  preview: 'settings_preview',
} as const;

export const BlockIds = {
  resource: 'resource',
  approvers: 'approvers',
  durations: 'durations',
  customAmount: 'custom_amount',
  customUnit: 'custom_unit',
  template: 'template',
  justification: 'justification',
  ticket: 'ticket',
  summary: 'summary',
} as const;

/** Values of the hint options a type-ahead list ends with; never a resource or an approver. */
export const OptionValues = {
  more: 'jit.search.more',
  none: 'jit.search.none',
} as const;
