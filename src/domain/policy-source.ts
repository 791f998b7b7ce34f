/**
 * The one policy source the domain reads. The policy file is the baseline (replaced as a whole when
 * it is reloaded: SIGHUP or a change of the file, see src/policy-reload.ts); what a resource's
 * owners set at run time (`/access-settings`: JIT access on or off, an access window) is stored in
 * the `resource_settings` collection and layered over it, per resource, when asked. Owner settings
 * are read from the store every time, so every instance sees a save at once.
 */
import type { ResourceSetting } from './model.js';
import type { AccessConfig, ResourceConfig } from './policy.js';
import type { ResourceSettingRepo } from './ports.js';

/** Whether a resource may be requested now, and until when: the file, with its owners' setting over it. */
export interface ResourceAccess {
  resourceId: string;
  /** JIT access switched on. Off: no new requests, and no open grants. */
  enabled: boolean;
  /** The end of the owners' access window (UTC); absent: always allowed. */
  windowEndsAt?: Date;
  /** The owners' stored setting, or null while the file alone decides. */
  setting: ResourceSetting | null;
}

export class PolicySource {
  #config: AccessConfig;

  constructor(
    config: AccessConfig,
    private readonly settings: ResourceSettingRepo,
  ) {
    this.#config = config;
  }

  /** The policy file in force (the latest one accepted). */
  current(): AccessConfig {
    return this.#config;
  }

  /** Puts a newly loaded (and already checked) policy file in force. */
  replace(config: AccessConfig): void {
    this.#config = config;
  }

  /** The resource's access as its owners set it, else as the file starts it (`ownerControlled`: off). */
  async access(resource: Pick<ResourceConfig, 'id' | 'ownerControlled'>): Promise<ResourceAccess> {
    const setting = await this.settings.get(resource.id);
    if (!setting) return { resourceId: resource.id, enabled: !resource.ownerControlled, setting: null };
    return {
      resourceId: resource.id,
      enabled: setting.jitEnabled,
      ...(setting.windowEndsAt ? { windowEndsAt: setting.windowEndsAt } : {}),
      setting,
    };
  }
}
