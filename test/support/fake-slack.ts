/**
 * A local, faithful stand-in for the Slack Web API, for tests.
 *
 * The real Bolt `App` / `WebClient` talk to it over HTTP through `slackApiUrl` (`fake.apiUrl`). It parses
 * requests exactly as @slack/web-api 8 sends them (POST, `application/x-www-form-urlencoded` with nested
 * objects such as `blocks` and `view` as JSON strings, or `application/json`; `Authorization: Bearer`),
 * checks the bot token, records every call, keeps the state Slack keeps (messages, views, trigger ids,
 * user groups) and enforces the Block Kit limits the real API enforces, answering with Slack's own
 * error codes and response shapes. It also serves `response_url`s (see `issueResponseUrl`) so Bolt's
 * `respond()` can be exercised offline.
 *
 * Deliberate fidelity points worth knowing when writing assertions:
 * - Blocks Slack stores get a generated `block_id` (and interactive elements an `action_id`) when the
 *   app sent none, as the real API does. `call.args` holds what the app sent; `messagesIn()` what Slack keeps.
 * - Invalid blocks in `chat.*` answer `invalid_blocks` (with `errors`); invalid views in `views.*` answer
 *   `invalid_arguments`, as Slack does. Both carry `response_metadata.messages` with a json-pointer.
 * - Trigger ids are single use (`exchanged_trigger_id`), expire after 3 s (`expired_trigger_id`) and must
 *   have been issued by `issueTriggerId()` (`invalid_trigger_id`).
 */

import { randomFillSync, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { FakeSlackFiles } from './fake-slack-files.js';
import { SlackRateLimiter } from './slack-rate-limits.js';

// ---------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------

export interface FakeSlackUser {
  id: string;
  name: string;
  realName: string;
  email: string;
  /** IANA zone, e.g. `Europe/London`. */
  tz: string;
  displayName?: string;
  isBot?: boolean;
  deleted?: boolean;
  /** False for an account whose email Slack has not confirmed (`is_email_confirmed: false`). */
  emailConfirmed?: boolean;
}

export interface FakeSlackUsergroup {
  id: string;
  handle: string;
  users: string[];
  name?: string;
  description?: string;
  disabled?: boolean;
}

export interface FakeSlackChannel {
  id: string;
  name: string;
}

export interface FakeSlackOptions {
  team?: { id: string; name: string; domain?: string };
  users?: FakeSlackUser[];
  usergroups?: FakeSlackUsergroup[];
  /** Public/private channels the bot may post to, besides DMs. */
  channels?: FakeSlackChannel[];
  botToken?: string;
  botUserId?: string;
  botId?: string;
  botName?: string;
  appId?: string;
  /** When given, methods refuse with `missing_scope` unless their scope is listed (and `users:read.email` gates emails). */
  scopes?: string[];
  /** Trigger id lifetime; Slack's is 3 s. */
  triggerTtlMs?: number;
  /** The fake's clock (trigger expiry, message ts, timestamps in responses). */
  now?: () => Date;
  /** The app-level token (`xapp-…`) that `apps.connections.open` accepts (Socket Mode). */
  appToken?: string;
  /** How often the Socket Mode server pings each connection, as Slack does; 0 turns pings off. */
  socketPingIntervalMs?: number;
  /** Enforce Slack's published rate limits (slack-rate-limits.ts): 429 with `Retry-After` beyond them. */
  rateLimits?: boolean;
  /**
   * Keep every call in `calls` (default true). The benchmarks turn this off: they watch calls as
   * they come (`onCall`), and hundreds of thousands of kept calls, each with its arguments and
   * answer, would cost them memory and garbage collection. Off, `onCall` listeners and `waitFor`
   * still see each call as it is made, but `calls` stays empty, so `waitFor` finds no earlier call.
   * Everything else (validation, state, errors, rate limits) is the same.
   */
  recordCalls?: boolean;
}

export type JsonObject = { [key: string]: unknown };

export interface ApiResponse extends JsonObject {
  ok: boolean;
  error?: string;
}

export interface RecordedCall {
  /** Position in `calls` since the last reset; compare with `checkpoint()`. */
  seq: number;
  method: string;
  /** The arguments as sent, JSON-string fields (blocks, view, attachments, metadata…) parsed back; no token. */
  args: JsonObject;
  at: Date;
  token: string | undefined;
  status: number;
  response: ApiResponse;
}

export interface FakeMessage extends JsonObject {
  /** Not part of Slack's message object; where the fake stored it. */
  channel: string;
  type: 'message';
  ts: string;
  text: string;
  user: string;
  bot_id: string;
  app_id: string;
  team: string;
  blocks?: JsonObject[];
  attachments?: JsonObject[];
  metadata?: JsonObject;
  thread_ts?: string;
  edited?: { user: string; ts: string };
  /** Files shared with the message (files.completeUploadExternal). */
  files?: JsonObject[];
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  message_ts: string;
  text: string;
  blocks?: JsonObject[];
  /** `chat.postEphemeral` or `response_url`. */
  via: 'chat.postEphemeral' | 'response_url';
}

export interface FakeView extends JsonObject {
  id: string;
  team_id: string;
  type: 'modal' | 'home';
  blocks: JsonObject[];
  private_metadata: string;
  callback_id: string;
  external_id: string;
  state: { values: Record<string, Record<string, JsonObject>> };
  hash: string;
  clear_on_close: boolean;
  notify_on_close: boolean;
  root_view_id: string | null;
  previous_view_id: string | null;
  app_id: string;
  app_installed_team_id: string;
  bot_id: string;
}

export interface IssueResponseUrlOptions {
  userId?: string;
  channelId?: string;
  /** Ties the URL to a message, so `replace_original` / `delete_original` act on it (block actions). */
  messageTs?: string;
}

/** A Socket Mode envelope, as Slack sends it over the WebSocket. */
export interface SocketModeEnvelope {
  envelope_id: string;
  type: 'slash_commands' | 'interactive' | 'events_api' | (string & {});
  payload: JsonObject;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

/** What `pushEnvelope` takes: `envelope_id` and `accepts_response_payload` default as Slack sets them. */
export type SocketModeEnvelopeInput = Omit<SocketModeEnvelope, 'envelope_id' | 'accepts_response_payload'> & {
  envelope_id?: string;
  accepts_response_payload?: boolean;
};

/** An acknowledgement the app sent back over the WebSocket: `{ envelope_id, payload? }`. */
export interface SocketModeAck {
  envelope_id: string;
  /** The response payload (`{}` for a bare `ack()`), absent when the app sent none. */
  payload?: JsonObject;
  at: Date;
  /** The frame as received. */
  raw: string;
}

/** The Block Kit and surface limits the real API enforces (and the fake checks). */
export const SLACK_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  actionId: 255,
  blockId: 255,
  selectOptions: 100,
  selectOptionGroups: 100,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  optionGroupLabel: 75,
  placeholder: 150,
  inputLabel: 2000,
  inputHint: 2000,
  radioOptions: 10,
  checkboxOptions: 10,
  overflowOptions: 5,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  imageAltText: 2000,
  imageTitle: 2000,
  modalTitle: 24,
  modalSubmit: 24,
  modalClose: 24,
  privateMetadata: 3000,
  callbackId: 255,
  externalId: 255,
  markdownBlockText: 12_000,
  textInputLength: 3000,
  viewBytes: 250_000,
  responseUrlUses: 5,
} as const;

// ---------------------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------------------

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every `text` string found anywhere in `value` (blocks, a message, a view), joined by newlines. */
export function collectText(value: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
    } else if (isJsonObject(v)) {
      for (const [key, child] of Object.entries(v)) {
        if (key === 'text' && typeof child === 'string') out.push(child);
        else walk(child);
      }
    }
  };
  walk(value);
  return out.join('\n');
}

/** The interactive element with `actionId` in `blocks`, with the `block_id` of the block holding it. */
export function findElement(
  blocks: readonly unknown[] | undefined,
  actionId: string,
): { blockId: string | undefined; element: JsonObject } | undefined {
  for (const block of blocks ?? []) {
    if (!isJsonObject(block)) continue;
    const blockId = typeof block.block_id === 'string' ? block.block_id : undefined;
    for (const element of elementsOf(block)) {
      if (element.action_id === actionId) return { blockId, element };
    }
  }
  return undefined;
}

