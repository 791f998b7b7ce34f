/** The direct message a request link (the HTTP API's `requestUrl`) sends: the request form, one press away. */
import type { ResourceRef } from '../events.js';
import { ActionId, type MessageView } from './model.js';

export function requestPrompt(resource: ResourceRef): MessageView {
  const text = `You asked to request access to ${resource.name}`;
  return {
    text,
    title: 'Request access',
    lines: [`${text}. Press Request access to open the request form with it chosen.`],
    actions: [
      { id: ActionId.requestResource, label: 'Request access', value: resource.id, style: 'primary' },
    ],
    requestForm: { resourceId: resource.id },
  };
}
