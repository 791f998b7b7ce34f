/**
 * SlackRoutes (src/bot/slack/listeners.ts) gives Bolt one listener per kind and picks the handler
 * itself. Checked against the slow path it replaced: the same handlers registered on Bolt one by
 * one, with the same constraints as before (buttons `{ type: 'block_actions', action_id }`, form
 * elements by action id, views by callback id, commands by name), fed the same requests through
 * Bolt's own processEvent: the same handler runs (or none), and the request is acknowledged exactly
 * when it was before.
 */
import { App, type BlockAction, type Receiver } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { SlackRoutes } from '../../../src/bot/slack/listeners.js';

const receiver: Receiver = { init: () => {}, start: async () => {}, stop: async () => {} };

function boltApp(): App {
  return new App({
    receiver,
    authorize: async () => ({ botToken: 'xoxb-test', botId: 'B1', botUserId: 'U0BOT' }),
    convoStore: false,
  });
}

const BUTTONS = ['jit.request.approve', 'jit.request.deny', 'jit.grant.revoke'];
const FORM = ['jit.form.resource', 'jit.form.template'];
const DURATION = /jit\.form\.duration\.\d+/;
const VIEWS = ['jit.request.form', 'jit.deny.form'];
const COMMANDS = ['/request-access', '/access-report'];

/** Two apps with the same handlers: one registered through SlackRoutes, one listener per name. */
function apps() {
  const ran: Record<'routed' | 'bolt', string[]> = { routed: [], bolt: [] };
  const handler = (which: 'routed' | 'bolt', name: string) => async (args: { ack: () => Promise<void> }) => {
    ran[which].push(name);
    await args.ack();
  };
  const routes = new SlackRoutes();
  const routed = boltApp();
  for (const id of BUTTONS) routes.action(id, handler('routed', id), { blockActionsOnly: true });
  routes.action(FORM, handler('routed', 'form'));
  routes.actionPattern(DURATION, handler('routed', 'duration'));
  for (const id of VIEWS) routes.view(id, handler('routed', id));
  for (const name of COMMANDS) routes.command(name, handler('routed', name));
  routes.mount(routed);

  const bolt = boltApp();
  for (const id of BUTTONS) bolt.action({ type: 'block_actions', action_id: id }, handler('bolt', id));
  bolt.action<BlockAction>(
    new RegExp(`^(${[...FORM.map((f) => f.replace(/\./g, '\\.')), DURATION.source].join('|')})$`),
    async (args) => {
      const id = args.action.action_id;
      await handler('bolt', FORM.includes(id) ? 'form' : 'duration')(args);
    },
  );
  for (const id of VIEWS) bolt.view(id, handler('bolt', id));
  for (const name of COMMANDS) bolt.command(name, handler('bolt', name));
  return { routed, bolt, ran };
}

const user = { id: 'U1', team_id: 'T1' };
const team = { id: 'T1' };
const blockAction = (actionId: string, type = 'block_actions') => ({
  type,
  team,
  user,
  actions: [{ type: 'button', action_id: actionId, block_id: 'b', value: 'v', action_ts: '1' }],
  trigger_id: 't',
});
const viewBody = (callbackId: string, type = 'view_submission') => ({
  type,
  team,
  user,
  view: { id: 'V1', callback_id: callbackId, type: 'modal', state: { values: {} }, private_metadata: '' },
});
const commandBody = (command: string) => ({
  command,
  text: '',
  team_id: 'T1',
  user_id: 'U1',
  channel_id: 'C1',
  trigger_id: 't',
  response_url: 'https://hooks.slack.test/commands/1',
});