function elementsOf(block: JsonObject): JsonObject[] {
  const found: unknown[] = [];
  if (Array.isArray(block.elements)) found.push(...block.elements);
  if (block.accessory !== undefined) found.push(block.accessory);
  if (block.element !== undefined) found.push(block.element);
  return found.filter(isJsonObject);
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata', 'unfurls', 'user_auth_blocks']);

/**
 * A deep copy of a JSON value (what the fake stores: parsed arguments and its own plain objects),
 * as `structuredClone` makes it but several times cheaper (about 5 µs against 40 µs for a modal).
 * Anything that is not a plain object, array or primitive (a Date, a Map…) is copied by
 * `structuredClone`.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i += 1) out[i] = cloneJson(value[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copy = cloneJson((value as Record<string, unknown>)[key]);
    // An own `__proto__` key (JSON.parse makes one) stays a key, as structuredClone keeps it.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out as T;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Random bytes from a pool refilled 4 KiB at a time: ids need many small random numbers, and
 * `randomInt` / `randomBytes` cost a call into the crypto library each.
 */
const randomPool = Buffer.alloc(4096);
let randomPoolAt = randomPool.length;

function randomByte(): number {
  if (randomPoolAt >= randomPool.length) {
    randomFillSync(randomPool);
    randomPoolAt = 0;
  }
  return randomPool[randomPoolAt++] as number;
}

/** `bytes` random bytes as hex, as `randomBytes(bytes).toString('hex')` gives them. */
function randomHex(bytes: number): string {
  if (randomPoolAt + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolAt = 0;
  }
  randomPoolAt += bytes;
  return randomPool.toString('hex', randomPoolAt - bytes, randomPoolAt);
}

/** A uniform integer in [min, max), as `randomInt(min, max)` draws it (rejection sampling). */
function randomIntIn(min: number, max: number): number {
  const range = max - min;
  // 48 random bits, the largest multiple of `range` below 2^48 as the rejection limit.
  const limit = 2 ** 48 - (2 ** 48 % range);
  for (;;) {
    let x = 0;
    for (let i = 0; i < 6; i += 1) x = x * 256 + randomByte();
    if (x < limit) return min + (x % range);
  }
}

function randomAlnum(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += ALNUM[randomIntIn(0, ALNUM.length)];
  return out;
}

function strArg(args: JsonObject, key: string): string | undefined {
  const v = args[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function boolArg(args: JsonObject, key: string): boolean {
  const v = args[key];
  return v === true || v === 'true' || v === '1' || v === 1;
}

function invalidArguments(...messages: string[]): ApiResponse {
  return {
    ok: false,
    error: 'invalid_arguments',
    response_metadata: { messages: messages.map((m) => `[ERROR] ${m}`) },
  };
}

function fail(error: string, extra: JsonObject = {}): ApiResponse {
  return { ok: false, error, ...extra };
}

/** tzInfo by zone and minute: building an Intl.DateTimeFormat costs about a millisecond. */
const tzInfoCache = new Map<string, { offsetSec: number; label: string }>();

/** A zone's offset and long name at `at` (offsets change on whole minutes). */
function tzInfo(tz: string, at: Date): { offsetSec: number; label: string } {
  const key = `${tz}@${Math.floor(at.getTime() / 60_000)}`;
  const known = tzInfoCache.get(key);
  if (known) return known;
  if (tzInfoCache.size > 1_000) tzInfoCache.clear();
  const info = computeTzInfo(tz, at);
  tzInfoCache.set(key, info);
  return info;
}

function computeTzInfo(tz: string, at: Date): { offsetSec: number; label: string } {
  const offsetName =
    new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(offsetName);
  const offsetSec = match
    ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 3600 + Number(match[3]) * 60)
    : 0;
  const label =
    new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'long' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value ?? tz;
  return { offsetSec, label };
}

// ---------------------------------------------------------------------------------------------------------
// Block Kit validation (the subset of Slack's server-side checks that catches real bugs)
// ---------------------------------------------------------------------------------------------------------

type Surface = 'message' | 'modal' | 'home';

interface CheckCtx {
  errors: string[];
  blockIds: Set<string>;
}

const L = SLACK_LIMITS;

const BLOCK_TYPES = new Set([
  'section',
  'header',
  'divider',
  'context',
  'actions',
  'input',
  'image',
  'markdown',
  'rich_text',
  'video',
  'file',
  'table',
  'context_actions',
]);
const SELECTS = [
  'static_select',
  'external_select',
  'users_select',
  'conversations_select',
  'channels_select',
  'multi_static_select',
  'multi_external_select',
  'multi_users_select',
  'multi_conversations_select',
  'multi_channels_select',
];
const PICKERS = ['datepicker', 'timepicker', 'datetimepicker'];
const TEXT_INPUTS = ['plain_text_input', 'email_text_input', 'url_text_input', 'number_input'];
const ACCESSORY_TYPES = new Set([
  'button',
  'overflow',
  'image',
  'radio_buttons',
  'checkboxes',
  'workflow_button',
  ...SELECTS,
  ...PICKERS,
]);
const ACTIONS_TYPES = new Set([
  'button',
  'overflow',
  'radio_buttons',
  'checkboxes',
  'workflow_button',
  'rich_text_input',
  ...SELECTS,
  ...PICKERS,
  ...TEXT_INPUTS,
]);
const INPUT_TYPES = new Set([
  'radio_buttons',
  'checkboxes',
  'rich_text_input',
  'file_input',
  ...SELECTS,
  ...PICKERS,
  ...TEXT_INPUTS,
]);

function report(ctx: CheckCtx, pointer: string, message: string): void {
  ctx.errors.push(`${message} [json-pointer:${pointer}]`);
}

function checkString(
  ctx: CheckCtx,
  obj: JsonObject,
  key: string,
  ptr: string,
  opts: { max: number; min?: number; required?: boolean },
): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (opts.required) report(ctx, ptr, `missing required field: ${key}`);
    return undefined;
  }
  if (typeof v !== 'string') {
    report(ctx, `${ptr}/${key}`, 'must be a string');
    return undefined;
  }
  const min = opts.min ?? 0;
  if (v.length < min) report(ctx, `${ptr}/${key}`, `must be more than ${min - 1} characters`);
  if (v.length > opts.max) report(ctx, `${ptr}/${key}`, `must be less than ${opts.max + 1} characters`);
  return v;
}

function checkArray(
  ctx: CheckCtx,
  obj: JsonObject,
  key: string,
  ptr: string,
  opts: { max: number; min?: number; required?: boolean },
): unknown[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (opts.required) report(ctx, ptr, `missing required field: ${key}`);
    return undefined;
  }
  if (!Array.isArray(v)) {
    report(ctx, `${ptr}/${key}`, 'must provide an array');
    return undefined;
  }
  if (v.length < (opts.min ?? 0)) report(ctx, `${ptr}/${key}`, `must provide at least ${opts.min} items`);
  if (v.length > opts.max) report(ctx, `${ptr}/${key}`, `no more than ${opts.max} items allowed`);
  return v;
}

function checkTextObject(
  ctx: CheckCtx,
  value: unknown,
  ptr: string,
  opts: { max: number; plainOnly?: boolean },
): void {
  if (!isJsonObject(value)) {
    report(ctx, ptr, 'must provide an object');
    return;
  }
  const allowed = opts.plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
  if (typeof value.type !== 'string' || !allowed.includes(value.type)) {
    report(ctx, `${ptr}/type`, `must be one of [${allowed.join(', ')}]`);
  }
  checkString(ctx, value, 'text', ptr, { max: opts.max, min: 1, required: true });
}

function checkTextField(
  ctx: CheckCtx,
  obj: JsonObject,
  key: string,
  ptr: string,
  opts: { max: number; plainOnly?: boolean; required?: boolean },
): void {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (opts.required) report(ctx, ptr, `missing required field: ${key}`);
    return;
  }
  checkTextObject(ctx, v, `${ptr}/${key}`, opts);
}

function checkConfirm(ctx: CheckCtx, el: JsonObject, ptr: string): void {
  const confirm = el.confirm;
  if (confirm === undefined) return;
  const p = `${ptr}/confirm`;
  if (!isJsonObject(confirm)) {
    report(ctx, p, 'must provide an object');
    return;
  }
  checkTextField(ctx, confirm, 'title', p, { max: L.confirmTitle, plainOnly: true, required: true });
  checkTextField(ctx, confirm, 'text', p, { max: L.confirmText, required: true });
  checkTextField(ctx, confirm, 'confirm', p, { max: L.confirmButton, plainOnly: true, required: true });
  checkTextField(ctx, confirm, 'deny', p, { max: L.confirmButton, plainOnly: true, required: true });
  checkStyle(ctx, confirm, p);
}

function checkStyle(ctx: CheckCtx, obj: JsonObject, ptr: string): void {
  if (obj.style !== undefined && obj.style !== 'primary' && obj.style !== 'danger') {
    report(ctx, `${ptr}/style`, 'must be one of [primary, danger]');
  }
}

function checkOption(ctx: CheckCtx, value: unknown, ptr: string, plainOnly: boolean): void {
  if (!isJsonObject(value)) {
    report(ctx, ptr, 'must provide an object');
    return;
  }
  checkTextField(ctx, value, 'text', ptr, { max: L.optionText, plainOnly, required: true });
  checkString(ctx, value, 'value', ptr, { max: L.optionValue, min: 1, required: true });
  checkTextField(ctx, value, 'description', ptr, { max: L.optionDescription, plainOnly });
  checkString(ctx, value, 'url', ptr, { max: L.url });
}

function sameOption(a: unknown, b: unknown): boolean {
  return (
    isJsonObject(a) &&
    isJsonObject(b) &&
    a.value === b.value &&
    isJsonObject(a.text) &&
    isJsonObject(b.text) &&
    a.text.text === b.text.text
  );
}

function checkInitialOptions(ctx: CheckCtx, el: JsonObject, ptr: string, all: unknown[]): void {
  if (el.initial_option !== undefined && !all.some((o) => sameOption(o, el.initial_option))) {
    report(ctx, `${ptr}/initial_option`, 'must match one of the provided options');
  }
  if (Array.isArray(el.initial_options)) {
    el.initial_options.forEach((initial, i) => {
      if (!all.some((o) => sameOption(o, initial))) {
        report(ctx, `${ptr}/initial_options/${i}`, 'must match one of the provided options');
      }
    });
  }
}

function checkOptionList(
  ctx: CheckCtx,
  el: JsonObject,
  ptr: string,
  opts: { min: number; max: number; plainOnly: boolean },
): void {
  const options = checkArray(ctx, el, 'options', ptr, { ...opts, required: true }) ?? [];
  options.forEach((o, i) => {
    checkOption(ctx, o, `${ptr}/options/${i}`, opts.plainOnly);
  });
  checkInitialOptions(ctx, el, ptr, options);
}

