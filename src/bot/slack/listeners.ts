/**
 * Listener registration shared by the cards and the App Home: buttons whose value is one of our
 * ids, and the home's own listeners (`app_home_opened`, pages, filters, Revoke, Details, Request
 * access). Handlers ack() first; a click made in the home shows the home again once it is done,
 * so the person sees its effect at once (others' homes follow through `home.refresh`).
 *
 * Commands, block actions and view submissions are registered here in a {@link SlackRoutes}, which
 * gives Bolt one listener per kind and picks the handler by command name, action id or callback id:
 * Bolt runs every listener's middleware for every request, so 24 listeners cost far more than the
 * one handler that matches.
 */
import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import type { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { HomeActionId } from '../../domain/views/model.js';
import type { SlackDeps } from './deps.js';
import type { SlackPerson } from './directory.js';
import * as actions from './handlers/actions.js';
import * as home from './handlers/home.js';
import { openRequestForm } from './handlers/request-form.js';
import { FormIds } from './ids.js';
import type { Recipient } from './respond.js';

export type ButtonBody = BlockAction<ButtonAction>;
export type Fail = (error: unknown, target: Recipient) => Promise<void>;

export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
export type ActionArgs<A extends BlockAction = BlockAction> = SlackActionMiddlewareArgs<A> &
  AllMiddlewareArgs;
export type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

interface ActionRoute {
  run: (args: ActionArgs) => Promise<void>;
  /** Only for `block_actions` payloads (the buttons), as Bolt's `type` constraint did. */
  blockActionsOnly: boolean;
}

/** A regular expression matching exactly `ids` and whatever `patterns` match (each whole). */
function exactly(ids: Iterable<string>, patterns: string[] = []): RegExp {
  const alternatives = [...[...ids].map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), ...patterns];
  return new RegExp(`^(?:${alternatives.join('|')})$`);
}

/**
 * The app's slash commands, block actions and view submissions, each by its exact name (or, for
 * the form's numbered duration buttons, a pattern). {@link mount} registers one Bolt listener per
 * kind, whose constraint matches exactly the names registered: a request that matches none is left
 * to Bolt as before (not acknowledged, so Bolt answers it 404 after 3 s and logs that).
 */
export class SlackRoutes {
  readonly #commands = new Map<string, (args: CommandArgs) => Promise<void>>();
  readonly #actions = new Map<string, ActionRoute>();
  readonly #actionPatterns: Array<{ source: string; pattern: RegExp; route: ActionRoute }> = [];
  readonly #views = new Map<string, (args: ViewArgs) => Promise<void>>();

  command(name: string, run: (args: CommandArgs) => Promise<void>): void {
    if (this.#commands.has(name)) throw new Error(`command ${name} registered twice`);
    this.#commands.set(name, run);
  }

  /**
   * Block actions with these action ids (any interactive payload with them, as Bolt's action-id
   * constraint matched, or only `block_actions` ones with `blockActionsOnly`).
   */
  action<A extends BlockAction = BlockAction>(
    ids: string | readonly string[],
    run: (args: ActionArgs<A>) => Promise<void>,
    options: { blockActionsOnly?: boolean } = {},
  ): void {
    const route = {
      run: run as unknown as ActionRoute['run'],
      blockActionsOnly: options.blockActionsOnly ?? false,
    };
    for (const id of typeof ids === 'string' ? [ids] : ids) {
      if (this.#actions.has(id)) throw new Error(`action ${id} registered twice`);
      this.#actions.set(id, route);
    }
  }

  /** Block actions whose whole action id matches `pattern` (checked after the exact ids). */
  actionPattern(pattern: RegExp, run: (args: ActionArgs) => Promise<void>): void {
    this.#actionPatterns.push({
      source: pattern.source,
      pattern: new RegExp(`^(?:${pattern.source})$`),
      route: { run, blockActionsOnly: false },
    });
  }

