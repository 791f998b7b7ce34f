/**
 * The Bot Framework side of Teams: botbuilder's `CloudAdapter`, authenticated by
 * `ConfigurationBotFrameworkAuthentication` from the bot's credentials, and the app's route for
 * `POST /api/messages` on its own HTTP server (src/http/server.ts).
 *
 * - With an app id, every inbound activity's token is verified (issuer, audience = the app id,
 *   signing key endorsed for the channel, `serviceurl` claim = the activity's service URL): a
 *   request without a valid token gets 401. Outbound calls carry a token from Azure AD.
 * - Without one, Teams is served only when `dangerouslyAllowUnauthenticated` is set, and the log
 *   says at start-up that requests are not authenticated: anyone who can reach the port can then
 *   act as any Teams user, and the bot sends to whatever service URL an activity names. It is
 *   for the local Agents Playground only.
 * - Connector calls fail fast: the SDK's own retries are removed and each call is bounded by
 *   `timeoutMs`, so the outbox, not a request in flight, decides when to try again (as
 *   src/bot/slack/platform.ts does with Slack's client). See ./authentication.ts, ./connector.ts.
 *
 * botbuilder is retired (support ended December 2025; its successor is `@microsoft/agents-hosting`).
 * Every botbuilder type stays inside src/bot/teams, so that a later move touches this folder alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Activity,
  CloudAdapter,
  type ConversationParameters,
  type ConversationReference,
  type TeamsChannelAccount,
  TeamsInfo,
  type TurnContext,
} from 'botbuilder';
import { AuthenticationConstants } from 'botframework-connector';
import type { Log } from '../../domain/events.js';
import { type Route, sendJson } from '../../http/server.js';
import { createAuthentication } from './authentication.js';
import { CONNECTOR_TIMEOUT_MS } from './connector.js';
import { LIMITS } from './limits.js';

export const TEAMS_MESSAGES_PATH = '/api/messages';

export type MicrosoftAppType = 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';

export interface TeamsAdapterSettings {
  appId?: string;
  appPassword?: string;
  appType: MicrosoftAppType;
  tenantId?: string;
  /** Serve without an app id, checking no token (see the module comment). */
  dangerouslyAllowUnauthenticated: boolean;
  /** How long one connector call may take (default 10 s). */
  timeoutMs?: number;
  /**
   * Test seams, for a local fake Bot Connector instead of Microsoft's cloud (never set in production):
   * - `serviceUrl`: every connector call goes here instead of the conversation's own service URL;
   * - `openIdMetadataUrl`: where the channel's signing keys are published, for verifying inbound tokens;
   * - `outboundToken`: the bearer token for connector calls, instead of asking Azure AD (botbuilder
   *   gets it through MSAL, which talks only to Microsoft's https authorities).
   */
  fake?: {
    serviceUrl?: string;
    openIdMetadataUrl?: string;
    outboundToken?: () => Promise<string>;
  };
}

/** A message activity's content, without its addressing (conversation, ids). */
export type OutgoingActivity = Partial<Activity>;

export type TeamsLogic = (context: TurnContext) => Promise<void>;