const REQUESTS: Array<[string, Record<string, unknown>]> = [
  ...BUTTONS.map((id): [string, Record<string, unknown>] => [`button ${id}`, blockAction(id)]),
  ['a button id in an interactive_message', blockAction('jit.request.approve', 'interactive_message')],
  ['a form element', blockAction('jit.form.resource')],
  ['a form element in an interactive_message', blockAction('jit.form.template', 'interactive_message')],
  ['a duration button', blockAction('jit.form.duration.3')],
  ['a duration button with more digits', blockAction('jit.form.duration.12')],
  ['a duration button without a number', blockAction('jit.form.duration.')],
  ['a duration button with a suffix', blockAction('jit.form.duration.3x')],
  ['an unknown action', blockAction('jit.unknown')],
  ['a prefix of a known action', blockAction('jit.request.approv')],
  ['a known action with a suffix', blockAction('jit.request.approve2')],
  ['a known action with a regex dot in it', blockAction('jitXrequestXapprove')],
  ['no actions at all', { ...blockAction('jit.request.approve'), actions: [] }],
  ...VIEWS.map((id): [string, Record<string, unknown>] => [`submission ${id}`, viewBody(id)]),
  ['a closed view', viewBody('jit.request.form', 'view_closed')],
  ['an unknown view', viewBody('jit.other.form')],
  ...COMMANDS.map((name): [string, Record<string, unknown>] => [`command ${name}`, commandBody(name)]),
  ['an unknown command', commandBody('/access-settings')],
  ['a command with a suffix', commandBody('/request-access-now')],
];

describe('SlackRoutes against one Bolt listener per name', () => {
  it.each(REQUESTS)('%s: the same handler runs, acknowledged the same way', async (_what, body) => {
    const { routed, bolt, ran } = apps();
    const acks = { routed: 0, bolt: 0 };
    await routed.processEvent({ body, ack: async () => void acks.routed++ });
    await bolt.processEvent({ body, ack: async () => void acks.bolt++ });
    expect(ran.routed).toEqual(ran.bolt);
    expect(acks.routed).toBe(acks.bolt);
    expect(ran.routed.length).toBeLessThanOrEqual(1);
  });

  it('runs each handler the matched request names (and none for a request nothing matches)', async () => {
    const { routed, ran } = apps();
    for (const body of [
      blockAction('jit.request.deny'),
      blockAction('jit.form.duration.0'),
      viewBody('jit.deny.form'),
      commandBody('/access-report'),
      blockAction('jit.nothing'),
    ]) {
      await routed.processEvent({ body, ack: async () => {} });
    }
    expect(ran.routed).toEqual(['jit.request.deny', 'duration', 'jit.deny.form', '/access-report']);
  });

  it('passes a handler’s failure on to Bolt’s error handler, as a listener’s own failure was', async () => {
    const routes = new SlackRoutes();
    const app = boltApp();
    const errors: unknown[] = [];
    app.error(async (error) => void errors.push(error));
    routes.action('jit.request.approve', async ({ ack }) => {
      await ack();
      throw new Error('handler failed');
    });
    routes.mount(app);
    await app.processEvent({ body: blockAction('jit.request.approve'), ack: async () => {} });
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error).message)).toContain('handler failed');
  });

  it('refuses a name registered twice', () => {
    const routes = new SlackRoutes();
    const noop = async () => {};
    routes.action(['jit.a', 'jit.b'], noop);
    expect(() => routes.action('jit.b', noop)).toThrow(/registered twice/);
    routes.view('jit.form', noop);
    expect(() => routes.view('jit.form', noop)).toThrow(/registered twice/);
    routes.command('/x', noop);
    expect(() => routes.command('/x', noop)).toThrow(/registered twice/);
  });

  it('gives Bolt one listener per kind', () => {
    const counts = { command: 0, action: 0, view: 0 };
    const app = {
      command: () => void counts.command++,
      action: () => void counts.action++,
      view: () => void counts.view++,
    };
    const routes = new SlackRoutes();
    const noop = async () => {};
    for (const id of [...BUTTONS, ...FORM]) routes.action(id, noop);
    routes.actionPattern(DURATION, noop);
    for (const id of VIEWS) routes.view(id, noop);
    for (const name of COMMANDS) routes.command(name, noop);
    routes.mount(app as unknown as App);
    expect(counts).toEqual({ command: 1, action: 1, view: 1 });
  });
});