  /** Submissions (`view_submission`) of the modal with this callback id. */
  view(callbackId: string, run: (args: ViewArgs) => Promise<void>): void {
    if (this.#views.has(callbackId)) throw new Error(`view ${callbackId} registered twice`);
    this.#views.set(callbackId, run);
  }

  /** The route for a block action, as Bolt's constraints chose the listener before. */
  actionRoute(body: { type?: string }, actionId: string): ActionRoute | undefined {
    let route = this.#actions.get(actionId);
    if (!route) {
      for (const candidate of this.#actionPatterns) {
        if (candidate.pattern.test(actionId)) {
          route = candidate.route;
          break;
        }
      }
    }
    if (route?.blockActionsOnly && body.type !== 'block_actions') return undefined;
    return route;
  }

  /** Registers one Bolt listener per kind with something registered. */
  mount(app: App): void {
    if (this.#commands.size > 0) {
      app.command(exactly(this.#commands.keys()), async (args) => {
        await this.#commands.get(args.command.command)?.(args);
      });
    }
    if (this.#actions.size > 0 || this.#actionPatterns.length > 0) {
      const patterns = this.#actionPatterns.map((p) => p.source);
      app.action<BlockAction>(exactly(this.#actions.keys(), patterns), async (args) => {
        await this.actionRoute(args.body, args.action.action_id)?.run(args);
      });
    }
    if (this.#views.size > 0) {
      app.view<ViewSubmitAction>(exactly(this.#views.keys()), async (args) => {
        await this.#views.get(args.view.callback_id)?.(args);
      });
    }
  }
}

/** What every listener here works with: the routes, the handlers' deps, how to answer a failure, and who clicked. */
export interface ListenerKit {
  /** Where commands, actions and submissions are registered. */
  routes: SlackRoutes;
  /** For the listeners of other kinds (the home's event). */
  app: App;
  deps: SlackDeps;
  fail: Fail;
  /** The person behind a Slack user id from a signed payload. */
  personOf: (userId: string) => Promise<SlackPerson>;
}
export type ButtonRun = (
  person: SlackPerson,
  value: string,
  body: ButtonBody,
  target: Recipient,
) => Promise<void>;

/** Whether a block action was made in the App Home tab. */
function inHome(body: BlockAction): boolean {
  return body.container?.type === 'view' && body.view?.type === 'home';
}

/**
 * Registers a button whose value is one of our ids (or fits `value`, e.g. a resource id); bad values
 * are refused before anything runs.
 */
export function buttonRegistrar({ routes, deps, fail, personOf }: ListenerKit) {
  return (id: string, run: ButtonRun, value: z.ZodType<string> = actions.idValue) => {
    routes.action<ButtonBody>(
      id,
      async ({ ack, body, action, respond }) => {
        await ack();
        const target = { userId: body.user.id, channelId: body.channel?.id, respond };
        const parsed = value.safeParse(action.value);
        if (!parsed.success) {
          deps.log.warn({ actionId: id, userId: body.user.id }, 'slack.bad_button_value');
          await fail(
            new DomainError('INVALID_INPUT', 'That button was not recognised, so nothing was changed.'),
            target,
          );
          return;
        }
        let person: SlackPerson | undefined;
        try {
          person = await personOf(body.user.id);
          await run(person, parsed.data, body, target);
        } catch (error) {
          await fail(error, target);
        }
        if (person && inHome(body)) await showAfterClick(deps, person, fail, target);
      },
      { blockActionsOnly: true },
    );
  };
}

async function showAfterClick(deps: SlackDeps, person: SlackPerson, fail: Fail, target: Recipient) {
  try {
    await home.showHome(deps, person);
  } catch (error) {
    await fail(error, target);
  }
}

export function registerHomeListeners(kit: ListenerKit, button: ReturnType<typeof buttonRegistrar>): void {
  const { app, routes, deps, fail, personOf } = kit;
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    try {
      await home.showHome(deps, await personOf(event.user));
    } catch (error) {
      await fail(error, { userId: event.user });
    }
  });

  button(HomeActionId.requestAccess, (person, _value, body) =>
    openRequestForm(deps, body.trigger_id, person),
  );
  button(HomeActionId.revoke, (person, id, body) => home.startRevoke(deps, person, id, body.trigger_id));
  button(HomeActionId.details, (person, id, body) => home.showDetails(deps, person, id, body.trigger_id));
  // A resource's access history: its value (resource, page) is parsed in the handler.
  routes.action<ButtonBody>(
    HomeActionId.history,
    async ({ ack, body, action }) => {
      await ack();
      try {
        const inModal = body.view?.type === 'modal' ? body.view : undefined;
        await home.showHistory(deps, await personOf(body.user.id), {
          triggerId: body.trigger_id,
          value: action.value,
          ...(inModal
            ? {
                view: { id: inModal.id, ...(inModal.callback_id ? { callbackId: inModal.callback_id } : {}) },
              }
            : {}),
        });
      } catch (error) {
        await fail(error, { userId: body.user.id });
      }
    },
    { blockActionsOnly: true },
  );

  // Pages and filters change only what the home shows; their values are parsed in the handler.
  const homeAction = (
    ids: string[],
    run: (person: SlackPerson, action: BlockAction['actions'][number]) => Promise<void>,
  ) => {
    routes.action(ids, async ({ ack, body, action }) => {
      await ack();
      try {
        await run(await personOf(body.user.id), action);
      } catch (error) {
        await fail(error, { userId: body.user.id });
      }
    });
  };
  homeAction([HomeActionId.pageNext, HomeActionId.pagePrevious], (person, action) =>
    home.turnHomePage(
      deps,
      person,
      action.action_id === HomeActionId.pageNext ? 'next' : 'previous',
      'value' in action ? action.value : undefined,
    ),
  );
  homeAction(
    [
      HomeActionId.filterResource,
      HomeActionId.filterStatus,
      HomeActionId.filterUser,
      HomeActionId.filterExpires,
      HomeActionId.clearFilters,
    ],
    (person, action) =>
      home.filterHome(deps, person, {
        actionId: action.action_id,
        ...('selected_option' in action && action.selected_option
          ? { option: action.selected_option.value }
          : {}),
        ...('selected_user' in action && action.selected_user ? { userId: action.selected_user } : {}),
        ...('selected_date' in action && action.selected_date ? { date: action.selected_date } : {}),
      }),
  );

  formSubmission(kit, {
    callbackId: FormIds.revokeCallback,
    parse: home.parseRevokeMeta,
    run: async (person, meta, view) => {
      await deps.service.endAccess(meta.grantId, person, home.revokeReason(view.state));
      await home.showHome(deps, person);
    },
  });
}

/**
 * Registers the submission of a small neutral form (a deny or revoke reason): acked at once (the
 * modal closes), its metadata parsed (an unrecognised one changes nothing and says so), then run.
 */
export function formSubmission<M extends object>(
  { routes, deps, fail, personOf }: ListenerKit,
  form: {
    callbackId: string;
    parse: (raw: string | undefined) => M | null;
    run: (person: SlackPerson, meta: M, view: { state?: unknown }) => Promise<void>;
  },
): void {
  routes.view(form.callbackId, async ({ ack, body, view }) => {
    await ack();
    const meta = form.parse(view.private_metadata);
    const channelId = meta && 'channelId' in meta && typeof meta.channelId === 'string' ? meta.channelId : '';
    const target = { userId: body.user.id, ...(channelId ? { channelId } : {}) };
    if (!meta) {
      deps.log.warn({ userId: body.user.id, callbackId: form.callbackId }, 'slack.bad_form_metadata');
      await fail(
        new DomainError('INVALID_INPUT', 'That form was not recognised, so nothing was changed.'),
        target,
      );
      return;
    }
    try {
      await form.run(await personOf(body.user.id), meta, view);
    } catch (error) {
      await fail(error, target);
    }
  });
}