export interface TeamsAdapter {
  /** The bot's app id ('' when unauthenticated). */
  readonly appId: string;
  readonly authenticated: boolean;
  /** `POST /api/messages` on the app's server, running `logic` for each accepted activity. */
  route(logic: TeamsLogic): Route;
  /** One member of the reference's conversation (`TeamsInfo.getMember`). */
  member(reference: Partial<ConversationReference>, userId: string): Promise<TeamsChannelAccount>;
  /** Sends a proactive message into the reference's conversation; returns the new activity's id. */
  send(reference: Partial<ConversationReference>, activity: OutgoingActivity): Promise<string>;
  /** Replaces activity `activityId` in the reference's conversation. */
  update(
    reference: Partial<ConversationReference>,
    activityId: string,
    activity: OutgoingActivity,
  ): Promise<void>;
  /**
   * Opens (or finds) the 1:1 chat with the reference's user through `createConversation`, and
   * returns its reference: for when the stored conversation is gone.
   */
  openPersonalChat(reference: Partial<ConversationReference>): Promise<Partial<ConversationReference>>;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** botbuilder's Response shape (express-like) over Node's ServerResponse. */
function responseFor(res: ServerResponse) {
  let status = 200;
  let body: unknown;
  return {
    socket: res.socket,
    status(code: number) {
      status = code;
    },
    header(name: string, value: unknown) {
      res.setHeader(name, String(value));
    },
    send(payload: unknown) {
      body = payload;
    },
    end() {
      if (res.headersSent) return;
      if (body === undefined || body === null) {
        res.writeHead(status).end();
      } else if (typeof body === 'string') {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
      } else {
        sendJson(res, status, body);
      }
    },
  };
}

export function createTeamsAdapter(settings: TeamsAdapterSettings, log: Log): TeamsAdapter {
  const appId = settings.appId ?? '';
  if (!appId && !settings.dangerouslyAllowUnauthenticated) {
    throw new Error(
      'Teams needs MicrosoftAppId (or TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED=true for a local playground)',
    );
  }
  const cloud = new CloudAdapter(createAuthentication(settings, settings.timeoutMs ?? CONNECTOR_TIMEOUT_MS));
  const teamsLog = log.child({ component: 'teams' });
  cloud.onTurnError = async (context, error) => {
    teamsLog.error(
      { err: error, activityType: context.activity.type, conversationId: context.activity.conversation?.id },
      'teams.turn_failed',
    );
  };
  if (!appId) {
    teamsLog.warn(
      {},
      'TEAMS_DANGEROUSLY_ALLOW_UNAUTHENTICATED=true: requests to /api/messages are NOT AUTHENTICATED. Anyone who can reach this port can act as any Teams user and make the bot send to any address. Use it only with the local Agents Playground; set MicrosoftAppId and MicrosoftAppPassword anywhere else.',
    );
  }

  /**
   * Runs `work` in a proactive turn on the reference's conversation and returns what it produced,
   * or throws what it threw (the adapter's turn-error handler would otherwise swallow it).
   */
  async function inTurn<T>(reference: Partial<ConversationReference>, work: (c: TurnContext) => Promise<T>) {
    let outcome: { value: T } | { error: unknown } | undefined;
    await cloud.continueConversationAsync(appId, reference, async (context) => {
      try {
        outcome = { value: await work(context) };
      } catch (error) {
        outcome = { error };
      }
    });
    if (!outcome) throw new Error('the proactive turn did not run');
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  return {
    appId,
    authenticated: appId !== '',

    route(logic) {
      return {
        method: 'POST',
        path: TEAMS_MESSAGES_PATH,
        async handler(req, res) {
          if (appId && !req.headers.authorization) {
            // What botbuilder would answer, without its console noise.
            sendJson(res, 401, { error: 'unauthorized' });
            return;
          }
          const raw = await readBody(req, LIMITS.inboundBytes);
          if (raw === null) {
            sendJson(res, 413, { error: 'too_large' });
            return;
          }
          let body: unknown;
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch {
            sendJson(res, 400, { error: 'bad_request' });
            return;
          }
          await cloud.process(
            { body: body as Record<string, unknown>, headers: req.headers, method: req.method ?? 'POST' },
            responseFor(res),
            logic,
          );
        },
      };
    },

    member(reference, userId) {
      return inTurn(reference, (context) => TeamsInfo.getMember(context, userId));
    },

    send(reference, activity) {
      return inTurn(reference, async (context) => {
        const sent = await context.sendActivity({ type: 'message', ...activity });
        if (!sent?.id) throw new Error('Teams returned no activity id');
        return sent.id;
      });
    },

    async update(reference, activityId, activity) {
      await inTurn(reference, (context) =>
        context.updateActivity({
          type: 'message',
          ...activity,
          id: activityId,
          conversation: context.activity.conversation,
        }),
      );
    },

    async openPersonalChat(reference) {
      const { user, bot, conversation, serviceUrl, channelId } = reference;
      if (!user?.id || !serviceUrl)
        throw new Error('the conversation reference names no user or service URL');
      const tenantId = conversation?.tenantId;
      const parameters = {
        isGroup: false,
        bot,
        members: [{ id: user.id, name: user.name ?? '' }],
        tenantId,
        channelData: tenantId ? { tenant: { id: tenantId } } : undefined,
      } as ConversationParameters;
      let opened: Partial<ConversationReference> | undefined;
      await cloud.createConversationAsync(
        appId,
        channelId ?? 'msteams',
        serviceUrl,
        AuthenticationConstants.ToChannelFromBotOAuthScope,
        parameters,
        async (context) => {
          opened = {
            ...reference,
            conversation: { ...context.activity.conversation, conversationType: 'personal', tenantId },
          };
        },
      );
      if (!opened?.conversation?.id) throw new Error('createConversation returned no conversation');
      return opened;
    },
  };
}