function checkSelect(ctx: CheckCtx, el: JsonObject, ptr: string, type: string): void {
  checkTextField(ctx, el, 'placeholder', ptr, { max: L.placeholder, plainOnly: true });
  if (type !== 'static_select' && type !== 'multi_static_select') return;
  const hasOptions = el.options !== undefined;
  const hasGroups = el.option_groups !== undefined;
  if (hasOptions === hasGroups) {
    report(ctx, ptr, 'must provide exactly one of options or option_groups');
    return;
  }
  const all: unknown[] = [];
  if (hasOptions) {
    const options = checkArray(ctx, el, 'options', ptr, { max: L.selectOptions }) ?? [];
    options.forEach((o, i) => {
      checkOption(ctx, o, `${ptr}/options/${i}`, true);
    });
    all.push(...options);
  } else {
    const groups = checkArray(ctx, el, 'option_groups', ptr, { max: L.selectOptionGroups }) ?? [];
    groups.forEach((g, gi) => {
      const gp = `${ptr}/option_groups/${gi}`;
      if (!isJsonObject(g)) {
        report(ctx, gp, 'must provide an object');
        return;
      }
      checkTextField(ctx, g, 'label', gp, { max: L.optionGroupLabel, plainOnly: true, required: true });
      const options = checkArray(ctx, g, 'options', gp, { max: L.selectOptions, required: true }) ?? [];
      options.forEach((o, i) => {
        checkOption(ctx, o, `${gp}/options/${i}`, true);
      });
      all.push(...options);
    });
  }
  checkInitialOptions(ctx, el, ptr, all);
}

function checkElement(
  ctx: CheckCtx,
  value: unknown,
  ptr: string,
  actionIds: Set<string>,
  allowed: ReadonlySet<string>,
): void {
  if (!isJsonObject(value)) {
    report(ctx, ptr, 'must provide an object');
    return;
  }
  const type = value.type;
  if (typeof type !== 'string' || !allowed.has(type)) {
    report(ctx, `${ptr}/type`, `unsupported element type here: ${String(type)}`);
    return;
  }
  if (type === 'image') {
    checkImage(ctx, value, ptr);
    return;
  }
  const actionId = checkString(ctx, value, 'action_id', ptr, { max: L.actionId, min: 1 });
  if (actionId !== undefined) {
    if (actionIds.has(actionId)) report(ctx, `${ptr}/action_id`, `duplicate action_id: ${actionId}`);
    actionIds.add(actionId);
  }
  checkConfirm(ctx, value, ptr);
  switch (type) {
    case 'button':
      checkTextField(ctx, value, 'text', ptr, { max: L.buttonText, plainOnly: true, required: true });
      checkString(ctx, value, 'value', ptr, { max: L.buttonValue });
      checkString(ctx, value, 'url', ptr, { max: L.url });
      checkString(ctx, value, 'accessibility_label', ptr, { max: L.buttonText });
      checkStyle(ctx, value, ptr);
      break;
    case 'overflow':
      checkOptionList(ctx, value, ptr, { min: 1, max: L.overflowOptions, plainOnly: true });
      break;
    case 'radio_buttons':
      checkOptionList(ctx, value, ptr, { min: 1, max: L.radioOptions, plainOnly: false });
      break;
    case 'checkboxes':
      checkOptionList(ctx, value, ptr, { min: 1, max: L.checkboxOptions, plainOnly: false });
      break;
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input':
      checkTextField(ctx, value, 'placeholder', ptr, { max: L.placeholder, plainOnly: true });
      for (const key of ['min_length', 'max_length'] as const) {
        const n = value[key];
        if (n !== undefined && (typeof n !== 'number' || n < 0 || n > L.textInputLength)) {
          report(ctx, `${ptr}/${key}`, `must be a number between 0 and ${L.textInputLength}`);
        }
      }
      if (type === 'number_input' && typeof value.is_decimal_allowed !== 'boolean') {
        report(ctx, ptr, 'missing required field: is_decimal_allowed');
      }
      break;
    case 'datepicker':
      checkTextField(ctx, value, 'placeholder', ptr, { max: L.placeholder, plainOnly: true });
      if (value.initial_date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(value.initial_date))) {
        report(ctx, `${ptr}/initial_date`, 'must be in the format YYYY-MM-DD');
      }
      break;
    case 'timepicker':
      checkTextField(ctx, value, 'placeholder', ptr, { max: L.placeholder, plainOnly: true });
      if (value.initial_time !== undefined && !/^\d{2}:\d{2}$/.test(String(value.initial_time))) {
        report(ctx, `${ptr}/initial_time`, 'must be in the format HH:mm');
      }
      break;
    default:
      if (SELECTS.includes(type)) checkSelect(ctx, value, ptr, type);
  }
}

function checkImage(ctx: CheckCtx, value: JsonObject, ptr: string): void {
  checkString(ctx, value, 'alt_text', ptr, { max: L.imageAltText, min: 1, required: true });
  if (value.image_url === undefined && value.slack_file === undefined) {
    report(ctx, ptr, 'must provide either image_url or slack_file');
  }
  checkString(ctx, value, 'image_url', ptr, { max: L.url });
}

function checkBlock(ctx: CheckCtx, value: unknown, ptr: string): void {
  if (!isJsonObject(value)) {
    report(ctx, ptr, 'must provide an object');
    return;
  }
  const blockId = checkString(ctx, value, 'block_id', ptr, { max: L.blockId, min: 1 });
  if (blockId !== undefined) {
    if (ctx.blockIds.has(blockId)) report(ctx, `${ptr}/block_id`, `duplicate block_id: ${blockId}`);
    ctx.blockIds.add(blockId);
  }
  const type = value.type;
  if (typeof type !== 'string' || !BLOCK_TYPES.has(type)) {
    report(ctx, `${ptr}/type`, `unsupported block type: ${String(type)}`);
    return;
  }
  const actionIds = new Set<string>();
  switch (type) {
    case 'section': {
      if (value.text === undefined && value.fields === undefined) {
        report(ctx, ptr, 'must provide either text or fields');
      }
      checkTextField(ctx, value, 'text', ptr, { max: L.sectionText });
      const fields = checkArray(ctx, value, 'fields', ptr, { max: L.sectionFields }) ?? [];
      fields.forEach((f, i) => {
        checkTextObject(ctx, f, `${ptr}/fields/${i}`, { max: L.sectionFieldText });
      });
      if (value.accessory !== undefined) {
        checkElement(ctx, value.accessory, `${ptr}/accessory`, actionIds, ACCESSORY_TYPES);
      }
      break;
    }
    case 'header':
      checkTextField(ctx, value, 'text', ptr, { max: L.headerText, plainOnly: true, required: true });
      break;
    case 'context': {
      const elements = checkArray(ctx, value, 'elements', ptr, {
        min: 1,
        max: L.contextElements,
        required: true,
      });
      elements?.forEach((el, i) => {
        const p = `${ptr}/elements/${i}`;
        if (isJsonObject(el) && el.type === 'image') checkImage(ctx, el, p);
        else checkTextObject(ctx, el, p, { max: L.sectionText });
      });
      break;
    }
    case 'actions': {
      const elements = checkArray(ctx, value, 'elements', ptr, {
        min: 1,
        max: L.actionsElements,
        required: true,
      });
      elements?.forEach((el, i) => {
        checkElement(ctx, el, `${ptr}/elements/${i}`, actionIds, ACTIONS_TYPES);
      });
      break;
    }
    case 'input':
      checkTextField(ctx, value, 'label', ptr, { max: L.inputLabel, plainOnly: true, required: true });
      checkTextField(ctx, value, 'hint', ptr, { max: L.inputHint, plainOnly: true });
      if (value.element === undefined) report(ctx, ptr, 'missing required field: element');
      else checkElement(ctx, value.element, `${ptr}/element`, actionIds, INPUT_TYPES);
      break;
    case 'image':
      checkImage(ctx, value, ptr);
      checkTextField(ctx, value, 'title', ptr, { max: L.imageTitle, plainOnly: true });
      break;
    case 'markdown':
      checkString(ctx, value, 'text', ptr, { max: L.markdownBlockText, min: 1, required: true });
      break;
    default:
      break;
  }
}

/** Slack's checks of a `blocks` array; error strings carry a json-pointer like Slack's. */
export function validateBlocks(blocks: unknown, surface: Surface, pointer = '/blocks'): string[] {
  const ctx: CheckCtx = { errors: [], blockIds: new Set() };
  if (!Array.isArray(blocks)) {
    report(ctx, pointer, 'must provide an array');
    return ctx.errors;
  }
  const max = surface === 'message' ? L.messageBlocks : L.viewBlocks;
  if (blocks.length > max) report(ctx, pointer, `no more than ${max} items allowed`);
  blocks.forEach((b, i) => {
    checkBlock(ctx, b, `${pointer}/${i}`);
  });
  return ctx.errors;
}

/** Slack's checks of a view object for `views.*`. */
export function validateView(view: unknown, expected: 'modal' | 'home' | 'any'): string[] {
  const ctx: CheckCtx = { errors: [], blockIds: new Set() };
  const ptr = '/view';
  if (!isJsonObject(view)) {
    report(ctx, ptr, 'must provide an object');
    return ctx.errors;
  }
  const type = view.type;
  if (type !== 'modal' && type !== 'home') {
    report(ctx, `${ptr}/type`, 'must be one of [modal, home]');
    return ctx.errors;
  }
  if (expected !== 'any' && type !== expected) {
    report(ctx, `${ptr}/type`, `must be ${expected}`);
  }
  if (type === 'modal') {
    checkTextField(ctx, view, 'title', ptr, { max: L.modalTitle, plainOnly: true, required: true });
    checkTextField(ctx, view, 'submit', ptr, { max: L.modalSubmit, plainOnly: true });
    checkTextField(ctx, view, 'close', ptr, { max: L.modalClose, plainOnly: true });
  }
  checkString(ctx, view, 'private_metadata', ptr, { max: L.privateMetadata });
  checkString(ctx, view, 'callback_id', ptr, { max: L.callbackId });
  checkString(ctx, view, 'external_id', ptr, { max: L.externalId });
  if (view.blocks === undefined) {
    report(ctx, ptr, 'missing required field: blocks');
  } else {
    ctx.errors.push(...validateBlocks(view.blocks, type, `${ptr}/blocks`));
    const hasInput =
      Array.isArray(view.blocks) && view.blocks.some((b) => isJsonObject(b) && b.type === 'input');
    if (type === 'modal' && hasInput && view.submit === undefined) {
      report(ctx, ptr, 'must provide a submit property when using input blocks');
    }
  }
  if (JSON.stringify(view).length > L.viewBytes) report(ctx, ptr, 'view_too_large');
  return ctx.errors;
}

