/**
 * Sends requests to a running Bolt HTTP endpoint exactly as Slack does: signed with the signing secret
 * (`X-Slack-Signature: v0=HMAC-SHA256(secret, "v0:<timestamp>:<raw body>")`,
 * `X-Slack-Request-Timestamp`), slash commands as an `application/x-www-form-urlencoded` form and
 * interactivity as a form with one `payload=<JSON>` field, with the payload shapes Slack sends
 * (including `block_suggestion`, the options load of an external select, answered with JSON).
 *
 * Pair it with the fake Web API: pass `issueTriggerId: () => fake.issueTriggerId()` and
 * `issueResponseUrl: (ctx) => fake.issueResponseUrl(ctx)` so `views.open` and `respond()` work.
 */
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { findElement, isJsonObject, type JsonObject, SLACK_LIMITS } from './fake-slack.js';

export interface SlackSenderOptions {
  /** The Bolt endpoint, e.g. `http://127.0.0.1:3000/slack/events`. */
  url: string;
  signingSecret: string;
  now?: () => Date;
  team?: { id: string; domain: string };
  apiAppId?: string;
  /** The deprecated verification token Slack still puts in payloads. */
  verificationToken?: string;
  /** The bot user id put in Events API `authorizations` (default the fake's). */
  botUserId?: string;
  /** Names for `user_name` / `user.username` (default: the id, lower-cased). */
  users?: ReadonlyArray<{ id: string; name: string }>;
  /** Source of trigger ids when a call gives none (e.g. `() => fake.issueTriggerId()`). */
  issueTriggerId?: (userId: string) => string;
  /** Source of response URLs when a call gives none (e.g. `(ctx) => fake.issueResponseUrl(ctx)`). */
  issueResponseUrl?: (ctx: { userId: string; channelId?: string; messageTs?: string }) => string;
  /**
   * How a signed request is sent (default: the global `fetch`, a connection per request). The
   * benchmarks pass one over kept-alive connections, as Slack's own senders keep them, so that
   * the load generator does not take the CPU the app is measured on.
   */
  post?: (url: string, body: string, headers: Record<string, string>) => Promise<RawHttpResponse>;
}

/** What a request's answer is read as: its status, headers (lower-case names) and body text. */
export interface RawHttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

async function fetchPost(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<RawHttpResponse> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, headers: Object.fromEntries(response.headers.entries()), text };
}

export interface SendOptions {
  /** Seconds since the epoch for `X-Slack-Request-Timestamp`; default now. Use an old one for a stale request. */
  timestamp?: number;
  /** Replace the computed `X-Slack-Signature` (to forge one). */
  signature?: string;
  retryNum?: number;
  retryReason?: string;
  headers?: Record<string, string>;
}

export interface SlackHttpResponse {
  status: number;
  /** Parsed JSON when the response is JSON, else the text ('' for an empty ack). */
  body: unknown;
  text: string;
  headers: Record<string, string>;
}

export interface SlashCommandInput {
  command: string;
  text?: string;
  userId: string;
  teamId?: string;
  triggerId?: string;
  channelId?: string;
  channelName?: string;
  responseUrl?: string;
}

/**
 * An option as Slack sends it back when a person picks it: `{ text, value }` (a string `text` becomes
 * Slack's `{ type: 'plain_text', text, emoji: true }`). An external select has no options of its own
 * to look a value up in, so its choice is always given this way, as the options load answered it.
 */
export interface OptionInput {
  text: string | JsonObject;
  value: string;
}

type SelectedOption = string | OptionInput;

