/**
 * The whole product serving Microsoft Teams (beside Slack) against the fake Bot Connector, with
 * some people who installed the Teams app, and what a test does with them: make a request through
 * the domain (until the Teams request form exists), find the cards the outbox sent them, and press
 * their buttons as signed `adaptiveCard/action` invokes.
 */
import { expect } from 'vitest';
import type { SubmitInput } from '../../src/domain/requests.js';
import {
  type FakeBotConnector,
  type FakeTeamsUser,
  type StoredActivity,
  startFakeBotConnector,
} from './fake-bot-connector.js';
import { eventually } from './flows.js';
import { startTestSystem, type TestSystem } from './system.js';

export const TEAMS_APP_ID = '00000000-0000-0000-0000-0000000a0c1d';

export function teamsUser(key: string, name: string, tz = 'Europe/Oslo'): FakeTeamsUser {
  return {
    id: `29:1${key}`,
    aadObjectId: `aad-${key}`,
    name,
    email: `${key}@example.com`,
    userPrincipalName: `${key}@example.com`,
    tz,
  };
}

export interface TeamsTestSystem {
  t: TestSystem;
  connector: FakeBotConnector;
  botUrl: string;
  user(email: string): FakeTeamsUser;
  /** Makes a request through the domain, as the Teams request form will. */
  submit(input: Omit<SubmitInput, 'submissionKey' | 'requester'> & { requester: string }): Promise<string>;
  /** The message recorded for (subject, purpose, recipient), as Teams holds it now, once sent. */
  recorded(subjectId: string, purpose: string, recipient: string): Promise<StoredActivity>;
  /** The bot's messages in a person's personal chat, oldest first. */
  chat(email: string): StoredActivity[];
  /** The newest message in a person's chat whose card mentions `needle`. */
  latest(email: string, needle: string): Promise<StoredActivity>;
  close(): Promise<void>;
}

export async function startTeamsSystem(opts: {
  users: FakeTeamsUser[];
  policy: string;
  /** Default true: tokens checked both ways. False: the unsafe local mode. */
  authenticated?: boolean;
  /** Who installs the app first (default: everyone). */
  install?: FakeTeamsUser[];
  start?: Date;
}): Promise<TeamsTestSystem> {
  const connector = await startFakeBotConnector({
    users: opts.users,
    ...(opts.authenticated === false ? {} : { auth: { appId: TEAMS_APP_ID } }),
  });
  const t = await startTestSystem({
    policy: opts.policy,
    teams: connector,
    ...(opts.start ? { start: opts.start } : {}),
  });
  const botUrl = `http://127.0.0.1:${t.system.port}/api/messages`;
  for (const user of opts.install ?? opts.users) {
    const installed = await connector.send(botUrl, connector.installationUpdate(user.id));
    expect(installed.status).toBe(200);
  }
  let submissions = 0;
  const chat = (email: string) =>
    connector.activitiesIn(connector.personalConversationId(connector.userByEmail(email).id));
  return {
    t,
    connector,
    botUrl,
    user: (email) => connector.userByEmail(email),
    async submit(input) {
      const user = connector.userByEmail(input.requester);
      submissions += 1;
      const request = await t.system.service.submit({
        ...input,
        requester: { email: input.requester, name: user.name },
        submissionKey: `teams-test:${submissions}`,
      });
      return request.id;
    },
    async recorded(subjectId, purpose, recipient) {
      return eventually(async () => {
        await t.delivered();
        const [record] = await t.store.repos.messages.find({ subjectId, purpose, recipient });
        if (!record) throw new Error(`no ${purpose} recorded for ${recipient}`);
        const { reference, activityId } = JSON.parse(record.address) as {
          reference: { conversation: { id: string } };
          activityId: string;
        };
        const found = connector.activity(reference.conversation.id, activityId);
        if (!found) throw new Error(`Teams holds no message at ${record.address}`);
        return found;
      });
    },
    chat,
    async latest(email, needle) {
      return eventually(async () => {
        await t.delivered();
        const found = [...chat(email)].reverse().find((a) => JSON.stringify(a.activity).includes(needle));
        if (!found) throw new Error(`no message to ${email} mentioning "${needle}"`);
        return found;
      });
    },
    async close() {
      await t.close();
      await connector.close();
    },
  };
}
