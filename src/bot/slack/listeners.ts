/**
 * Listener registration shared by the cards and the App Home: buttons whose value is one of our
 * ids, and the home's own listeners (`app_home_opened`, pages, filters, Revoke, Details, Request
 * access). Handlers ack() first; a click made in the home shows the home again once it is done,
 * so the person sees its effect at once (others' homes follow through `home.refresh`).
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
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

/** What every listener here works with: the app, the handlers' deps, how to answer a failure, and who clicked. */
export interface ListenerKit {
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
export function buttonRegistrar({ app, deps, fail, personOf }: ListenerKit) {
  return (id: string, run: ButtonRun, value: z.ZodType<string> = actions.idValue) => {
    app.action<ButtonBody>(
      { type: 'block_actions', action_id: id },
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
  const { app, deps, fail, personOf } = kit;
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
  app.action<ButtonBody>(
    { type: 'block_actions', action_id: HomeActionId.history },
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
  );

  // Pages and filters change only what the home shows; their values are parsed in the handler.
  const homeAction = (
    ids: string[],
    run: (person: SlackPerson, action: BlockAction['actions'][number]) => Promise<void>,
  ) => {
    const pattern = new RegExp(`^(${ids.map((s) => s.replace(/\./g, '\\.')).join('|')})$`);
    app.action<BlockAction>(pattern, async ({ ack, body, action }) => {
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
  { app, deps, fail, personOf }: ListenerKit,
  form: {
    callbackId: string;
    parse: (raw: string | undefined) => M | null;
    run: (person: SlackPerson, meta: M, view: { state?: unknown }) => Promise<void>;
  },
): void {
  app.view(form.callbackId, async ({ ack, body, view }) => {
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
