/**
 * The access settings form (`/access-settings [resource]`; "access settings" in Teams), once for
 * every platform: a resource's owners switch JIT access on or off and set its window ("Always
 * allow", or until a date and time in their own zone, stored in UTC); everyone else sees the same
 * settings read-only with "Only this resource's owners can change this setting". A preview says
 * exactly when access will end before anything is saved, a date and time in the past is refused
 * inline, and switching off warns that active sessions may be interrupted.
 *
 * Platforms keep no rule here: they turn what the person did into `SettingsFormState` and render
 * `SettingsFormModel` (Slack: src/bot/slack/settings-modal.ts). The state comes back untrusted and
 * the domain checks everything again on save (src/domain/owner-settings.ts).
 */
import { DateTime } from 'luxon';
import { normalizeEmail } from '../../domain/email.js';
import type { Person } from '../../domain/model.js';
import { isOpen, isOwner, ONLY_OWNERS, type SettingsInput } from '../../domain/owner-settings.js';
import type { ResourceConfig } from '../../domain/policy.js';
import type { AccessService } from '../../domain/service.js';
import { describeSetting } from '../../domain/views/settings.js';
import { formatTime } from '../../domain/views/time.js';
import { PICKER_LIST_MAX } from './pickers.js';

export interface SettingsFormState {
  resourceId?: string;
  jitEnabled: boolean;
  window: 'always' | 'until';
  /** `YYYY-MM-DD`, in the viewer's zone. */
  date?: string;
  /** `HH:mm`, in the viewer's zone. */
  time?: string;
  /** The stored setting's version when the form was filled (0: none stored). */
  version: number;
}

export interface Choice {
  value: string;
  label: string;
}

export type SettingsField = 'resource' | 'jit' | 'window';

export interface SettingsFormModel {
  title: string;
  submitLabel: string;
  resource:
    | {
        mode: 'choose';
        label: string;
        placeholder: string;
        options: Choice[];
        selected?: string;
        hint?: string;
      }
    | { mode: 'fixed'; text: string; resourceId: string }
    | { mode: 'none'; text: string };
  /** False: read-only (the viewer is not an owner), with `readOnly` saying so. */
  editable: boolean;
  readOnly?: string;
  /** What is in force now, e.g. "Just-in-time access to … is on until …". */
  current?: string;
  jit?: {
    label: string;
    options: Choice[];
    value: 'on' | 'off';
    /** Shown while the form says Off: switching off interrupts active sessions. */
    warning?: string;
    /**
     * The same warning whatever the form says, for a platform that cannot re-render the form when
     * the toggle changes (a Teams card), so it is seen before Save Changes.
     */
    ifSwitchedOff: string;
  };
  window?: {
    label: string;
    options: Choice[];
    value: SettingsFormState['window'];
    date?: string;
    time?: string;
    /** The viewer's zone, for the time picker ("Europe/Berlin"). */
    timeZone: string;
    dateLabel: string;
    timeLabel: string;
  };
  /** Exactly when access will end (or that it will not), before saving. */
  preview?: string;
  errors: Partial<Record<SettingsField, string>>;
  canSubmit: boolean;
}

export const JIT_OPTIONS: Choice[] = [
  { value: 'on', label: 'On' },
  { value: 'off', label: 'Off' },
];
export const WINDOW_OPTIONS: Choice[] = [
  { value: 'always', label: 'Always allow' },
  { value: 'until', label: 'Until a date and time' },
];
export const NO_RESOURCE_TO_SET =
  'There is no resource called that. Use /access-settings <resource id or name>.';
export const INTERRUPT_WARNING =
  'Switching JIT access off revokes every active grant on this resource as soon as you save: active sessions may be interrupted.';

const zoneOf = (viewer: { tz?: string }) =>
  viewer.tz && DateTime.local().setZone(viewer.tz).isValid ? viewer.tz : 'UTC';

