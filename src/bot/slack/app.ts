/**
 * The Bolt app: listener registration only. Handlers live in ./handlers and ack() first.
 * Bolt verifies every request's signature (a forged or stale request gets 401); the person
 * behind a request is the Slack user id in the signed payload, resolved through the Web API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, type BlockAction, type ButtonAction, LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import { DomainError } from '../../domain/errors.js';
import type { Log } from '../../domain/events.js';
import { ActionId } from '../../domain/views/model.js';
import type { SlackDeps } from './deps.js';
import * as actions from './handlers/actions.js';
import { onFormChange, onFormSubmit, openRequestForm } from './handlers/request-form.js';
import { FormIds, SLASH_COMMANDS } from './ids.js';
import { buildMessageModal } from './modal.js';
import { type Recipient, tellUser, userMessageFor } from './respond.js';

export interface SlackAppOptions {
  botToken: string;
  signingSecret?: string;
  /** Socket Mode when set. */
  appToken?: string;
  apiUrl: string;
  port: number;
  log: Log;
  health: { live(): boolean; ready(): Promise<boolean> };
}

/** Bolt's logger interface on top of ours, so every line is structured the same way. */
function boltLogger(log: Log): SlackLogger {
  let level = LogLevel.INFO;
  const child = log.child({ component: 'bolt' });
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...m: unknown[]) => child.debug({}, text(m)),
    info: (...m: unknown[]) => child.info({}, text(m)),
    warn: (...m: unknown[]) => child.warn({}, text(m)),
    error: (...m: unknown[]) => child.error({}, text(m)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

function healthRoutes(health: SlackAppOptions['health']) {
  const reply = (res: ServerResponse, ok: boolean) => {
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok }));
  };
  return [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => reply(res, health.live()),
    },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        health.ready().then(
          (ok) => reply(res, ok),
          () => reply(res, false),
        );
      },
    },
  ];
}

export function createBoltApp(opts: SlackAppOptions): App {
  const common = {
    token: opts.botToken,
    logger: boltLogger(opts.log),
    // Bounded calls: a hung Slack API call must not hold up a request's other messages for long.
    clientOptions: {
      slackApiUrl: opts.apiUrl,
      timeout: 15_000,
      retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
    },
    customRoutes: healthRoutes(opts.health),
  };
  if (opts.appToken) {
    return new App({
      ...common,
      socketMode: true,
      appToken: opts.appToken,
      installerOptions: { port: opts.port, clientOptions: { slackApiUrl: opts.apiUrl } },
    });
  }
  if (!opts.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required in HTTP mode');
  return new App({ ...common, signingSecret: opts.signingSecret, port: opts.port });
}

type ButtonBody = BlockAction<ButtonAction>;

export function registerListeners(app: App, deps: SlackDeps): void {
  const log = deps.log;
  const fail = async (error: unknown, target: Recipient) => {
    const text = userMessageFor(error, log);
    try {
      await tellUser(deps.client, target, text);
    } catch (sendError) {
      log.error({ err: sendError, userId: target.userId }, 'slack.tell_user_failed');
    }
  };

  for (const command of SLASH_COMMANDS) {
    app.command(command, async ({ ack, command: cmd, respond }) => {
      await ack();
      try {
        const person = await deps.directory.person(cmd.user_id);
        await openRequestForm(deps, cmd.trigger_id, person, { query: cmd.text });
      } catch (error) {
        // response_url reaches the person even in a channel the bot is not in.
        await fail(error, { userId: cmd.user_id, channelId: cmd.channel_id, respond });
      }
    });
  }

  // Form changes: resource, approvers, quick durations, custom amount/unit, template.
  const formActions = [
    FormIds.resource,
    FormIds.approvers,
    FormIds.customAmount,
    FormIds.customUnit,
    FormIds.template,
  ];
  const formPattern = new RegExp(
    `^(${[...formActions, `${FormIds.durationPrefix}\\d+`].map((s) => s.replace(/\./g, '\\.')).join('|')})$`,
  );
  app.action<BlockAction>(formPattern, async ({ ack, body, action }) => {
    await ack();
    if (!body.view) return;
    try {
      const person = await deps.directory.person(body.user.id);
      const value = 'value' in action && typeof action.value === 'string' ? action.value : undefined;
      await onFormChange(deps, person, body.view, {
        action_id: action.action_id,
        ...(value ? { value } : {}),
      });
    } catch (error) {
      await fail(error, { userId: body.user.id });
    }
  });

  app.view(FormIds.requestCallback, async ({ ack, body, view }) => {
    let result: Awaited<ReturnType<typeof onFormSubmit>>;
    try {
      const person = await deps.directory.person(body.user.id);
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

  /** Registers a button whose value is one of our ids; bad values are refused before anything runs. */
  const button = (
    id: string,
    run: (
      person: Awaited<ReturnType<typeof deps.directory.person>>,
      value: string,
      body: ButtonBody,
      target: Recipient,
    ) => Promise<void>,
  ) => {
    app.action<ButtonBody>(
      { type: 'block_actions', action_id: id },
      async ({ ack, body, action, respond }) => {
        await ack();
        const target = { userId: body.user.id, channelId: body.channel?.id, respond };
        const parsed = actions.idValue.safeParse(action.value);
        if (!parsed.success) {
          log.warn({ actionId: id, userId: body.user.id }, 'slack.bad_button_value');
          await fail(
            new DomainError('INVALID_INPUT', 'That button was not recognised, so nothing was changed.'),
            target,
          );
          return;
        }
        try {
          const person = await deps.directory.person(body.user.id);
          await run(person, parsed.data, body, target);
        } catch (error) {
          await fail(error, target);
        }
      },
    );
  };

  button(ActionId.approve, (person, id) => actions.approve(deps, person, id));
  button(ActionId.deny, (person, id, body) =>
    actions.startDeny(deps, person, id, body.trigger_id, body.channel?.id),
  );
  button(ActionId.cancel, (person, id) => actions.cancel(deps, person, id));
  button(ActionId.requestAgain, (person, id, body) =>
    actions.requestAgain(deps, person, id, body.trigger_id),
  );
  button(ActionId.extend, async (person, id, body, target) => {
    const refusal = await actions.startExtension(deps, person, id, body.trigger_id);
    if (refusal) await tellUser(deps.client, target, refusal);
  });
  button(ActionId.endAccess, (person, id) => actions.endAccess(deps, person, id));

  app.view(FormIds.denyCallback, async ({ ack, body, view }) => {
    await ack();
    const meta = actions.parseDenyMeta(view.private_metadata);
    const target = { userId: body.user.id, ...(meta?.channelId ? { channelId: meta.channelId } : {}) };
    if (!meta) {
      log.warn({ userId: body.user.id }, 'slack.bad_deny_metadata');
      await fail(
        new DomainError('INVALID_INPUT', 'That form was not recognised, so nothing was changed.'),
        target,
      );
      return;
    }
    try {
      const person = await deps.directory.person(body.user.id);
      await deps.service.decide(meta.requestId, person, 'deny', actions.denyReason(view.state));
    } catch (error) {
      await fail(error, target);
    }
  });

  app.error(async (error) => {
    log.error({ err: error }, 'slack.unhandled_error');
  });
}