/** A deep copy with the ids Slack generates: `block_id` on every block, `action_id` on interactive elements. */
function withGeneratedIds(blocks: unknown[]): JsonObject[] {
  const copy = cloneJson(blocks).filter(isJsonObject);
  for (const block of copy) {
    if (block.block_id === undefined) block.block_id = randomAlnum(5);
    for (const element of elementsOf(block)) {
      const interactive =
        typeof element.type === 'string' &&
        element.type !== 'image' &&
        (ACTIONS_TYPES.has(element.type) ||
          ACCESSORY_TYPES.has(element.type) ||
          INPUT_TYPES.has(element.type));
      if (interactive && element.action_id === undefined && block.type !== 'context') {
        element.action_id = randomAlnum(5);
      }
    }
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------------------
// The fake
// ---------------------------------------------------------------------------------------------------------

interface Trigger {
  issuedAt: number;
  userId: string | undefined;
  used: boolean;
}

interface StoredView {
  view: FakeView;
  userId: string | undefined;
}

interface ResponseUrlState {
  opts: IssueResponseUrlOptions;
  uses: number;
}

interface Failure {
  error: string;
  remaining: number;
  status: number;
  retryAfterSec: number;
}

interface Waiter {
  method: string;
  predicate: (call: RecordedCall) => boolean;
  resolve: (call: RecordedCall) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface HandlerResult {
  status?: number;
  headers?: Record<string, string>;
  body: ApiResponse;
}

type Handler = (args: JsonObject) => ApiResponse;

interface SocketConnection {
  ws: WebSocket;
  pingTimer: NodeJS.Timeout | undefined;
}

interface PendingAck {
  envelope: SocketModeEnvelope;
  resolve: (ack: SocketModeAck) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Scope each method needs (checked only when `scopes` is configured). */
const METHOD_SCOPES: Record<string, string | undefined> = {
  'auth.test': undefined,
  'users.info': 'users:read',
  'users.lookupByEmail': 'users:read.email',
  'conversations.open': 'im:write',
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.delete': 'chat:write',
  'views.open': undefined,
  'views.update': undefined,
  'views.push': undefined,
  'views.publish': undefined,
  'usergroups.list': 'usergroups:read',
  'usergroups.users.list': 'usergroups:read',
  'usergroups.users.update': 'usergroups:write',
  'usergroups.disable': 'usergroups:write',
  'usergroups.enable': 'usergroups:write',
  'files.getUploadURLExternal': 'files:write',
  'files.completeUploadExternal': 'files:write',
};

export class FakeSlack {
  readonly botToken: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly botName: string;
  readonly appId: string;
  /** The app-level token for Socket Mode (`apps.connections.open`). */
  readonly appToken: string;
  /** Every acknowledgement received over Socket Mode, oldest first (also late and unknown ones). */
  readonly socketAcks: SocketModeAck[] = [];
  readonly team: { id: string; name: string; domain: string };
  /** Every call to the Web API and to response URLs (method `response_url`), oldest first. */
  readonly calls: RecordedCall[] = [];
  /** Files uploaded through files.getUploadURLExternal, the upload URL and files.completeUploadExternal. */
  readonly files = new FakeSlackFiles();

  private readonly server: Server;
  private baseUrl = '';
  private readonly now: () => Date;
  private readonly triggerTtlMs: number;
  private readonly scopes: string[] | undefined;
  private readonly users = new Map<string, FakeSlackUser>();
  private readonly channels = new Map<string, FakeSlackChannel>();
  private readonly initialUsergroups: FakeSlackUsergroup[];
  private usergroups = new Map<string, FakeSlackUsergroup & { dateUpdate: number; dateDelete: number }>();
  private messages = new Map<string, FakeMessage[]>();
  private ephemerals: FakeEphemeral[] = [];
  private views = new Map<string, StoredView>();
  private homeViews = new Map<string, string>();
  private triggers = new Map<string, Trigger>();
  private responseUrls = new Map<string, ResponseUrlState>();
  private openedIms = new Set<string>();
  private failures = new Map<string, Failure[]>();
  private latency = new Map<string, number>();
  private outage: {
    error: string;
    status: number;
    retryAfterSec: number;
    methods?: string[];
    hangMs?: number;
  } | null = null;
  private waiters = new Set<Waiter>();
  private readonly callListeners = new Set<(call: RecordedCall) => void>();
  private rateLimiter: SlackRateLimiter | null = null;
  private readonly recordCalls: boolean;
  /** `seq` of the calls not kept (recordCalls: false). */
  private unrecordedSeq = 0;
  private lastTsMicros = 0;
  private viewCounter = 0;
  private triggerCounter = 0;
  private readonly handlers: Record<string, Handler>;
  private readonly socketServer = new WebSocketServer({ noServer: true });
  private readonly socketPingIntervalMs: number;
  private socketTickets = new Map<string, { used: boolean }>();
  private sockets: SocketConnection[] = [];
  private pendingAcks = new Map<string, PendingAck>();
  private socketWaiters = new Set<() => void>();

  constructor(opts: FakeSlackOptions = {}) {
    this.botToken = opts.botToken ?? 'xoxb-fake-bot-token';
    this.botUserId = opts.botUserId ?? 'UBOTJITACCESS';
    this.botId = opts.botId ?? 'BJITACCESS';
    this.botName = opts.botName ?? 'jit-access';
    this.appId = opts.appId ?? 'AJITACCESS';
    this.team = {
      id: opts.team?.id ?? 'T0FAKETEAM',
      name: opts.team?.name ?? 'Fake Team',
      domain: opts.team?.domain ?? 'fake-team',
    };
    this.now = opts.now ?? (() => new Date());
    this.triggerTtlMs = opts.triggerTtlMs ?? 3000;
    this.appToken = opts.appToken ?? 'xapp-1-AJITACCESS-1234567890-fakeapplevel0token';
    this.socketPingIntervalMs = opts.socketPingIntervalMs ?? 10_000;
    this.scopes = opts.scopes;
    this.recordCalls = opts.recordCalls ?? true;
    this.setRateLimits(opts.rateLimits ?? false);
    for (const user of opts.users ?? []) this.addUser(user);
    if (!this.users.has(this.botUserId)) {
      this.users.set(this.botUserId, {
        id: this.botUserId,
        name: this.botName,
        realName: 'JIT Access',
        email: '',
        tz: 'America/Los_Angeles',
        isBot: true,
      });
    }
    for (const channel of opts.channels ?? []) this.channels.set(channel.id, channel);
    this.initialUsergroups = structuredClone(opts.usergroups ?? []);
    this.restoreUsergroups();
    this.handlers = this.buildHandlers();
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake slack crashed: ${String(error)}`);
      });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(req, socket, head),
    );
  }

  /** Base URL for `slackApiUrl` / `SLACK_API_URL`, with the trailing slash: `http://127.0.0.1:<port>/api/`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`fake Slack closed while waiting for ${waiter.method}`));
    }
    this.waiters.clear();
    await this.closeSockets();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ----- directory -------------------------------------------------------------------------------------

  addUser(user: FakeSlackUser): void {
    try {
      tzInfo(user.tz, new Date());
    } catch {
      throw new Error(`fake Slack: user ${user.id} has an unknown time zone ${JSON.stringify(user.tz)}`);
    }
    this.users.set(user.id, { ...user });
  }

  addChannel(channel: FakeSlackChannel): void {
    this.channels.set(channel.id, channel);
  }

  /** The DM channel id `conversations.open` returns for this user (stable). */
  dmChannelFor(userId: string): string {
    return `D${userId}`;
  }

  /** Current members of a user group, as the fake holds them. */
  usergroupMembers(usergroupId: string): string[] | undefined {
    const group = this.usergroups.get(usergroupId);
    return group ? [...group.users] : undefined;
  }

  // ----- recorded traffic ------------------------------------------------------------------------------

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** `calls.length` now; pass to `waitFor` predicates as `c.seq >= mark` to ignore earlier calls. */
  checkpoint(): number {
    return this.calls.length;
  }

  /**
   * The first call to `method` (already recorded or yet to come) that satisfies `predicate`. It searches
   * the history first, so earlier calls match too: filter with `c.seq >= fake.checkpoint()` taken before
   * the action, or `reset()` between scenarios.
   */
  waitFor(
    method: string,
    predicate: (call: RecordedCall) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<RecordedCall> {
    const existing = this.calls.find((c) => c.method === method && predicate(c));
    if (existing) return Promise.resolve(existing);
    return new Promise<RecordedCall>((resolve, reject) => {
      const waiter: Waiter = {
        method,
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const seen = this.callsTo(method).map((c) => (c.response.ok ? 'ok' : c.response.error));
          reject(
            new Error(
              `fake Slack: no matching ${method} call within ${timeoutMs} ms ` +
                `(${seen.length} call(s) to it: ${seen.join(', ') || 'none'}; ` +
                `all methods called: ${[...new Set(this.calls.map((c) => c.method))].join(', ') || 'none'})`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Forget recorded calls only. */
  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Back to a fresh fake: no calls, messages, views, triggers, response URLs, failures or latency; groups as configured. */
  reset(): void {
    this.clearCalls();
    this.messages = new Map();
    this.ephemerals = [];
    this.views = new Map();
    this.homeViews = new Map();
    this.triggers = new Map();
    this.responseUrls = new Map();
    this.openedIms = new Set();
    this.failures = new Map();
    this.outage = null;
    this.latency = new Map();
    this.files.reset();
    this.restoreUsergroups();
  }

  // ----- fault and latency injection -------------------------------------------------------------------

  /**
   * The next `times` calls to `method` answer `{ ok: false, error }`. `ratelimited` answers HTTP 429 with
   * `Retry-After` (as Slack does); pass `status` for other HTTP failures (e.g. 500, 503).
   */
  failNext(
    method: string,
    error: string,
    times = 1,
    opts: { status?: number; retryAfterSec?: number } = {},
  ): void {
    const list = this.failures.get(method) ?? [];
    list.push({
      error,
      remaining: times,
      status: opts.status ?? (error === 'ratelimited' ? 429 : 200),
      retryAfterSec: opts.retryAfterSec ?? 1,
    });
    this.failures.set(method, list);
  }

  /**
   * An outage until `setOutage(null)`: every Web API call (or those of `methods`) answers like
   * `failNext` does (`{ ok: false, error }`, with HTTP `status`; 429 with `Retry-After`).
   */
  setOutage(
    outage: {
      error: string;
      status?: number;
      retryAfterSec?: number;
      methods?: string[];
      /** Hold each affected call this long before answering (without doing it): a client timeout. */
      hangMs?: number;
    } | null,
  ): void {
    this.outage = outage && {
      error: outage.error,
      status: outage.status ?? (outage.error === 'ratelimited' ? 429 : 200),
      retryAfterSec: outage.retryAfterSec ?? 1,
      ...(outage.methods ? { methods: outage.methods } : {}),
      ...(outage.hangMs ? { hangMs: outage.hangMs } : {}),
    };
  }

  /** Turns Slack's published rate limits on (from a fresh count) or off. */
  setRateLimits(on: boolean): void {
    this.rateLimiter = on ? new SlackRateLimiter(() => this.now().getTime()) : null;
  }

  /** Calls `listener` with every call as it is recorded (until the returned function is called). */
  onCall(listener: (call: RecordedCall) => void): () => void {
    this.callListeners.add(listener);
    return () => this.callListeners.delete(listener);
  }

  /** Delay answers to `method` (or to every method with `'*'`) by `ms`. */
  setLatency(ms: number, method = '*'): void {
    this.latency.set(method, ms);
  }

  // ----- interactivity plumbing ------------------------------------------------------------------------

  /** A trigger id as Slack puts in interaction payloads: valid once, for `triggerTtlMs` (3 s). */
  issueTriggerId(userId?: string): string {
    this.triggerCounter += 1;
    const id = `${1_000_000 + this.triggerCounter}.${randomIntIn(1_000_000_000, 9_999_999_999)}.${randomHex(16)}`;
    this.triggers.set(id, { issuedAt: this.now().getTime(), userId, used: false });
    return id;
  }

  /** A response URL served by the fake; Bolt's `respond()` posts JSON to it (recorded as method `response_url`). */
  issueResponseUrl(opts: IssueResponseUrlOptions = {}): string {
    const id = `${this.team.id}/${randomIntIn(1_000_000_000, 9_999_999_999)}/${randomHex(12)}`;
    this.responseUrls.set(id, { opts, uses: 0 });
    return `${this.baseUrl}/hooks/${id}`;
  }

  // ----- state inspection ------------------------------------------------------------------------------

  /** Messages in a channel, oldest first, with edits applied and deleted ones gone (copies). */
  messagesIn(channel: string): FakeMessage[] {
    return cloneJson(this.messages.get(channel) ?? []);
  }

  /** All messages in all channels, in post order. */
  allMessages(): FakeMessage[] {
    return [...this.messages.values()]
      .flat()
      .sort((a, b) => Number(a.ts) - Number(b.ts))
      .map((m) => cloneJson(m));
  }

  /** The newest message in the bot's DM with `userId`. */
  lastMessageTo(userId: string): FakeMessage | undefined {
    return this.messagesIn(this.dmChannelFor(userId)).at(-1);
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    const found = this.messages.get(channel)?.find((m) => m.ts === ts);
    return found ? cloneJson(found) : undefined;
  }

  /** Ephemeral messages shown to `userId` (from chat.postEphemeral and response URLs). */
  ephemeralsTo(userId: string): FakeEphemeral[] {
    return cloneJson(this.ephemerals.filter((e) => e.user === userId));
  }

  view(viewId: string): FakeView | undefined {
    const stored = this.views.get(viewId);
    return stored ? cloneJson(stored.view) : undefined;
  }

  /** Views opened/pushed for `userId` (known when the trigger was issued for that user), oldest first. */
  viewsOf(userId: string): FakeView[] {
    return [...this.views.values()].filter((v) => v.userId === userId).map((v) => cloneJson(v.view));
  }

  homeViewOf(userId: string): FakeView | undefined {
    const id = this.homeViews.get(userId);
    return id ? this.view(id) : undefined;
  }

  // ----- Socket Mode -----------------------------------------------------------------------------------
  //
  // As Slack does it: `apps.connections.open` (app-level token) answers a single-use `wss` URL (here `ws`);
  // on connect the server sends `hello`; it pings the connection now and then (the client must pong, and
  // may ping too); each event is an envelope the app must acknowledge with `{ envelope_id, payload }`
  // within 3 s; before recycling a connection it sends `{ type: 'disconnect', reason }`.

  /** Open Socket Mode connections. */
  get socketConnectionCount(): number {
    return this.sockets.length;
  }

  /** Resolves once at least one Socket Mode connection is open (and `hello` was sent on it). */
  waitForSocketConnection(timeoutMs = 5000): Promise<void> {
    if (this.sockets.length > 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.socketWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.socketWaiters.delete(done);
        reject(new Error(`fake Slack: no Socket Mode connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.socketWaiters.add(done);
    });
  }

  /**
   * Sends an envelope on the newest Socket Mode connection and resolves with the app's acknowledgement.
   * Rejects when no connection is open, or when no ack arrives within `timeoutMs` (Slack's 3 s).
   * `accepts_response_payload` defaults as Slack sets it: true for slash commands, view submissions
   * and options requests, false otherwise.
   */
  pushEnvelope(input: SocketModeEnvelopeInput, opts: { timeoutMs?: number } = {}): Promise<SocketModeAck> {
    const connection = this.sockets.at(-1);
    if (!connection) return Promise.reject(new Error('fake Slack: no Socket Mode connection is open'));
    const { envelope_id, type, payload, accepts_response_payload, ...rest } = input;
    const acceptsByDefault =
      type === 'slash_commands' ||
      (type === 'interactive' && (payload.type === 'view_submission' || payload.type === 'block_suggestion'));
    const envelope: SocketModeEnvelope = {
      envelope_id: envelope_id ?? randomUUID(),
      payload,
      type,
      accepts_response_payload: accepts_response_payload ?? acceptsByDefault,
      ...rest,
    };
    const timeoutMs = opts.timeoutMs ?? 3000;
    return new Promise<SocketModeAck>((resolve, reject) => {
      const pending: PendingAck = {
        envelope,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pendingAcks.delete(envelope.envelope_id);
          reject(
            new Error(
              `fake Slack: envelope ${envelope.envelope_id} (${envelope.type}) was not acknowledged within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs),
      };
      this.pendingAcks.set(envelope.envelope_id, pending);
      connection.ws.send(JSON.stringify(envelope), (error) => {
        if (!error) return;
        clearTimeout(pending.timer);
        this.pendingAcks.delete(envelope.envelope_id);
        reject(error);
      });
    });
  }

  /**
   * Sends `{ type: 'disconnect', reason }` on every connection, as Slack does before recycling one
   * (`warning` first, then `refresh_requested`) or when the app's Socket Mode is turned off (`link_disabled`).
   * The client is expected to close the connection and open a new one.
   */
  sendSocketDisconnect(reason: 'warning' | 'refresh_requested' | 'link_disabled' | (string & {})): void {
    for (const { ws } of this.sockets) {
      ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: this.socketHost() } }));
    }
  }

  /** Drops every connection without a close handshake (a network failure). */
  dropSocketConnections(): void {
    for (const { ws } of [...this.sockets]) ws.terminate();
  }

  private socketHost(): string {
    const port = (this.server.address() as AddressInfo | null)?.port ?? 0;
    return `applink-fake-${port}`;
  }

  /** `apps.connections.open`: needs the app-level token; answers a single-use WebSocket URL. */
  private openSocketConnection(token: string | undefined): HandlerResult {
    if (token === undefined || token === '') return { body: fail('not_authed') };
    if (token === this.botToken) return { body: fail('not_allowed_token_type') };
    if (token !== this.appToken) return { body: fail('invalid_auth') };
    const failure = this.takeFailure('apps.connections.open');
    if (failure) {
      const headers: Record<string, string> =
        failure.status === 429 ? { 'retry-after': String(failure.retryAfterSec) } : {};
      return { status: failure.status, headers, body: fail(failure.error) };
    }
    const ticket = randomUUID();
    this.socketTickets.set(ticket, { used: false });
    const wsBase = this.baseUrl.replace(/^http/, 'ws');
    const appIdHex = Buffer.from(this.appId).toString('hex');
    return { body: { ok: true, url: `${wsBase}/link/?ticket=${ticket}&app_id=${appIdHex}` } };
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = this.socketTickets.get(url.searchParams.get('ticket') ?? '');
    if ((url.pathname !== '/link/' && url.pathname !== '/link') || !ticket || ticket.used) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    ticket.used = true;
    this.socketServer.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
  }

  private onSocket(ws: WebSocket): void {
    const connection: SocketConnection = { ws, pingTimer: undefined };
    this.sockets.push(connection);
    ws.on('error', () => {});
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) this.onSocketMessage(data.toString());
    });
    ws.on('close', () => {
      clearInterval(connection.pingTimer);
      this.sockets = this.sockets.filter((c) => c !== connection);
    });
    if (this.socketPingIntervalMs > 0) {
      connection.pingTimer = setInterval(() => {
        if (ws.readyState === ws.OPEN) ws.ping(Buffer.from(`ping-${Date.now()}`));
      }, this.socketPingIntervalMs);
      connection.pingTimer.unref();
    }
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.length,
        debug_info: {
          host: this.socketHost(),
          build_number: 1,
          approximate_connection_time: 18060,
        },
        connection_info: { app_id: this.appId },
      }),
    );
    for (const waiter of [...this.socketWaiters]) waiter();
  }

  private onSocketMessage(raw: string): void {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return; // Slack ignores frames it can't read
    }
    if (!isJsonObject(message) || typeof message.envelope_id !== 'string') return;
    const ack: SocketModeAck = {
      envelope_id: message.envelope_id,
      ...(isJsonObject(message.payload) ? { payload: message.payload } : {}),
      at: this.now(),
      raw,
    };
    this.socketAcks.push(ack);
    const pending = this.pendingAcks.get(ack.envelope_id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pendingAcks.delete(ack.envelope_id);
    pending.resolve(ack);
  }

  /** Closes every connection with a close handshake (finishing one the client started), then stops. */
  private async closeSockets(): Promise<void> {
    for (const pending of this.pendingAcks.values()) {
      clearTimeout(pending.timer);
      pending.reject(
        new Error(`fake Slack closed while waiting for the ack of ${pending.envelope.envelope_id}`),
      );
    }
    this.pendingAcks.clear();
    await Promise.all(
      this.sockets.map(
        ({ ws, pingTimer }) =>
          new Promise<void>((resolve) => {
            clearInterval(pingTimer);
            if (ws.readyState === ws.CLOSED) {
              resolve();
              return;
            }
            const timer = setTimeout(() => ws.terminate(), 1000);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            if (ws.readyState === ws.OPEN) ws.close(1001, 'going away');
          }),
      ),
    );
    this.sockets = [];
    this.socketServer.close();
  }

  // ----- HTTP ------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/upload/v1/')) {
      await this.files.receive(url.pathname.slice('/upload/v1/'.length), req, res);
      return;
    }
    const raw = await readBody(req);
    if (url.pathname.startsWith('/hooks/')) {
      await this.handleResponseUrl(url.pathname.slice('/hooks/'.length), raw, req, res);
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      send(res, 404, { ok: false, error: 'not_found' });
      return;
    }
    const method = decodeURIComponent(url.pathname.slice('/api/'.length));
    const parsed = parseArgs(url, raw, req.headers['content-type']);
    const token =
      bearer(req.headers.authorization) ??
      (parsed.tokenAllowedInBody ? strArg(parsed.args, 'token') : undefined);
    const { token: _ignored, ...args } = parsed.args;

    const outage = this.outage;
    if (outage?.hangMs && (!outage.methods || outage.methods.includes(method))) {
      await new Promise((r) => setTimeout(r, outage.hangMs));
    }
    let result: HandlerResult;
    if (parsed.error) result = { body: fail(parsed.error) };
    else result = this.dispatch(method, args, token);

    const delay = this.latency.get(method) ?? this.latency.get('*') ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const status = result.status ?? 200;
    this.record({ method, args, token, status, response: result.body });
    send(res, status, result.body, result.headers);
  }

  private dispatch(method: string, args: JsonObject, token: string | undefined): HandlerResult {
    if (method === 'apps.connections.open') return this.openSocketConnection(token);
    const handler = this.handlers[method];
    if (!handler) return { body: fail('unknown_method', { req_method: method }) };
    if (token === undefined || token === '') return { body: fail('not_authed') };
    // An app-level token only works for apps.connections.* (and a few others the app doesn't use).
    if (token === this.appToken) return { body: fail('not_allowed_token_type') };
    if (token !== this.botToken) return { body: fail('invalid_auth') };
    const failure =
      this.outage && (!this.outage.methods || this.outage.methods.includes(method))
        ? this.outage
        : this.takeFailure(method);
    if (failure) {
      const headers: Record<string, string> =
        failure.status === 429 ? { 'retry-after': String(failure.retryAfterSec) } : {};
      return { status: failure.status, headers, body: fail(failure.error) };
    }
    const retryAfterSec = this.rateLimiter?.take(method, strArg(args, 'channel'));
    if (retryAfterSec) {
      return { status: 429, headers: { 'retry-after': String(retryAfterSec) }, body: fail('ratelimited') };
    }
    const needed = METHOD_SCOPES[method];
    if (this.scopes && needed && !this.scopes.includes(needed)) {
      return { body: fail('missing_scope', { needed, provided: this.scopes.join(',') }) };
    }
    return { body: handler(args) };
  }

  private takeFailure(method: string): Failure | undefined {
    const list = this.failures.get(method);
    const first = list?.[0];
    if (!list || !first) return undefined;
    first.remaining -= 1;
    if (first.remaining <= 0) list.shift();
    return first;
  }

  private record(entry: Omit<RecordedCall, 'seq' | 'at'>): void {
    const seq = this.recordCalls ? this.calls.length : this.unrecordedSeq++;
    const call: RecordedCall = { seq, at: this.now(), ...entry };
    if (this.recordCalls) this.calls.push(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.method === call.method && waiter.predicate(call)) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(call);
      }
    }
    for (const listener of this.callListeners) listener(call);
  }

  // ----- helpers over state ----------------------------------------------------------------------------

  private restoreUsergroups(): void {
    const nowSec = Math.floor(this.now().getTime() / 1000);
    this.usergroups = new Map(
      structuredClone(this.initialUsergroups).map((g) => [
        g.id,
        { ...g, dateUpdate: nowSec, dateDelete: g.disabled ? nowSec : 0 },
      ]),
    );
  }

  private nextTs(): string {
    let micros = this.now().getTime() * 1000;
    if (micros <= this.lastTsMicros) micros = this.lastTsMicros + 100;
    this.lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  private nextViewId(): string {
    this.viewCounter += 1;
    return `V${this.viewCounter.toString(36).toUpperCase().padStart(10, '0')}`;
  }

  private newHash(): string {
    return `${Math.floor(this.now().getTime() / 1000)}.${randomHex(4)}`;
  }

  private activeUser(userId: string): FakeSlackUser | undefined {
    const user = this.users.get(userId);
    return user && !user.deleted ? user : undefined;
  }

  /** Where a message to `channel` goes, or the Slack error for it. */
  private resolveChannel(
    channel: string | undefined,
    allowUserId: boolean,
  ): { id: string } | { error: string } {
    if (!channel) return { error: 'channel_not_found' };
    if (this.channels.has(channel)) return { id: channel };
    const byName = [...this.channels.values()].find((c) => c.name === channel.replace(/^#/, ''));
    if (byName) return { id: byName.id };
    if (this.messages.has(channel) && channel.startsWith('G')) return { id: channel };
    const userId = channel.startsWith('D') ? channel.slice(1) : allowUserId ? channel : undefined;
    const user = userId !== undefined ? this.users.get(userId) : undefined;
    if (!user || userId === undefined) return { error: 'channel_not_found' };
    if (user.isBot) return { error: 'cannot_dm_bot' };
    if (user.deleted) return { error: 'is_archived' };
    return { id: this.dmChannelFor(userId) };
  }

  private checkMessageContent(args: JsonObject): ApiResponse | undefined {
    const text = strArg(args, 'text');
    if (args.blocks !== undefined) {
      if (!Array.isArray(args.blocks)) return fail('invalid_blocks_format');
      const errors = validateBlocks(args.blocks, 'message');
      if (errors.length > 0) {
        return fail('invalid_blocks', {
          errors,
          response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
        });
      }
    }
    if (args.attachments !== undefined && !Array.isArray(args.attachments))
      return fail('invalid_attachments');
    if (text !== undefined && text.length > L.messageText) return fail('msg_too_long');
    return undefined;
  }

  private userObject(user: FakeSlackUser): JsonObject {
    const { offsetSec, label } = tzInfo(user.tz, this.now());
    const showEmail = !user.isBot && (!this.scopes || this.scopes.includes('users:read.email'));
    const displayName = user.displayName ?? '';
    return {
      id: user.id,
      team_id: this.team.id,
      name: user.name,
      deleted: user.deleted ?? false,
      color: '9f69e7',
      real_name: user.realName,
      tz: user.tz,
      tz_label: label,
      tz_offset: offsetSec,
      profile: {
        real_name: user.realName,
        real_name_normalized: user.realName,
        display_name: displayName,
        display_name_normalized: displayName,
        ...(showEmail ? { email: user.email } : {}),
        team: this.team.id,
        ...(user.isBot ? { bot_id: this.botId, api_app_id: this.appId, always_active: true } : {}),
      },
      is_admin: false,
      is_owner: false,
      is_primary_owner: false,
      is_restricted: false,
      is_ultra_restricted: false,
      is_bot: user.isBot ?? false,
      is_app_user: false,
      updated: Math.floor(this.now().getTime() / 1000),
      is_email_confirmed: user.emailConfirmed ?? !user.isBot,
    };
  }

  private usergroupObject(id: string, includeUsers: boolean): JsonObject {
    const g = this.usergroups.get(id);
    if (!g) throw new Error(`no usergroup ${id}`);
    return {
      id: g.id,
      team_id: this.team.id,
      is_usergroup: true,
      name: g.name ?? g.handle,
      description: g.description ?? '',
      handle: g.handle,
      is_external: false,
      date_create: g.dateUpdate,
      date_update: g.dateUpdate,
      date_delete: g.dateDelete,
      auto_type: null,
      created_by: this.botUserId,
      updated_by: this.botUserId,
      deleted_by: g.dateDelete ? this.botUserId : null,
      prefs: { channels: [], groups: [] },
      ...(includeUsers ? { users: [...g.users] } : {}),
      user_count: g.users.length,
    };
  }

  private exchangeTrigger(args: JsonObject): { trigger: Trigger } | { error: ApiResponse } {
    const id = strArg(args, 'trigger_id') ?? strArg(args, 'interactivity_pointer');
    if (!id) return { error: invalidArguments('missing required field: trigger_id') };
    const trigger = this.triggers.get(id);
    if (!trigger) return { error: fail('invalid_trigger_id') };
    if (trigger.used) return { error: fail('exchanged_trigger_id') };
    if (this.now().getTime() - trigger.issuedAt > this.triggerTtlMs)
      return { error: fail('expired_trigger_id') };
    trigger.used = true;
    return { trigger };
  }

  private parseViewArg(
    args: JsonObject,
    expected: 'modal' | 'home' | 'any',
  ): { view: JsonObject } | { error: ApiResponse } {
    if (args.view === undefined) return { error: invalidArguments('missing required field: view') };
    if (!isJsonObject(args.view))
      return { error: invalidArguments('invalid view: must be a JSON object [json-pointer:/view]') };
    const errors = validateView(args.view, expected);
    if (errors.some((e) => e.startsWith('view_too_large'))) return { error: fail('view_too_large') };
    if (errors.length > 0) return { error: invalidArguments(...errors) };
    return { view: args.view };
  }

  private storeView(
    input: JsonObject,
    userId: string | undefined,
    existing: FakeView | undefined,
    rootViewId: string | null,
    previousViewId: string | null,
  ): FakeView {
    const id = existing?.id ?? this.nextViewId();
    const view: FakeView = {
      ...input,
      id,
      team_id: this.team.id,
      type: input.type === 'home' ? 'home' : 'modal',
      blocks: withGeneratedIds(Array.isArray(input.blocks) ? input.blocks : []),
      private_metadata: typeof input.private_metadata === 'string' ? input.private_metadata : '',
      callback_id: typeof input.callback_id === 'string' ? input.callback_id : '',
      external_id: typeof input.external_id === 'string' ? input.external_id : '',
      state: { values: {} },
      hash: this.newHash(),
      clear_on_close: input.clear_on_close === true,
      notify_on_close: input.notify_on_close === true,
      root_view_id: existing?.root_view_id ?? rootViewId ?? id,
      previous_view_id: existing?.previous_view_id ?? previousViewId,
      app_id: this.appId,
      app_installed_team_id: this.team.id,
      bot_id: this.botId,
    };
    if (view.type === 'home') {
      view.root_view_id = null;
    }
    this.views.set(id, { view, userId });
    return cloneJson(view);
  }

  private findViewByExternalId(externalId: string): StoredView | undefined {
    return [...this.views.values()].find((v) => v.view.external_id === externalId && externalId !== '');
  }

  private postMessageTo(channel: string, fields: Partial<FakeMessage>): FakeMessage {
    const message: FakeMessage = {
      channel,
      type: 'message',
      ts: this.nextTs(),
      text: '',
      user: this.botUserId,
      bot_id: this.botId,
      app_id: this.appId,
      team: this.team.id,
      ...fields,
    };
    const list = this.messages.get(channel) ?? [];
    list.push(message);
    this.messages.set(channel, list);
    return message;
  }

  private messageFields(args: JsonObject, previous?: FakeMessage): Partial<FakeMessage> {
    const fields: Partial<FakeMessage> = {};
    const text = strArg(args, 'text');
    fields.text = text ?? previous?.text ?? '';
    if (Array.isArray(args.blocks)) fields.blocks = withGeneratedIds(args.blocks);
    else if (previous?.blocks) fields.blocks = previous.blocks;
    if (Array.isArray(args.attachments)) fields.attachments = args.attachments.filter(isJsonObject);
    else if (previous?.attachments) fields.attachments = previous.attachments;
    if (isJsonObject(args.metadata)) fields.metadata = args.metadata;
    else if (previous?.metadata) fields.metadata = previous.metadata;
    return fields;
  }

  private publicMessage(message: FakeMessage): JsonObject {
    const { channel: _channel, ...rest } = message;
    return cloneJson(rest);
  }

  // ----- response URLs ---------------------------------------------------------------------------------

  private async handleResponseUrl(
    id: string,
    raw: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    let body: JsonObject = {};
    try {
      const parsed: unknown = raw ? JSON.parse(raw) : {};
      if (isJsonObject(parsed)) body = parsed;
    } catch {
      // Slack answers invalid JSON with invalid_payload.
    }
    const state = this.responseUrls.get(id);
    const out = ((): { status: number; body: ApiResponse } => {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json') || raw === '') {
        return { status: 400, body: fail('invalid_payload') };
      }
      if (!state) return { status: 404, body: fail('expired_url') };
      if (state.uses >= L.responseUrlUses) return { status: 404, body: fail('used_url') };
      const problem = this.checkMessageContent(body);
      if (problem) return { status: 400, body: problem };
      state.uses += 1;
      this.applyResponse(state.opts, body);
      return { status: 200, body: { ok: true } };
    })();
    this.record({
      method: 'response_url',
      args: { ...body, response_url: id },
      token: undefined,
      status: out.status,
      response: out.body,
    });
    send(res, out.status, out.body);
  }

  private applyResponse(opts: IssueResponseUrlOptions, body: JsonObject): void {
    const channel = opts.channelId;
    const original =
      channel && opts.messageTs
        ? this.messages.get(channel)?.find((m) => m.ts === opts.messageTs)
        : undefined;
    if (boolArg(body, 'delete_original')) {
      if (channel && original) {
        this.messages.set(
          channel,
          (this.messages.get(channel) ?? []).filter((m) => m !== original),
        );
      }
      return;
    }
    if (boolArg(body, 'replace_original') && original) {
      Object.assign(original, this.messageFields(body), {
        edited: { user: this.botUserId, ts: this.nextTs() },
      });
      return;
    }
    if (!channel) return;
    if (body.response_type === 'in_channel') {
      this.postMessageTo(channel, this.messageFields(body));
      return;
    }
    const fields = this.messageFields(body);
    this.ephemerals.push({
      channel,
      user: opts.userId ?? '',
      message_ts: this.nextTs(),
      text: fields.text ?? '',
      ...(fields.blocks ? { blocks: fields.blocks } : {}),
      via: 'response_url',
    });
  }

  // ----- Web API methods -------------------------------------------------------------------------------

  private buildHandlers(): Record<string, Handler> {
    return {
      'auth.test': () => ({
        ok: true,
        url: `https://${this.team.domain}.slack.com/`,
        team: this.team.name,
        user: this.botName,
        team_id: this.team.id,
        user_id: this.botUserId,
        bot_id: this.botId,
        is_enterprise_install: false,
      }),

      'files.getUploadURLExternal': (args) => this.files.getUploadURLExternal(args, this.baseUrl),

      'files.completeUploadExternal': (args) =>
        this.files.completeUploadExternal(args, (channel, text, files) => {
          const resolved = this.resolveChannel(channel, false);
          if ('error' in resolved) return resolved;
          const message = this.postMessageTo(resolved.id, { text, files });
          return { id: message.ts };
        }),

      'users.info': (args) => {
        const id = strArg(args, 'user');
        if (!id) return invalidArguments('missing required field: user');
        const user = this.users.get(id);
        return user ? { ok: true, user: this.userObject(user) } : fail('user_not_found');
      },

      'users.lookupByEmail': (args) => {
        const email = strArg(args, 'email');
        if (!email) return invalidArguments('missing required field: email');
        const wanted = email.toLowerCase();
        // Slack does not return deactivated users here (users_not_found), nor bots.
        const user = [...this.users.values()].find(
          (u) => !u.deleted && !u.isBot && u.email.toLowerCase() === wanted,
        );
        return user ? { ok: true, user: this.userObject(user) } : fail('users_not_found');
      },

      'conversations.open': (args) => {
        const channelArg = strArg(args, 'channel');
        const usersArg = strArg(args, 'users');
        if (!channelArg && !usersArg) return fail('users_list_not_supplied');
        if (channelArg) {
          const resolved = this.resolveChannel(channelArg, false);
          return 'error' in resolved ? fail(resolved.error) : { ok: true, channel: { id: resolved.id } };
        }
        const ids = (usersArg ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (ids.length === 0) return fail('users_list_not_supplied');
        if (ids.length > 8) return fail('too_many_users');
        for (const id of ids) {
          const user = this.users.get(id);
          if (!user) return fail('user_not_found');
          if (user.deleted) return fail('user_disabled');
          if (user.isBot && ids.length === 1) return fail('cannot_dm_bot');
        }
        if (ids.length > 1) {
          const id = `G${[...ids].sort().join('').slice(0, 20)}`;
          if (!this.messages.has(id)) this.messages.set(id, []);
          return { ok: true, channel: { id } };
        }
        const userId = ids[0] ?? '';
        const id = this.dmChannelFor(userId);
        const alreadyOpen = this.openedIms.has(id);
        this.openedIms.add(id);
        const channel = boolArg(args, 'return_im')
          ? {
              id,
              created: Math.floor(this.now().getTime() / 1000),
              is_im: true,
              is_org_shared: false,
              user: userId,
              is_user_deleted: false,
              priority: 0,
            }
          : { id };
        return alreadyOpen ? { ok: true, no_op: true, already_open: true, channel } : { ok: true, channel };
      },

      'chat.postMessage': (args) => {
        const resolved = this.resolveChannel(strArg(args, 'channel'), true);
        if ('error' in resolved) return fail(resolved.error);
        const problem = this.checkMessageContent(args);
        if (problem) return problem;
        if (!strArg(args, 'text') && !Array.isArray(args.blocks) && !Array.isArray(args.attachments)) {
          return fail('no_text');
        }
        const fields = this.messageFields(args);
        const threadTs = strArg(args, 'thread_ts');
        if (threadTs) fields.thread_ts = threadTs;
        const message = this.postMessageTo(resolved.id, fields);
        return { ok: true, channel: resolved.id, ts: message.ts, message: this.publicMessage(message) };
      },

      'chat.update': (args) => {
        const resolved = this.resolveChannel(strArg(args, 'channel'), false);
        if ('error' in resolved) return fail(resolved.error);
        const ts = strArg(args, 'ts');
        if (!ts) return invalidArguments('missing required field: ts');
        const message = this.messages.get(resolved.id)?.find((m) => m.ts === ts);
        if (!message) return fail('message_not_found');
        const problem = this.checkMessageContent(args);
        if (problem) return problem;
        if (args.text === undefined && args.blocks === undefined && args.attachments === undefined) {
          return fail('no_text');
        }
        Object.assign(message, this.messageFields(args, message), {
          edited: { user: this.botUserId, ts: this.nextTs() },
        });
        return {
          ok: true,
          channel: resolved.id,
          ts,
          text: message.text,
          message: this.publicMessage(message),
        };
      },

      'chat.delete': (args) => {
        const resolved = this.resolveChannel(strArg(args, 'channel'), false);
        if ('error' in resolved) return fail(resolved.error);
        const ts = strArg(args, 'ts');
        if (!ts) return invalidArguments('missing required field: ts');
        const list = this.messages.get(resolved.id) ?? [];
        if (!list.some((m) => m.ts === ts)) return fail('message_not_found');
        this.messages.set(
          resolved.id,
          list.filter((m) => m.ts !== ts),
        );
        return { ok: true, channel: resolved.id, ts };
      },

      'chat.postEphemeral': (args) => {
        const resolved = this.resolveChannel(strArg(args, 'channel'), false);
        if ('error' in resolved) return fail(resolved.error);
        const userId = strArg(args, 'user');
        if (!userId) return invalidArguments('missing required field: user');
        const user = this.activeUser(userId);
        if (!user) return fail('user_not_in_channel');
        if (resolved.id.startsWith('D') && resolved.id !== this.dmChannelFor(userId)) {
          return fail('user_not_in_channel');
        }
        const problem = this.checkMessageContent(args);
        if (problem) return problem;
        if (!strArg(args, 'text') && !Array.isArray(args.blocks) && !Array.isArray(args.attachments)) {
          return fail('no_text');
        }
        const fields = this.messageFields(args);
        const messageTs = this.nextTs();
        this.ephemerals.push({
          channel: resolved.id,
          user: userId,
          message_ts: messageTs,
          text: fields.text ?? '',
          ...(fields.blocks ? { blocks: fields.blocks } : {}),
          via: 'chat.postEphemeral',
        });
        return { ok: true, message_ts: messageTs };
      },

      'views.open': (args) => {
        const parsed = this.parseViewArg(args, 'modal');
        if ('error' in parsed) return parsed.error;
        const externalId = typeof parsed.view.external_id === 'string' ? parsed.view.external_id : '';
        if (externalId && this.findViewByExternalId(externalId)) return fail('duplicate_external_id');
        const exchanged = this.exchangeTrigger(args);
        if ('error' in exchanged) return exchanged.error;
        return {
          ok: true,
          view: this.storeView(parsed.view, exchanged.trigger.userId, undefined, null, null),
        };
      },

      'views.push': (args) => {
        const parsed = this.parseViewArg(args, 'modal');
        if ('error' in parsed) return parsed.error;
        const exchanged = this.exchangeTrigger(args);
        if ('error' in exchanged) return exchanged.error;
        const userId = exchanged.trigger.userId;
        const previous = userId
          ? [...this.views.values()].filter((v) => v.userId === userId && v.view.type === 'modal').at(-1)
          : undefined;
        return {
          ok: true,
          view: this.storeView(
            parsed.view,
            userId,
            undefined,
            previous?.view.root_view_id ?? null,
            previous?.view.id ?? null,
          ),
        };
      },

      'views.update': (args) => {
        const viewId = strArg(args, 'view_id');
        const externalId = strArg(args, 'external_id');
        if (!viewId && !externalId) return invalidArguments('missing required field: view_id or external_id');
        const stored = viewId ? this.views.get(viewId) : this.findViewByExternalId(externalId ?? '');
        if (!stored) return fail('not_found');
        const parsed = this.parseViewArg(args, 'any');
        if ('error' in parsed) return parsed.error;
        const hash = strArg(args, 'hash');
        if (hash && hash !== stored.view.hash) return fail('hash_conflict');
        return { ok: true, view: this.storeView(parsed.view, stored.userId, stored.view, null, null) };
      },

      'views.publish': (args) => {
        const userId = strArg(args, 'user_id');
        if (!userId) return invalidArguments('missing required field: user_id');
        if (!this.activeUser(userId)) return fail('user_not_found');
        const parsed = this.parseViewArg(args, 'home');
        if ('error' in parsed) return parsed.error;
        const existingId = this.homeViews.get(userId);
        const existing = existingId ? this.views.get(existingId) : undefined;
        const hash = strArg(args, 'hash');
        if (hash && existing && hash !== existing.view.hash) return fail('hash_conflict');
        const view = this.storeView(parsed.view, userId, existing?.view, null, null);
        this.homeViews.set(userId, view.id);
        return { ok: true, view };
      },

      'usergroups.list': (args) => {
        const includeDisabled = boolArg(args, 'include_disabled');
        const includeUsers = boolArg(args, 'include_users');
        const usergroups = [...this.usergroups.values()]
          .filter((g) => includeDisabled || g.dateDelete === 0)
          .map((g) => this.usergroupObject(g.id, includeUsers));
        return { ok: true, usergroups };
      },

      'usergroups.users.list': (args) => {
        const id = strArg(args, 'usergroup');
        if (!id) return invalidArguments('missing required field: usergroup');
        const group = this.usergroups.get(id);
        // A disabled group is invisible unless the caller asks for disabled ones.
        if (!group || (group.dateDelete !== 0 && !boolArg(args, 'include_disabled')))
          return fail('no_such_subteam');
        return { ok: true, users: [...group.users] };
      },

      'usergroups.users.update': (args) => {
        const id = strArg(args, 'usergroup');
        if (!id) return invalidArguments('missing required field: usergroup');
        const group = this.usergroups.get(id);
        if (!group) return fail('no_such_subteam');
        const users = (strArg(args, 'users') ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (users.length === 0) return fail('no_users_provided');
        if (users.some((u) => !this.activeUser(u))) return fail('invalid_users');
        group.users = [...new Set(users)];
        group.dateUpdate = Math.floor(this.now().getTime() / 1000);
        return { ok: true, usergroup: this.usergroupObject(id, true) };
      },

      'usergroups.disable': (args) => {
        const id = strArg(args, 'usergroup');
        if (!id) return invalidArguments('missing required field: usergroup');
        const group = this.usergroups.get(id);
        if (!group) return fail('no_such_subteam');
        if (group.dateDelete !== 0) return fail('already_disabled');
        const nowSec = Math.floor(this.now().getTime() / 1000);
        group.dateDelete = nowSec;
        group.dateUpdate = nowSec;
        return { ok: true, usergroup: this.usergroupObject(id, false) };
      },

      'usergroups.enable': (args) => {
        const id = strArg(args, 'usergroup');
        if (!id) return invalidArguments('missing required field: usergroup');
        const group = this.usergroups.get(id);
        if (!group) return fail('no_such_subteam');
        if (group.dateDelete === 0) return fail('already_enabled');
        group.dateDelete = 0;
        group.dateUpdate = Math.floor(this.now().getTime() / 1000);
        return { ok: true, usergroup: this.usergroupObject(id, false) };
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: JsonObject,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match?.[1]?.trim();
}

/** Arguments as Slack reads them: query string, then a form or JSON body; JSON-string fields decoded. */
function parseArgs(
  url: URL,
  raw: string,
  contentTypeHeader: string | undefined,
): { args: JsonObject; tokenAllowedInBody: boolean; error?: string } {
  const args: JsonObject = {};
  for (const [key, value] of url.searchParams) args[key] = value;
  const contentType = (contentTypeHeader ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let tokenAllowedInBody = true;
  if (raw !== '') {
    if (contentType === 'application/x-www-form-urlencoded' || contentType === 'text/plain') {
      // A repeated field counts once, its first value (URLSearchParams decodes as querystring.parse
      // does, at about half the cost).
      const seen = new Set<string>();
      for (const [key, value] of new URLSearchParams(raw)) {
        if (seen.has(key)) continue;
        seen.add(key);
        args[key] = value;
      }
    } else if (contentType === 'application/json') {
      tokenAllowedInBody = false;
      try {
        const parsed: unknown = JSON.parse(raw);
        if (!isJsonObject(parsed)) return { args, tokenAllowedInBody, error: 'invalid_json' };
        Object.assign(args, parsed);
      } catch {
        return { args, tokenAllowedInBody, error: 'invalid_json' };
      }
    } else if (contentType === '') {
      return { args, tokenAllowedInBody, error: 'missing_post_type' };
    } else {
      return { args, tokenAllowedInBody, error: 'invalid_post_type' };
    }
  }
  for (const key of JSON_FIELDS) {
    const value = args[key];
    if (typeof value === 'string' && value !== '') {
      try {
        args[key] = JSON.parse(value);
      } catch {
        // Left as the string; the method answers with its own "invalid format" error.
      }
    }
  }
  return { args, tokenAllowedInBody };
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  return new FakeSlack(opts).listen();
}