export interface BlockActionInput {
  userId: string;
  actionId: string;
  blockId?: string;
  /** For buttons; defaults to the element's own `value` when the element is found in `message`/`view`. */
  value?: string;
  /**
   * An option value (looked up in the element's options) or a full option object; for an external
   * select (which has no options list) only a full option object, as the options load served it.
   */
  selectedOption?: SelectedOption;
  selectedOptions?: SelectedOption[];
  selectedUser?: string;
  selectedDate?: string;
  /** Element type; default: the element's type when found, else inferred (button / static_select / …). */
  type?: string;
  /** A message as `fake.lastMessageTo()` returns it (its `channel` is used for the container). */
  message?: JsonObject & { ts?: unknown; channel?: unknown };
  /** A view as the fake returns it, for actions inside a modal or App Home. */
  view?: JsonObject;
  /** With `view`: what the person has entered so far, by action id (becomes `view.state.values`). */
  values?: Record<string, ViewInputValue>;
  channel?: { id: string; name?: string };
  container?: JsonObject;
  triggerId?: string;
  responseUrl?: string;
}

export interface ViewSubmissionInput {
  userId: string;
  /** The view as Slack holds it (id, hash, callback_id, private_metadata, blocks, state.values). */
  view: JsonObject;
  /** Shortcut: input values by action id, turned into `state.values` with `buildViewState`. */
  values?: Record<string, ViewInputValue>;
  triggerId?: string;
  responseUrls?: JsonObject[];
}

export interface ViewClosedInput {
  userId: string;
  view: JsonObject;
  isCleared?: boolean;
}

/**
 * A value for an input element: text, an option value, option values, a user id, a date… For an
 * external select, the chosen option(s) as `{ text, value }` (there is no options list to look in).
 */
export type ViewInputValue = string | number | string[] | OptionInput | OptionInput[] | null;

export interface BlockSuggestionInput {
  userId: string;
  /** The external select being typed into. */
  actionId: string;
  /** What the person has typed so far. */
  value: string;
  /** The view holding the select, as the fake returns it. */
  view: JsonObject;
  /** What the person has entered in the view so far, by action id (becomes `view.state.values`). */
  values?: Record<string, ViewInputValue>;
  blockId?: string;
}

/** Element types whose options Slack loads from the app (`block_suggestion`). */
const EXTERNAL_SELECTS = ['external_select', 'multi_external_select'];
/** Slack's default `min_query_length`: it asks for options once this many characters are typed. */
const DEFAULT_MIN_QUERY_LENGTH = 3;

