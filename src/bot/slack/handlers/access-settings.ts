/**
 * `/access-settings [resource]` in Slack: opens the owners' settings form, re-renders it when
 * something in it changes (the preview and the warning show before saving), and saves it. The
 * form itself is src/core/forms/access-settings.ts; the domain (src/domain/owner-settings.ts)
 * decides who may save and what a save does.
 */
import type { ModalView } from '@slack/types';
import {
  buildSettingsForm,
  NO_RESOURCE_TO_SET,
  openSettings,
  readSettings,
  type SettingsFormState,
  switchResource,
} from '../../../core/forms/access-settings.js';
import { isDomainError } from '../../../domain/errors.js';
import { describeSetting } from '../../../domain/views/settings.js';
import type { SlackDeps } from '../deps.js';
import type { SlackPerson } from '../directory.js';
import { SettingsIds } from '../ids.js';
import type { SlackRoutes } from '../listeners.js';
import { buildMessageModal } from '../modal.js';
import type { Recipient } from '../respond.js';
import { userMessageFor } from '../respond.js';
import {
  buildSettingsModal,
  parseSettingsMeta,
  pickedResource,
  readSettingsState,
  settingsErrorsByBlock,
  settingsMeta,
} from '../settings-modal.js';
import { type OpenView, updateModal } from '../views.js';

const TITLE = 'Access settings';

async function render(deps: SlackDeps, person: SlackPerson, state: SettingsFormState, fixed: boolean) {
  const model = await buildSettingsForm(deps.service, person, state, { fixed });
  return buildSettingsModal(model, settingsMeta(state, fixed));
}

export async function openAccessSettings(
  deps: SlackDeps,
  triggerId: string,
  person: SlackPerson,
  query: string,
): Promise<void> {
  const opened = await openSettings(deps.service, person, query);
  const view =
    'notFound' in opened
      ? buildMessageModal(TITLE, NO_RESOURCE_TO_SET)
      : await render(deps, person, opened.state, opened.fixed);
  await deps.client.views.open({ trigger_id: triggerId, view });
}

const valuesOf = (view: OpenView) => (view.state as { values?: unknown } | undefined)?.values;

/** A change inside the form: another resource, JIT on or off, the window, its date or time. */
export async function onSettingsChange(
  deps: SlackDeps,
  person: SlackPerson,
  view: OpenView,
  actionId: string,
): Promise<void> {
  const meta = parseSettingsMeta(view.private_metadata);
  if (!meta) return;
  let state: SettingsFormState;
  if (actionId === SettingsIds.resource && !meta.fixed) {
    const picked = pickedResource(valuesOf(view));
    state = picked
      ? await switchResource(deps.service, person, picked)
      : { jitEnabled: true, window: 'always', version: 0 };
  } else {
    state = readSettingsState(meta, valuesOf(view));
  }
  const next = await render(deps, person, state, meta.fixed);
  await updateModal(deps.client, view, next);
}

export type SettingsSubmission = { errors: Record<string, string> } | { replace: ModalView };

/** Save Changes: checked inline (a past date and time is refused), then stored by the domain. */
export async function onSettingsSubmit(
  deps: SlackDeps,
  person: SlackPerson,
  view: OpenView,
): Promise<SettingsSubmission> {
  const meta = parseSettingsMeta(view.private_metadata);
  if (!meta) {
    return {
      replace: buildMessageModal(TITLE, 'This form could not be read, so nothing was saved. Open it again.'),
    };
  }
  const state = readSettingsState(meta, valuesOf(view));
  const read = readSettings(state, person, deps.service.now());
  if ('errors' in read) return { errors: settingsErrorsByBlock(read.errors, meta, state) };
  try {
    const saved = await deps.service.saveSettings(person, read.input);
    const resource = deps.service.findResource(saved.resourceId);
    const ref = { id: saved.resourceId, name: resource?.name ?? saved.resourceId };
    return {
      replace: buildMessageModal(
        TITLE,
        `Saved. ${describeSetting(saved, ref, person.tz)} The approvers of ${ref.name} have been told.`,
      ),
    };
  } catch (error) {
    if (!isDomainError(error)) throw error;
    if (error.code === 'WINDOW_IN_PAST') {
      return { errors: settingsErrorsByBlock({ window: error.message }, meta, state) };
    }
    return { replace: buildMessageModal(TITLE, `Nothing was saved. ${error.message}`) };
  }
}

/**
 * The form's listeners: every change re-renders it (preview, warning); Save Changes stores it.
 * `fail` tells the person privately what went wrong (as every listener in ../app.ts does).
 */
export function registerAccessSettings(
  routes: SlackRoutes,
  deps: SlackDeps,
  fail: (error: unknown, target: Recipient) => Promise<void>,
): void {
  const ids = [SettingsIds.resource, SettingsIds.jit, SettingsIds.window, SettingsIds.date, SettingsIds.time];
  routes.action(ids, async ({ ack, body, action }) => {
    await ack();
    if (!body.view) return;
    try {
      const person = await deps.directory.person(body.user.id);
      await onSettingsChange(deps, person, body.view, action.action_id);
    } catch (error) {
      await fail(error, { userId: body.user.id });
    }
  });
  routes.view(SettingsIds.callback, async ({ ack, body, view }) => {
    try {
      const person = await deps.directory.person(body.user.id);
      const result = await onSettingsSubmit(deps, person, view);
      if ('errors' in result) await ack({ response_action: 'errors', errors: result.errors });
      else await ack({ response_action: 'update', view: result.replace });
    } catch (error) {
      await ack({
        response_action: 'update',
        view: buildMessageModal(TITLE, `Nothing was saved. ${userMessageFor(error, deps.log)}`),
      });
    }
  });
}
