/**
 * Threat: a secret written into the store, where anyone with a database dump or backup, or read
 * access to MongoDB, could reuse it: the Slack bot token or signing secret, a webhook connector's
 * HMAC secret, the API token, the link-signing secret, or a request's `Authorization` header.
 * Expected refusal: none is ever stored. The policy names secrets by variable (`secretEnv`), and
 * nothing the bot records (requests, grants, the audit trail, the outbox, where cards were sent,
 * chat references, settings, sightings) carries one, even after connector calls failed and were
 * retried. Checked by reading every document of every collection after a whole lifecycle.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { createMemoryCollections } from '../../src/store/memory.js';
import { type Collections, createRepositories } from '../../src/store/repositories.js';
import { click, eventually, requestAccess, waitForDm } from '../support/flows.js';
import { HOOK_SECRET, SIGNING_SECRET, startTestSystem, USERS } from '../support/system.js';

const { alice, carol } = USERS;
const API_TOKEN = 'api-token-0123456789abcdef0123456789abcdef';
const LINK_SECRET = 'link-secret-0123456789abcdef0123456789abcdef';
const HOUR = 3_600_000;

describe('secrets at rest', () => {
  it('stores no secret anywhere after a whole lifecycle with failing and retried connector calls', async () => {
    // The app's store, built here from collections the test can read whole.
    const collections = createMemoryCollections();
    const store: Store = {
      kind: 'memory',
      repos: createRepositories(collections),
      ping: async () => true,
      close: async () => {},
    };
    const t = await startTestSystem({
      wrapStore: () => store,
      apiToken: API_TOKEN,
      linkSigningSecret: LINK_SECRET,
      publicUrl: 'https://jit.example.com',
    });
    try {
      t.hooks.setStatus(503);
      await requestAccess(t, carol, { approvers: [alice.email] });
      await click(t, alice, await waitForDm(t, alice, 'Approve'), 'jit.request.approve');
      await eventually(async () => expect((await store.repos.grants.list({}))[0]?.attempts).toBe(1));
      t.hooks.setStatus(200);
      await t.runner.advance(60_000);
      await waitForDm(t, carol, 'is active until');
      const api = await fetch(`http://127.0.0.1:${t.system.port}/api/v1/grants`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(api.status).toBe(200);
      await t.runner.advance(5 * HOUR);
      await eventually(async () => expect((await store.repos.grants.list({}))[0]?.status).toBe('expired'));
      await t.delivered();

      const names = Object.keys(collections) as Array<keyof Collections>;
      const dump: Record<string, unknown[]> = {};
      for (const name of names) dump[name] = await collections[name].find({});
      // The lifecycle did write to the store: the check below reads real records.
      for (const name of ['requests', 'grants', 'audit', 'outbox', 'messages'] as const) {
        expect(dump[name]?.length, name).toBeGreaterThan(0);
      }
      const text = JSON.stringify(dump);
      for (const secret of [t.fake.botToken, SIGNING_SECRET, HOOK_SECRET, API_TOKEN, LINK_SECRET]) {
        expect(text.includes(secret), `${secret.slice(0, 8)}… is in the store`).toBe(false);
      }
    } finally {
      await t.close();
    }
  });
});
