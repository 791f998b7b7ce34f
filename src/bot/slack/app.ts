/**
 * The Bolt app: listener registration only. Handlers live in ./handlers and ack() first.
 * Bolt verifies every request's signature (a forged or stale request gets 401); the person
 * behind a request is the Slack user id in the signed payload, resolved through the Web API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, HTTPReceiver } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Log } from '../../domain/events.js';
import { resourceIdValue } from '../../domain/policy-schema.js';
import { ActionId } from '../../domain/views/model.js';
import { currentRequestId, newRequestId, withRequestId } from '../../request-id.js';
import type { SlackDeps } from './deps.js';
import { openAccessSettings, registerAccessSettings } from './handlers/access-settings.js';
import * as actions from './handlers/actions.js';
import { sendAccessReport } from './handlers/report.js';
import { onFormChange, onFormSubmit, onOptionsLoad, openRequestForm } from './handlers/request-form.js';
import { keepAliveFetch } from './http-fetch.js';
import { FormIds, SlashCommand } from './ids.js';
import { LIMITS } from './limits.js';
import {
  type ActionArgs,
  buttonRegistrar,
  formSubmission,
  registerHomeListeners,
  SlackRoutes,
} from './listeners.js';
import { slackLogger } from './logger.js';
import { buildMessageModal } from './modal.js';
import { type Recipient, tellUser, userMessageFor } from './respond.js';
import { SlackApiClient } from './web-client.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret?: string;
  /** Socket Mode when set. */
  appToken?: string;
  apiUrl: string;
  log: Log;
  /** Wall-clock time in ms, for the request timestamp check (Slack signs with its real clock). */
  now?: () => number;
}

/** The path Slack posts commands and interactivity to (the manifest's request URLs). */
export const SLACK_EVENTS_PATH = '/slack/events';
/** How far a signed request's timestamp may be from now, either way (Slack's own rule). */
export const MAX_REQUEST_SKEW_SEC = 5 * 60;

export interface SlackFrontEnd {
  app: App;
  /** The Web API client for what a person waits on (forms, answers to clicks), with the bot token. */
  client: WebClient;
  /** For the app's HTTP server (HTTP mode); null in Socket Mode, where Slack is reached over a WebSocket. */
  handleRequest: ((req: IncomingMessage, res: ServerResponse) => void) | null;
  /** Connects (Socket Mode); nothing to do in HTTP mode, where the app's server receives Slack. */
  start(): Promise<void>;
  /** Disconnects (Socket Mode). */
  stop(): Promise<void>;
  /** Resolves when the work begun for requests already acknowledged has finished. */
  idle(): Promise<void>;
  /** The workspace and the bot's own user, once Slack has said (auth.test); null while it has not. */
  target(): Promise<{ teamId: string; botUserId: string } | null>;
}

/**
 * A signed request whose timestamp is more than five minutes from now, either way, is refused
 * before Bolt sees it: Bolt itself only refuses stale ones, so a request signed for the future
 * could be replayed for as long as its timestamp lies ahead.
 */
function timestampFresh(req: IncomingMessage, nowMs: number): boolean {
  const raw = req.headers['x-slack-request-timestamp'];
  const ts = Number(Array.isArray(raw) ? raw[0] : raw);
  if (!Number.isInteger(ts)) return false;
  return Math.abs(Math.floor(nowMs / 1000) - ts) <= MAX_REQUEST_SKEW_SEC;
}

