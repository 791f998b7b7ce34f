/**
 * The owners' run-time settings of each resource (`/access-settings`), one document per resource
 * keyed by its id. Every save is a compare-and-swap on `version`, so of two owners saving at once
 * exactly one wins and the other is told to look again. A save also writes `unsettled` (the version
 * whose effects are owed); `settle` removes it once they are done.
 */
import type { ResourceSetting } from '../domain/model.js';
import { DuplicateKeyError, type ResourceSettingRepo } from '../domain/ports.js';
import type { DocCollection } from './collection.js';

/** A stored setting: keyed by the resource id. */
export type ResourceSettingDoc = Omit<ResourceSetting, 'resourceId'> & { _id: string };

function fromDoc(doc: ResourceSettingDoc): ResourceSetting {
  const { _id, ...rest } = doc;
  return { resourceId: _id, ...rest };
}

export function resourceSettingRepo(settings: DocCollection<ResourceSettingDoc>): ResourceSettingRepo {
  return {
    async get(resourceId) {
      const doc = await settings.findOne({ _id: resourceId });
      return doc ? fromDoc(doc) : null;
    },

    async save(setting, expectedVersion) {
      const { resourceId, windowEndsAt, ...rest } = setting;
      if (expectedVersion === 0) {
        const doc: ResourceSettingDoc = {
          _id: resourceId,
          ...rest,
          ...(windowEndsAt ? { windowEndsAt } : {}),
        };
        try {
          await settings.insertOne(doc);
        } catch (e) {
          if (e instanceof DuplicateKeyError) return null; // another owner saved first
          throw e;
        }
        return fromDoc(doc);
      }
      const doc = await settings.findOneAndUpdate(
        { _id: resourceId, version: expectedVersion },
        windowEndsAt ? { $set: { ...rest, windowEndsAt } } : { $set: rest, $unset: { windowEndsAt: '' } },
        { returnDocument: 'after' },
      );
      return doc ? fromDoc(doc) : null;
    },

    async windowsEndedBy(by, limit) {
      const docs = await settings.find({ windowEndsAt: { $lte: by } }, { sort: { windowEndsAt: 1 }, limit });
      return docs.map(fromDoc);
    },

    async switchedOff(limit) {
      const docs = await settings.find({ jitEnabled: false }, { sort: { updatedAt: -1 }, limit });
      return docs.map(fromDoc);
    },

    async getMany(resourceIds) {
      if (resourceIds.length === 0) return [];
      const docs = await settings.find({ _id: { $in: [...new Set(resourceIds)] } });
      return docs.map(fromDoc);
    },

    async settle(resourceId, version) {
      await settings.findOneAndUpdate(
        { _id: resourceId, unsettled: version },
        { $unset: { unsettled: '' } },
        { returnDocument: 'after' },
      );
    },

    async findUnsettled(limit) {
      const docs = await settings.find(
        { unsettled: { $exists: true } },
        { sort: { updatedAt: 1, _id: 1 }, limit },
      );
      return docs.map(fromDoc);
    },
  };
}