/** The stored or file setting of `resource` as the form opens it, in the viewer's zone. */
async function stateFor(
  service: AccessService,
  resource: ResourceConfig,
  viewer: { tz?: string },
): Promise<SettingsFormState> {
  const access = await service.resourceAccess(resource);
  const state: SettingsFormState = {
    resourceId: resource.id,
    jitEnabled: access.enabled,
    window: access.windowEndsAt ? 'until' : 'always',
    version: access.setting?.version ?? 0,
  };
  if (access.windowEndsAt) {
    const local = DateTime.fromJSDate(access.windowEndsAt, { zone: zoneOf(viewer) });
    state.date = local.toFormat('yyyy-MM-dd');
    state.time = local.toFormat('HH:mm');
  }
  return state;
}

/** The form as it opens: `query` names a resource by id or name; none: the resources the viewer owns. */
export async function openSettings(
  service: AccessService,
  viewer: Person,
  query: string,
): Promise<{ state: SettingsFormState; fixed: boolean } | { notFound: true }> {
  const words = query.trim();
  if (words) {
    const resource = service.findResource(words);
    if (!resource) return { notFound: true };
    return { state: await stateFor(service, resource, viewer), fixed: true };
  }
  const owned = service.config.resources.filter((r) => isOwner(r, viewer.email));
  const only = owned.length === 1 ? owned[0] : undefined;
  if (only) return { state: await stateFor(service, only, viewer), fixed: false };
  return { state: { jitEnabled: true, window: 'always', version: 0 }, fixed: false };
}

/** The viewer picked another resource: the form shows that resource's setting. */
export async function switchResource(
  service: AccessService,
  viewer: Person,
  resourceId: string,
): Promise<SettingsFormState> {
  const resource = service.config.resources.find((r) => r.id === resourceId);
  if (!resource) return { jitEnabled: true, window: 'always', version: 0 };
  return stateFor(service, resource, viewer);
}

/** What the state asks to save, or why it cannot be saved (per field). */
export function readSettings(
  state: SettingsFormState,
  viewer: { tz?: string },
  now: Date,
): { input: SettingsInput } | { errors: Partial<Record<SettingsField, string>> } {
  if (!state.resourceId) return { errors: { resource: 'Choose a resource.' } };
  let windowEndsAt: Date | null = null;
  if (state.window === 'until') {
    if (!state.date || !state.time) return { errors: { window: 'Choose a date and a time.' } };
    const local = DateTime.fromFormat(`${state.date} ${state.time}`, 'yyyy-MM-dd HH:mm', {
      zone: zoneOf(viewer),
    });
    if (!local.isValid) return { errors: { window: 'Choose a date and a time.' } };
    windowEndsAt = local.toUTC().toJSDate();
    if (windowEndsAt <= now) return { errors: { window: 'Choose a date and time in the future.' } };
  }
  return {
    input: {
      resourceId: state.resourceId,
      jitEnabled: state.jitEnabled,
      windowEndsAt,
      expectedVersion: state.version,
    },
  };
}

function previewOf(resource: ResourceConfig, state: SettingsFormState, viewer: { tz?: string }, now: Date) {
  if (state.window === 'until' && (!state.date || !state.time)) {
    return { preview: 'Choose an expiration date and time to see exactly when access will end.', errors: {} };
  }
  const read = readSettings(state, viewer, now);
  if ('errors' in read) return { errors: read.errors };
  const { jitEnabled, windowEndsAt } = read.input;
  if (!jitEnabled) {
    return {
      preview: `When you save: nobody can request ${resource.name}, and every active grant on it ends at once.`,
      errors: {},
    };
  }
  if (!windowEndsAt) {
    return { preview: `When you save: ${resource.name} can be requested with no end date.`, errors: {} };
  }
  return {
    preview: `When you save: access to ${resource.name} will end at ${formatTime(windowEndsAt, zoneOf(viewer))} (${windowEndsAt.toISOString().replace('.000Z', 'Z')}). From then on nobody can request it, and access granted before then ends by that time at the latest.`,
    errors: {},
  };
}