export function createSlackFrontEnd(opts: SlackAppOptions): SlackFrontEnd {
  const logger = slackLogger(opts.log);
  const now = opts.now ?? Date.now;
  // Bounded calls for what a person waits on (opening and updating forms, answering a click);
  // messages go through the outbox with a client of their own (./platform.ts).
  const clientOptions = {
    slackApiUrl: opts.apiUrl,
    // over kept-alive connections, each try given 15 s by the transport (./http-fetch.ts)
    fetch: keepAliveFetch({ timeoutMs: 15_000 }),
    timeout: 0,
    retryConfig: { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2_000 },
  };
  const client = new SlackApiClient(opts.botToken, { ...clientOptions, timeoutMs: 15_000 });
  // Bolt's own single-token authorisation calls auth.test once, in its constructor, and keeps
  // that promise: if Slack is unreachable at that moment the rejection is unhandled (the process
  // dies) and every later event fails. This one asks again until Slack has answered once.
  let identity: Promise<{ botId: string; botUserId: string; teamId: string }> | undefined;
  const whoAmI = () => {
    identity ??= client.auth.test().then(
      (r) => ({
        botId: String(r.bot_id ?? ''),
        botUserId: String(r.user_id ?? ''),
        teamId: String(r.team_id ?? ''),
      }),
      (error: unknown) => {
        identity = undefined;
        throw error;
      },
    );
    return identity;
  };
  const common = {
    authorize: async () => {
      const { botId, botUserId } = await whoAmI();
      return { botToken: opts.botToken, botId, botUserId };
    },
    logger,
    clientOptions,
    // Bolt's conversation store (context.conversation) is unused here; left on, it looked up every
    // request's channel and, finding nothing, built an Error to reject with.
    convoStore: false as const,
  };
  let app: App;
  let handleRequest: SlackFrontEnd['handleRequest'] = null;
  if (opts.appToken) {
    app = new App({
      ...common,
      socketMode: true,
      appToken: opts.appToken,
      installerOptions: { clientOptions: { slackApiUrl: opts.apiUrl } },
    });
  } else {
    if (!opts.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required in HTTP mode');
    const receiver = new HTTPReceiver({
      signingSecret: opts.signingSecret,
      endpoints: SLACK_EVENTS_PATH,
      logger,
      processBeforeResponse: false,
    });
    app = new App({ ...common, receiver });
    handleRequest = (req, res) => {
      if (!timestampFresh(req, now())) {
        opts.log.warn({ path: req.url }, 'slack.request_refused: timestamp more than 5 minutes from now');
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('');
        return;
      }
      receiver.requestListener(req, res);
    };
  }
  // Every listener's work, including what runs after ack(), is tracked so shutdown can wait for it.
  const inFlight = new Set<Promise<unknown>>();
  app.use(async ({ next }) => {
    // Over HTTP the server gave this work its id; a Socket Mode event starts one here.
    const work = currentRequestId() ? next() : withRequestId(newRequestId(), next);
    inFlight.add(work);
    try {
      await work;
    } finally {
      inFlight.delete(work);
    }
  });
  return {
    app,
    client,
    handleRequest,
    async start() {
      try {
        await whoAmI();
      } catch (error) {
        // Not fatal: Slack may be down for a moment; the first event asks again.
        opts.log.error(
          { err: error },
          'slack.auth_test_failed: check SLACK_BOT_TOKEN and that Slack is reachable',
        );
      }
      if (opts.appToken) await app.start();
    },
    async stop() {
      if (opts.appToken) await app.stop();
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async target() {
      try {
        const { teamId, botUserId } = await whoAmI();
        return teamId && botUserId ? { teamId, botUserId } : null;
      } catch {
        return null;
      }
    },
  };
}

export function registerListeners(app: App, deps: SlackDeps): void {
  const log = deps.log;
  /** The person behind a signed request; every interaction counts as seeing them in Slack. */
  const personOf = async (userId: string) => {
    const person = await deps.directory.person(userId);
    await deps.seen?.(person.email);
    return person;
  };
  const fail = async (error: unknown, target: Recipient) => {
    const text = userMessageFor(error, log);
    try {
      await tellUser(deps.client, target, text);
    } catch (sendError) {
      log.error({ err: sendError, userId: target.userId }, 'slack.tell_user_failed');
    }
  };

  type Person = Awaited<ReturnType<typeof deps.directory.person>>;
  const commands = {
    [SlashCommand.requestAccess]: (person, cmd) =>
      openRequestForm(deps, cmd.trigger_id, person, { query: cmd.text }),
    [SlashCommand.accessSettings]: (person, cmd) =>
      openAccessSettings(deps, cmd.trigger_id, person, cmd.text),
    [SlashCommand.accessReport]: (person, cmd) => sendAccessReport(deps, person, cmd.user_id, cmd.text),
  } satisfies Record<
    string,
    (person: Person, cmd: { trigger_id: string; user_id: string; text: string }) => Promise<void>
  >;
  const routes = new SlackRoutes();
  for (const [command, run] of Object.entries(commands)) {
    routes.command(command, async ({ ack, command: cmd, respond }) => {
      await ack();
      try {
        const person = await personOf(cmd.user_id);
        await run(person, cmd);
      } catch (error) {
        // response_url reaches the person even in a channel the bot is not in.
        await fail(error, { userId: cmd.user_id, channelId: cmd.channel_id, respond });
      }
    });
  }

  registerAccessSettings(routes, deps, fail);

  // Form changes: resource, approvers, quick durations, custom amount/unit, template.
  const formActions = [
    FormIds.resource,
    FormIds.approvers,
    FormIds.customAmount,
    FormIds.customUnit,
    FormIds.template,
  ];
  const onFormAction = async ({ ack, body, action }: ActionArgs) => {
    await ack();
    if (!body.view) return;
    try {
      const person = await personOf(body.user.id);
      const value = 'value' in action && typeof action.value === 'string' ? action.value : undefined;
      await onFormChange(deps, person, body.view, {
        action_id: action.action_id,
        ...(value ? { value } : {}),
      });
    } catch (error) {
      await fail(error, { userId: body.user.id });
    }
  };
  routes.action(formActions, onFormAction);
  routes.actionPattern(new RegExp(`${FormIds.durationPrefix.replace(/\./g, '\\.')}\\d+`), onFormAction);

  // Type-ahead for the pickers that hold too many choices to list (external selects).
  app.options<'block_suggestion'>({ type: 'block_suggestion' }, async ({ ack, body }) => {
    try {
      const person = await personOf(body.user.id);
      const query = String(body.value ?? '').slice(0, LIMITS.searchQuery);
      await ack(await onOptionsLoad(deps, person, body.view, body.action_id, query));
    } catch (error) {
      log.warn({ err: error, userId: body.user.id }, 'slack.options_failed');
      await ack({ options: [] });
    }
  });

  routes.view(FormIds.requestCallback, async ({ ack, body, view }) => {
    let result: Awaited<ReturnType<typeof onFormSubmit>>;
    try {
      const person = await personOf(body.user.id);
      result = await onFormSubmit(deps, person, view);
    } catch (error) {
      // Nothing was sent; say so in the modal itself rather than leaving it spinning.
      await ack({
        response_action: 'update',
        view: buildMessageModal('Request access', `Your request was not sent. ${userMessageFor(error, log)}`),
      });
      return;
    }
    if (result.errors) {
      await ack({ response_action: 'errors', errors: result.errors });
      return;
    }
    if (result.replace) {
      await ack({ response_action: 'update', view: buildMessageModal('Request access', result.replace) });
      return;
    }
    await ack();
    try {
      await result.submit?.();
    } catch (error) {
      await fail(error, { userId: body.user.id });
    }
  });

  const kit = { app, routes, deps, fail, personOf };
  const button = buttonRegistrar(kit);

  button(ActionId.approve, (person, id) => actions.approve(deps, person, id));
  button(ActionId.deny, (person, id, body) =>
    actions.startDeny(deps, person, id, body.trigger_id, body.channel?.id),
  );
  button(ActionId.cancel, (person, id) => actions.cancel(deps, person, id));
  button(ActionId.requestAgain, (person, id, body) =>
    actions.requestAgain(deps, person, id, body.trigger_id),
  );
  button(
    ActionId.requestResource,
    (person, resourceId, body) => actions.requestResource(deps, person, resourceId, body.trigger_id),
    resourceIdValue,
  );
  button(ActionId.extend, async (person, id, body, target) => {
    const refusal = await actions.startExtension(deps, person, id, body.trigger_id);
    if (refusal) await tellUser(deps.client, target, refusal);
  });
  button(ActionId.endAccess, (person, id) => actions.endAccess(deps, person, id));

  formSubmission(kit, {
    callbackId: FormIds.denyCallback,
    parse: actions.parseDenyMeta,
    run: (person, meta, view) =>
      deps.service.decide(meta.requestId, person, 'deny', actions.denyReason(view.state)).then(() => {}),
  });

  registerHomeListeners(kit, button);
  routes.mount(app);

  app.error(async (error) => {
    log.error({ err: error }, 'slack.unhandled_error');
  });
}
