/** Messages about the owners' support-access settings, as neutral views. Pure functions of stored records. */
import type { ResourceRef } from '../events.js';
import type { ResourceSetting } from '../model.js';
import type { MessageView } from './model.js';
import { formatTime } from './time.js';

export interface SettingsViewer {
  tz?: string;
  now: Date;
}

/** One sentence on what the setting allows: "JIT access on, until Tue 1 Dec 18:00 GMT". */
export function describeSetting(
  s: Pick<ResourceSetting, 'jitEnabled' | 'windowEndsAt'>,
  resource: ResourceRef,
  tz: string | undefined,
): string {
  if (!s.jitEnabled) return `Just-in-time access to ${resource.name} is switched off: nobody can request it.`;
  if (s.windowEndsAt)
    return `Just-in-time access to ${resource.name} is on until ${formatTime(s.windowEndsAt, tz)}; access granted before then ends by that time at the latest.`;
  return `Just-in-time access to ${resource.name} is on, with no end date (always allowed).`;
}

/** Told to the resource's approvers when an owner saves the settings. */
export function settingsChanged(
  setting: ResourceSetting,
  resource: ResourceRef,
  revoking: number,
  viewer: SettingsViewer,
): MessageView {
  const lines = [describeSetting(setting, resource, viewer.tz)];
  if (revoking > 0) {
    lines.push(
      `${revoking === 1 ? '1 active grant is' : `${revoking} active grants are`} being revoked now; the holders are told.`,
    );
  }
  return {
    text: `${setting.updatedByName || setting.updatedBy} changed the access settings of ${resource.name}`,
    title: 'Access settings changed',
    lines,
    fields: [
      { label: 'Resource', value: resource.name },
      { label: 'Changed by', value: `${setting.updatedByName} (${setting.updatedBy})` },
      { label: 'When', value: formatTime(setting.updatedAt, viewer.tz) },
    ],
  };
}