/** The warning shown before switching off, with how many grants it would end now. */
async function interruptWarning(service: AccessService, resource: ResourceConfig): Promise<string> {
  const open = await service.countOpenGrants(resource.id);
  const now =
    open === 0
      ? 'No grant is active now.'
      : open === 1
        ? '1 grant is active now.'
        : `${open} grants are active now.`;
  return `${INTERRUPT_WARNING} ${now}`;
}

/** The model a platform renders for `viewer` and `state`. */
export async function buildSettingsForm(
  service: AccessService,
  viewer: Person,
  state: SettingsFormState,
  opts: { fixed: boolean },
): Promise<SettingsFormModel> {
  const resource = state.resourceId
    ? service.config.resources.find((r) => r.id === state.resourceId)
    : undefined;
  const model: SettingsFormModel = {
    title: 'Access settings',
    submitLabel: 'Save Changes',
    resource: { mode: 'none', text: NO_RESOURCE_TO_SET },
    editable: false,
    errors: {},
    canSubmit: false,
  };
  if (opts.fixed && resource) {
    model.resource = {
      mode: 'fixed',
      text: `Resource: ${resource.name} (${resource.id})`,
      resourceId: resource.id,
    };
  } else {
    const email = normalizeEmail(viewer.email);
    const owned = service.config.resources.filter((r) => isOwner(r, email));
    const listed = owned.length > 0 ? owned : service.config.resources;
    model.resource = {
      mode: 'choose',
      label: 'Resource',
      placeholder: 'Choose a resource',
      options: listed.slice(0, PICKER_LIST_MAX).map((r) => ({ value: r.id, label: r.name })),
      ...(resource ? { selected: resource.id } : {}),
      ...(listed.length > PICKER_LIST_MAX
        ? { hint: `${listed.length - PICKER_LIST_MAX} more: use /access-settings <resource id or name>.` }
        : owned.length === 0
          ? { hint: 'You own no resource: you can see these settings but not change them.' }
          : {}),
    };
  }
  if (!resource) return model;

  const access = await service.resourceAccess(resource);
  const now = service.now();
  const tz = zoneOf(viewer);
  const ref = { id: resource.id, name: resource.name };
  model.current = access.setting
    ? `${describeSetting({ jitEnabled: access.enabled, ...(access.windowEndsAt ? { windowEndsAt: access.windowEndsAt } : {}) }, ref, tz)} Last changed by ${access.setting.updatedByName || access.setting.updatedBy} at ${formatTime(access.setting.updatedAt, tz)}.`
    : `${describeSetting({ jitEnabled: access.enabled }, ref, tz)}${resource.ownerControlled ? ' (the policy file starts it off until an owner switches it on)' : ''}`;
  if (access.enabled && !isOpen(access, now)) model.current += ' The window has ended.';
  model.editable = isOwner(resource, viewer.email);
  if (!model.editable) {
    model.readOnly = ONLY_OWNERS;
    return model;
  }
  const warning = await interruptWarning(service, resource);
  model.jit = {
    label: 'JIT access',
    options: JIT_OPTIONS,
    value: state.jitEnabled ? 'on' : 'off',
    ...(state.jitEnabled ? {} : { warning }),
    ifSwitchedOff: warning,
  };
  model.window = {
    label: 'Window',
    options: WINDOW_OPTIONS,
    value: state.window,
    ...(state.date ? { date: state.date } : {}),
    ...(state.time ? { time: state.time } : {}),
    timeZone: tz,
    dateLabel: 'Expiration date',
    timeLabel: `Expiration time (${tz})`,
  };
  const { preview, errors } = previewOf(resource, state, viewer, now);
  if (preview) model.preview = preview;
  model.errors = errors;
  model.canSubmit = true;
  return model;
}