/** `v0=<hex>` for a body and timestamp, as Slack computes it. */
export function signSlackRequest(signingSecret: string, timestampSec: number, body: string): string {
  // Two updates rather than one of `v0:<ts>:<body>`: the joined string would be copied whole first
  // (about 18 µs against 6 µs for a 7 KB interaction payload). The same bytes are hashed.
  const mac = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:`).update(body);
  return `v0=${mac.digest('hex')}`;
}

function optionsOf(element: JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  if (Array.isArray(element.options)) out.push(...element.options.filter(isJsonObject));
  if (Array.isArray(element.option_groups)) {
    for (const group of element.option_groups) {
      if (isJsonObject(group) && Array.isArray(group.options))
        out.push(...group.options.filter(isJsonObject));
    }
  }
  return out;
}

function optionObject(option: OptionInput): JsonObject {
  const text =
    typeof option.text === 'string' ? { type: 'plain_text', text: option.text, emoji: true } : option.text;
  return { text: { ...text }, value: option.value };
}

function resolveOption(
  element: JsonObject | undefined,
  wanted: SelectedOption,
  actionId: string,
): JsonObject {
  if (typeof wanted !== 'string') return optionObject(wanted);
  if (element && EXTERNAL_SELECTS.includes(String(element.type))) {
    throw new Error(
      `element ${actionId} is an ${String(element.type)}: it has no options to find ${wanted} in; give the option as { text, value }, as the options load served it`,
    );
  }
  if (!element) return { text: { type: 'plain_text', text: wanted, emoji: true }, value: wanted };
  const found = optionsOf(element).find((o) => o.value === wanted);
  if (!found) {
    const values = optionsOf(element).map((o) => String(o.value));
    throw new Error(`element ${actionId} has no option with value ${wanted} (options: ${values.join(', ')})`);
  }
  return { ...found };
}

const isOptionInput = (v: unknown): v is OptionInput =>
  isJsonObject(v) && typeof v.value === 'string' && (typeof v.text === 'string' || isJsonObject(v.text));

/**
 * What Slack would refuse in an answer to a `block_suggestion` (then it shows the person no options):
 * exactly one of `options` or `option_groups`, at most 100 of either, each group with a plain-text
 * label and at most 100 options, each option with plain text (75) and a value (150). Empty when fine.
 */
export function optionsResponseProblems(body: unknown): string[] {
  const problems: string[] = [];
  if (!isJsonObject(body)) return ['the answer is not a JSON object'];
  const checkOptions = (list: unknown, at: string) => {
    if (!Array.isArray(list)) {
      problems.push(`${at} must be an array`);
      return;
    }
    if (list.length > SLACK_LIMITS.selectOptions)
      problems.push(`${at}: no more than ${SLACK_LIMITS.selectOptions} items allowed`);
    list.forEach((o, i) => {
      const text = isJsonObject(o) && isJsonObject(o.text) ? o.text : undefined;
      if (!isJsonObject(o) || !text) problems.push(`${at}[${i}] must be an option with text`);
      else {
        if (text.type !== 'plain_text') problems.push(`${at}[${i}].text must be plain_text`);
        if (
          typeof text.text !== 'string' ||
          text.text.length < 1 ||
          text.text.length > SLACK_LIMITS.optionText
        )
          problems.push(`${at}[${i}].text.text must be 1 to ${SLACK_LIMITS.optionText} characters`);
        if (typeof o.value !== 'string' || o.value.length < 1 || o.value.length > SLACK_LIMITS.optionValue)
          problems.push(`${at}[${i}].value must be 1 to ${SLACK_LIMITS.optionValue} characters`);
      }
    });
  };
  const hasOptions = body.options !== undefined;
  const hasGroups = body.option_groups !== undefined;
  if (hasOptions === hasGroups) problems.push('must provide exactly one of options or option_groups');
  if (hasOptions) checkOptions(body.options, 'options');
  if (hasGroups) {
    const groups = body.option_groups;
    if (!Array.isArray(groups)) problems.push('option_groups must be an array');
    else {
      if (groups.length > SLACK_LIMITS.selectOptionGroups)
        problems.push(`option_groups: no more than ${SLACK_LIMITS.selectOptionGroups} items allowed`);
      groups.forEach((g, i) => {
        const label = isJsonObject(g) && isJsonObject(g.label) ? g.label : undefined;
        if (!isJsonObject(g) || !label) {
          problems.push(`option_groups[${i}] must have a label`);
          return;
        }
        if (
          label.type !== 'plain_text' ||
          typeof label.text !== 'string' ||
          label.text.length < 1 ||
          label.text.length > SLACK_LIMITS.optionGroupLabel
        )
          problems.push(
            `option_groups[${i}].label must be plain_text of 1 to ${SLACK_LIMITS.optionGroupLabel} characters`,
          );
        checkOptions(g.options, `option_groups[${i}].options`);
      });
    }
  }
  return problems;
}

/**
 * `view.state.values` as Slack would send it for `inputs` (by action id): every stateful element of
 * every input block appears, with its initial value when not given, typed per element
 * (`value`, `selected_option`, `selected_options`, `selected_user`, `selected_date`, …).
 */
export function buildViewState(
  view: JsonObject,
  inputs: Record<string, ViewInputValue>,
): Record<string, Record<string, JsonObject>> {
  const values: Record<string, Record<string, JsonObject>> = {};
  const used = new Set<string>();
  const blocks = Array.isArray(view.blocks) ? view.blocks.filter(isJsonObject) : [];
  for (const block of blocks) {
    const blockId = typeof block.block_id === 'string' ? block.block_id : undefined;
    const elements: JsonObject[] = [];
    if (block.type === 'input' && isJsonObject(block.element)) elements.push(block.element);
    if (block.type === 'actions' && Array.isArray(block.elements))
      elements.push(...block.elements.filter(isJsonObject));
    if (block.type === 'section' && isJsonObject(block.accessory)) elements.push(block.accessory);
    for (const element of elements) {
      const actionId = typeof element.action_id === 'string' ? element.action_id : undefined;
      if (!actionId || !blockId) continue;
      const given = Object.hasOwn(inputs, actionId);
      if (!given && block.type !== 'input') continue;
      if (given) used.add(actionId);
      const state = elementState(element, actionId, given ? inputs[actionId] : undefined, given);
      if (state) values[blockId] = { ...(values[blockId] ?? {}), [actionId]: state };
    }
  }
  const unknown = Object.keys(inputs).filter((k) => !used.has(k));
  if (unknown.length > 0) {
    throw new Error(
      `view ${String(view.callback_id)} has no element(s) with action_id ${unknown.join(', ')}`,
    );
  }
  return values;
}

function elementState(
  element: JsonObject,
  actionId: string,
  input: ViewInputValue | undefined,
  given: boolean,
): JsonObject | undefined {
  const type = String(element.type);
  const one = (initialKey: string, key: string): JsonObject => ({
    type,
    [key]: given ? (input ?? null) : (element[initialKey] ?? null),
  });
  const many = (initialKey: string, key: string): JsonObject => ({
    type,
    [key]: given
      ? Array.isArray(input)
        ? input
        : input === null || input === undefined
          ? []
          : [String(input)]
      : (element[initialKey] ?? []),
  });
  switch (type) {
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input':
      return {
        type,
        value: given
          ? input === null || input === undefined
            ? null
            : String(input)
          : (element.initial_value ?? null),
      };
    case 'static_select':
    case 'external_select':
    case 'radio_buttons': {
      if (Array.isArray(input)) throw new Error(`element ${actionId} (${type}) takes one option, not a list`);
      return {
        type,
        selected_option:
          given && input !== null && input !== undefined
            ? resolveOption(element, isOptionInput(input) ? input : String(input), actionId)
            : given
              ? null
              : (element.initial_option ?? null),
      };
    }
    case 'multi_static_select':
    case 'multi_external_select':
    case 'checkboxes': {
      const list: SelectedOption[] = Array.isArray(input)
        ? input
        : input === null || input === undefined
          ? []
          : [isOptionInput(input) ? input : String(input)];
      return {
        type,
        selected_options: given
          ? list.map((v) => resolveOption(element, v, actionId))
          : (element.initial_options ?? []),
      };
    }
    case 'users_select':
      return one('initial_user', 'selected_user');
    case 'multi_users_select':
      return many('initial_users', 'selected_users');
    case 'conversations_select':
      return one('initial_conversation', 'selected_conversation');
    case 'multi_conversations_select':
      return many('initial_conversations', 'selected_conversations');
    case 'channels_select':
      return one('initial_channel', 'selected_channel');
    case 'multi_channels_select':
      return many('initial_channels', 'selected_channels');
    case 'datepicker':
      return one('initial_date', 'selected_date');
    case 'timepicker':
      return one('initial_time', 'selected_time');
    case 'datetimepicker':
      return one('initial_date_time', 'selected_date_time');
    default:
      return given ? { type, value: input ?? null } : undefined;
  }
}

export function createSlackSender(opts: SlackSenderOptions) {
  const now = opts.now ?? (() => new Date());
  const team = opts.team ?? { id: 'T0FAKETEAM', domain: 'fake-team' };
  const apiAppId = opts.apiAppId ?? 'AJITACCESS';
  const token = opts.verificationToken ?? 'fake-verification-token';
  // Looked up by id (a bench sends as any of 30,000 people); rebuilt if the list grew.
  let names = new Map<string, string>();
  let namesOf = 0;
  const nameOf = (userId: string): string => {
    if (opts.users && namesOf !== opts.users.length) {
      // the first of several with one id, as a search from the start finds it
      names = new Map(opts.users.toReversed().map((u) => [u.id, u.name]));
      namesOf = opts.users.length;
    }
    return names.get(userId) ?? userId.toLowerCase();
  };
  const userObject = (userId: string): JsonObject => ({
    id: userId,
    username: nameOf(userId),
    name: nameOf(userId),
    team_id: team.id,
  });
  const triggerFor = (userId: string, given?: string): string =>
    given ??
    opts.issueTriggerId?.(userId) ??
    `${randomInt(10_000, 99_999)}.${randomInt(1_000_000_000, 9_999_999_999)}.${randomBytes(16).toString('hex')}`;
  const responseUrlFor = (
    kind: 'commands' | 'actions',
    ctx: { userId: string; channelId?: string; messageTs?: string },
    given?: string,
  ): string =>
    given ??
    opts.issueResponseUrl?.(ctx) ??
    `https://hooks.slack.com/${kind}/${team.id}/${randomInt(1_000_000_000, 9_999_999_999)}/${randomBytes(12).toString('hex')}`;
  const actionTs = (): string => {
    const ms = now().getTime();
    return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000 + randomInt(1000)).padStart(6, '0')}`;
  };

  async function raw(body: string, headers: Record<string, string>): Promise<SlackHttpResponse> {
    const response = await (opts.post ?? fetchPost)(opts.url, body, headers);
    const text = response.text;
    const contentType = response.headers['content-type'] ?? '';
    let parsed: unknown = text;
    if (contentType.includes('application/json') && text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return {
      status: response.status,
      body: parsed,
      text,
      headers: response.headers,
    };
  }

  function send(body: string, contentType: string, sendOpts: SendOptions = {}): Promise<SlackHttpResponse> {
    const timestamp = sendOpts.timestamp ?? Math.floor(now().getTime() / 1000);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      accept: 'application/json,*/*',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': sendOpts.signature ?? signSlackRequest(opts.signingSecret, timestamp, body),
      ...(sendOpts.retryNum !== undefined ? { 'x-slack-retry-num': String(sendOpts.retryNum) } : {}),
      ...(sendOpts.retryReason !== undefined ? { 'x-slack-retry-reason': sendOpts.retryReason } : {}),
      ...sendOpts.headers,
    };
    return raw(body, headers);
  }

  function sendPayload(payload: JsonObject, sendOpts?: SendOptions): Promise<SlackHttpResponse> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return send(body, 'application/x-www-form-urlencoded', sendOpts);
  }

  function commonPayload(type: string, userId: string): JsonObject {
    return {
      type,
      team: { id: team.id, domain: team.domain },
      user: userObject(userId),
      api_app_id: apiAppId,
      token,
    };
  }

  /** The view as it appears in payloads: Slack's fields, with current `state`. */
  function payloadView(view: JsonObject, state?: Record<string, Record<string, JsonObject>>): JsonObject {
    return {
      team_id: team.id,
      type: 'modal',
      private_metadata: '',
      callback_id: '',
      external_id: '',
      clear_on_close: false,
      notify_on_close: false,
      previous_view_id: null,
      app_id: apiAppId,
      app_installed_team_id: team.id,
      ...view,
      state: state ? { values: state } : isJsonObject(view.state) ? view.state : { values: {} },
      root_view_id: view.root_view_id ?? view.id ?? null,
    };
  }

  return {
    send,
    raw,
    sign: (body: string, timestampSec: number) => signSlackRequest(opts.signingSecret, timestampSec, body),

    /** A slash command, sent as Slack sends it (form fields in Slack's order). */
    slashCommand(input: SlashCommandInput, sendOpts?: SendOptions): Promise<SlackHttpResponse> {
      const channelId = input.channelId ?? `D${input.userId}`;
      const fields: Record<string, string> = {
        token,
        team_id: input.teamId ?? team.id,
        team_domain: team.domain,
        channel_id: channelId,
        channel_name:
          input.channelName ?? (channelId.startsWith('D') ? 'directmessage' : channelId.toLowerCase()),
        user_id: input.userId,
        user_name: nameOf(input.userId),
        command: input.command,
        text: input.text ?? '',
        api_app_id: apiAppId,
        is_enterprise_install: 'false',
        response_url: responseUrlFor('commands', { userId: input.userId, channelId }, input.responseUrl),
        trigger_id: triggerFor(input.userId, input.triggerId),
      };
      return send(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', sendOpts);
    },

    /** A `block_actions` interaction from a message (`message`) or a modal / App Home (`view`). */
    blockAction(input: BlockActionInput, sendOpts?: SendOptions): Promise<SlackHttpResponse> {
      const blocks = (input.view?.blocks ?? input.message?.blocks) as unknown[] | undefined;
      const found = findElement(blocks, input.actionId);
      if (Array.isArray(blocks) && !found) {
        throw new Error(
          `no element with action_id ${input.actionId} in the ${input.view ? 'view' : 'message'}`,
        );
      }
      const element = found?.element;
      const type =
        input.type ??
        (typeof element?.type === 'string' ? element.type : undefined) ??
        (input.selectedOptions ? 'multi_static_select' : input.selectedOption ? 'static_select' : 'button');
      const action: JsonObject = {
        action_id: input.actionId,
        block_id: input.blockId ?? found?.blockId ?? randomBytes(3).toString('hex'),
        type,
        action_ts: actionTs(),
      };
      if (type === 'button') {
        action.text = element?.text ?? { type: 'plain_text', text: input.actionId, emoji: true };
        const value = input.value ?? element?.value;
        if (value !== undefined) action.value = value;
        if (element?.style !== undefined) action.style = element.style;
      } else if (input.value !== undefined) {
        action.value = input.value;
      }
      if (input.selectedOption !== undefined) {
        action.selected_option = resolveOption(element, input.selectedOption, input.actionId);
      }
      if (input.selectedOptions !== undefined) {
        action.selected_options = input.selectedOptions.map((o) => resolveOption(element, o, input.actionId));
      }
      if (input.selectedUser !== undefined) action.selected_user = input.selectedUser;
      if (input.selectedDate !== undefined) action.selected_date = input.selectedDate;
      if (element?.placeholder !== undefined) action.placeholder = element.placeholder;

      const payload: JsonObject = {
        ...commonPayload('block_actions', input.userId),
        trigger_id: triggerFor(input.userId, input.triggerId),
        enterprise: null,
        is_enterprise_install: false,
      };
      if (input.view) {
        const view = payloadView(
          input.view,
          input.values ? buildViewState(input.view, input.values) : undefined,
        );
        payload.container = input.container ?? { type: 'view', view_id: input.view.id };
        payload.view = view;
      } else {
        const { channel: messageChannel, ...message } = input.message ?? {};
        const channelId =
          input.channel?.id ?? (typeof messageChannel === 'string' ? messageChannel : undefined);
        const messageTs = typeof message.ts === 'string' ? message.ts : undefined;
        if (!input.container && (!channelId || !messageTs)) {
          throw new Error(
            'blockAction needs a message (with channel and ts), a view, or an explicit container',
          );
        }
        payload.container = input.container ?? {
          type: 'message',
          message_ts: messageTs,
          channel_id: channelId,
          is_ephemeral: false,
        };
        if (channelId) {
          payload.channel = {
            id: channelId,
            name:
              input.channel?.name ?? (channelId.startsWith('D') ? 'directmessage' : channelId.toLowerCase()),
          };
        }
        if (input.message) payload.message = message;
        payload.state = { values: {} };
        payload.response_url = responseUrlFor(
          'actions',
          {
            userId: input.userId,
            ...(channelId ? { channelId } : {}),
            ...(messageTs ? { messageTs } : {}),
          },
          input.responseUrl,
        );
      }
      payload.actions = [action];
      return sendPayload(payload, sendOpts);
    },

    /**
     * A `block_suggestion`: the person typed `value` into an external select of a modal, and Slack
     * asks the app for the options to show (the app answers with `options` or `option_groups` as
     * JSON in the HTTP response). Like Slack, it refuses to ask for an element that is not an
     * external select, or for fewer characters than the element's `min_query_length` (default 3).
     */
    blockSuggestion(input: BlockSuggestionInput, sendOpts?: SendOptions): Promise<SlackHttpResponse> {
      const found = findElement(input.view.blocks as unknown[] | undefined, input.actionId);
      if (!found) throw new Error(`no element with action_id ${input.actionId} in the view`);
      const type = String(found.element.type);
      if (!EXTERNAL_SELECTS.includes(type)) {
        throw new Error(
          `element ${input.actionId} is a ${type}: Slack loads options only for ${EXTERNAL_SELECTS.join(' and ')}`,
        );
      }
      const minLength =
        typeof found.element.min_query_length === 'number'
          ? found.element.min_query_length
          : DEFAULT_MIN_QUERY_LENGTH;
      if (input.value.length < minLength) {
        throw new Error(
          `Slack asks for ${input.actionId}'s options only once ${minLength} characters are typed (min_query_length), not for "${input.value}"`,
        );
      }
      const blockId = input.blockId ?? found.blockId;
      if (!blockId) throw new Error(`the block holding ${input.actionId} has no block_id`);
      return sendPayload(
        {
          ...commonPayload('block_suggestion', input.userId),
          action_id: input.actionId,
          block_id: blockId,
          value: input.value,
          container: { type: 'view', view_id: input.view.id },
          view: payloadView(input.view, input.values ? buildViewState(input.view, input.values) : undefined),
          enterprise: null,
          is_enterprise_install: false,
        },
        sendOpts,
      );
    },

    /** A `view_submission` (the person pressed the modal's submit button). */
    viewSubmission(input: ViewSubmissionInput, sendOpts?: SendOptions): Promise<SlackHttpResponse> {
      const state = input.values ? buildViewState(input.view, input.values) : undefined;
      return sendPayload(
        {
          ...commonPayload('view_submission', input.userId),
          trigger_id: triggerFor(input.userId, input.triggerId),
          view: payloadView(input.view, state),
          response_urls: input.responseUrls ?? [],
          enterprise: null,
          is_enterprise_install: false,
        },
        sendOpts,
      );
    },

    /** A `view_closed` (only sent when the view had `notify_on_close: true`). */
    viewClosed(input: ViewClosedInput, sendOpts?: SendOptions): Promise<SlackHttpResponse> {
      return sendPayload(
        {
          ...commonPayload('view_closed', input.userId),
          view: payloadView(input.view),
          is_cleared: input.isCleared ?? false,
          enterprise: null,
          is_enterprise_install: false,
        },
        sendOpts,
      );
    },

    /** An Events API `event_callback` (JSON body), e.g. `{ type: 'app_home_opened', user, tab: 'home' }`. */
    event(event: JsonObject, sendOpts?: SendOptions & { eventId?: string }): Promise<SlackHttpResponse> {
      const seconds = Math.floor(now().getTime() / 1000);
      const body = JSON.stringify({
        token,
        team_id: team.id,
        api_app_id: apiAppId,
        event: { event_ts: `${seconds}.000100`, ...event },
        type: 'event_callback',
        event_id: sendOpts?.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
        event_time: seconds,
        authorizations: [
          {
            enterprise_id: null,
            team_id: team.id,
            user_id: opts.botUserId ?? 'UBOTJITACCESS',
            is_bot: true,
            is_enterprise_install: false,
          },
        ],
        is_ext_shared_channel: false,
      });
      return send(body, 'application/json', sendOpts);
    },
  };
}

export type SlackSender = ReturnType<typeof createSlackSender>;
