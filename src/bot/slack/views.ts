/** Reading and replacing an open Slack modal: shared by every modal the app keeps up to date in place. */
import type { ModalView } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { z } from 'zod';
import { asJsonArg } from './render.js';

/** An open modal as an interaction payload carries it. */
export type OpenView = { id: string; hash?: string; private_metadata?: string; state?: unknown };

/**
 * Replaces the modal with `next`, guarded by its hash. On `hash_conflict` another update landed
 * first; the action being handled carries the person's latest input, so it wins.
 */
export async function updateModal(client: WebClient, view: OpenView, next: ModalView): Promise<void> {
  const json = asJsonArg(next);
  try {
    await client.views.update({ view_id: view.id, ...(view.hash ? { hash: view.hash } : {}), view: json });
  } catch (error) {
    if ((error as { data?: { error?: string } }).data?.error !== 'hash_conflict') throw error;
    await client.views.update({ view_id: view.id, view: json });
  }
}

/** A modal's `private_metadata` read as JSON and checked with `schema`; null when absent or not valid. */
export function parseMetadata<S extends z.ZodType>(schema: S, raw: string | undefined): z.infer<S> | null {
  if (!raw) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
