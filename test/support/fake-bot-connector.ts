/**
 * A local, faithful stand-in for Microsoft's Bot Connector service (what Teams' `serviceUrl` points
 * at), for tests, plus the channel side of the Bot Framework: it sends activities INTO the bot's
 * `/api/messages`, signed as the Bot Framework signs them.
 *
 * The real botbuilder `CloudAdapter` and `TeamsInfo` talk to it over HTTP. It implements the REST
 * calls they make (Bot Framework REST API v3):
 *
 * - `POST /v3/conversations`: create (or find) the 1:1 conversation with a member → 201 `{ id }`
 * - `POST /v3/conversations/{id}/activities` and `…/activities/{replyToId}`: send → 201 `{ id }`
 * - `PUT /v3/conversations/{id}/activities/{activityId}`: update the bot's own message → 200 `{ id }`
 * - `GET /v3/conversations/{id}/members/{userId}`: one member (`TeamsInfo.getMember`) → 200
 *   `TeamsChannelAccount` (id, name, aadObjectId, email, userPrincipalName, tenantId)
 *
 * It keeps what Teams keeps (people, personal conversations, the bot's messages and every version
 * of each), records every call, and answers errors in the service's shape
 * (`{ "error": { "code", "message" } }`): 404 `ConversationNotFound` / `NotFound` /
 * `MemberNotFoundInConversation`, 403 `BotNotInConversationRoster` for a person who removed the app
 * or whose account is gone, 400 `BadSyntax` for a malformed activity, 413 `MessageSizeTooBig` past
 * Teams' ~100 KB message limit, and on demand 429 with `Retry-After`, 5xx, or a call held open.
 *
 * Authentication, when `auth` is given, is checked both ways with keys of its own:
 * - bot → connector: every call must carry `Authorization: Bearer <jwt>` signed by the fake's
 *   "Azure AD" key for audience `https://api.botframework.com` and the bot's app id (`appid`/`azp`);
 *   `botToken()` mints one (what Azure AD would issue to the bot), anything else gets 401.
 * - channel → bot: `send()` signs each activity with the fake's "Bot Framework" key (issuer
 *   `https://api.botframework.com`, audience the app id, `serviceurl` claim, endorsed for `msteams`),
 *   published as OpenID metadata at `openIdMetadataUrl` for the bot to fetch, exactly as
 *   `login.botframework.com` publishes the real ones.
 */
import { generateKeyPairSync, type KeyObject, randomUUID, sign, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type JsonObject = { [key: string]: unknown };

export interface FakeTeamsUser {
  /** The Teams user id (`29:…`), unique per bot. */
  id: string;
  /** The Entra (AAD) object id. */
  aadObjectId: string;
  name: string;
  /** The mail attribute; may be absent (then people are known by their UPN). */
  email?: string;
  userPrincipalName: string;
  /** What the Teams client reports as `localTimezone` in the activities it sends. */
  tz?: string;
  /** Removed from the tenant, or the app uninstalled: no longer reachable. */
  gone?: boolean;
}

export type ConnectorOperation = 'create' | 'send' | 'update' | 'getMember';

export interface ConnectorCall {
  method: string;
  path: string;
  operation: ConnectorOperation | 'unknown';
  status: number;
  conversationId?: string;
  activityId?: string;
  /** The Authorization header the bot sent, if any. */
  authorization?: string;
  body?: unknown;
}

export interface StoredActivity {
  id: string;
  conversationId: string;
  /** The activity as Teams holds it now (after the latest update). */
  activity: JsonObject;
  /** Every version: the one sent first, then each update. */
  versions: JsonObject[];
}

export interface ConnectorFault {
  /** HTTP status to answer with (429, 412, 500, 502, 503, 504, 403…). */
  status: number;
  /** The `error.code` of the body. */
  code?: string;
  /** With 429 (or any status): the `Retry-After` header, in seconds. */
  retryAfterSec?: number;
  /** Hold each affected call this long, then answer with the fault (a client should time out first). */
  hangMs?: number;
  /** Only these operations (default: all). */
  operations?: ConnectorOperation[];
}

export interface FakeBotConnectorOptions {
  users: FakeTeamsUser[];
  tenantId?: string;
  /** The bot's channel account (`28:<app id>` in Teams). */
  bot?: { id: string; name: string };
  /** When set, tokens are checked both ways for this app id (see the module comment). */
  auth?: { appId: string };
}

export interface InboundResult {
  status: number;
  /** The parsed JSON body, or the text when it is not JSON, or null when empty. */
  body: unknown;
}

/** Signature modes for activities sent into the bot. */
export type Signing = 'valid' | 'forged' | 'missing' | 'expired' | 'wrong-audience' | 'wrong-service-url';

/** Teams refuses messages larger than about 100 KB. */
export const TEAMS_MAX_MESSAGE_BYTES = 100 * 1024;

const AAD_AUDIENCE = 'https://api.botframework.com';
const CHANNEL_ISSUER = 'https://api.botframework.com';

// ------------------------------------------------------------------------------------------------ JWT

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function signJwt(key: KeyObject, kid: string, claims: JsonObject): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid, x5t: kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key);
  return `${header}.${payload}.${b64url(signature)}`;
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  jwk: { kty: string; n: string; e: string };
}

function newKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { kty: string; n: string; e: string };
  return { kid, privateKey, jwk };
}

/** Verifies an RS256 JWT against `key`; returns its claims, or a reason it is refused. */
function verifyJwt(token: string, key: SigningKey): { claims: JsonObject } | { refused: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { refused: 'not a JWT' };
  const [header, payload, signature] = parts as [string, string, string];
  // Node derives the public half from the private key.
  const ok = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    key.privateKey,
    Buffer.from(signature, 'base64url'),
  );
  if (!ok) return { refused: 'bad signature' };
  try {
    return { claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JsonObject };
  } catch {
    return { refused: 'unreadable claims' };
  }
}

// ------------------------------------------------------------------------------------------------ fake

interface Conversation {
  id: string;
  userId: string;
  activities: StoredActivity[];
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function errorBody(code: string, message: string): JsonObject {
  return { error: { code, message } };
}

export class FakeBotConnector {
  readonly tenantId: string;
  readonly bot: { id: string; name: string };
  readonly calls: ConnectorCall[] = [];
  private readonly users = new Map<string, FakeTeamsUser>();
  private readonly conversations = new Map<string, Conversation>();
  private readonly aadKey = newKey('fake-aad-key');
  private readonly channelKey = newKey('fake-botframework-key');
  private fault: ConnectorFault | null = null;
  private activityCounter = 0;
  private readonly pending = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly options: FakeBotConnectorOptions,
  ) {
    this.tenantId = options.tenantId ?? 'tenant-0000';
    this.bot = options.bot ?? { id: `28:${options.auth?.appId ?? 'fake-bot'}`, name: 'JIT Access' };
    for (const user of options.users) this.users.set(user.id, { ...user });
  }

  static async start(options: FakeBotConnectorOptions): Promise<FakeBotConnector> {
    let fake: FakeBotConnector | undefined;
    const server = createServer((req, res) => {
      if (!fake) {
        res.writeHead(503).end();
        return;
      }
      fake.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeBotConnector(server, `http://127.0.0.1:${port}`, options);
    return fake;
  }

  /** The bot's app id when authentication is on, else undefined. */
  get appId(): string | undefined {
    return this.options.auth?.appId;
  }

  /** The `serviceUrl` Teams puts in every activity it sends the bot (with a trailing slash, as Teams does). */
  get serviceUrl(): string {
    return `${this.url}/teams/`;
  }

  /** Where the channel's signing keys are published (the bot's `ToBotFromChannelOpenIdMetadataUrl`). */
  get openIdMetadataUrl(): string {
    return `${this.url}/v1/.well-known/openidconfiguration`;
  }

  async close(): Promise<void> {
    for (const timer of this.pending) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ----- people and conversations ---------------------------------------------------------------------

  user(id: string): FakeTeamsUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`no fake Teams user ${id}`);
    return user;
  }

  userByEmail(email: string): FakeTeamsUser {
    const lower = email.toLowerCase();
    const user = [...this.users.values()].find(
      (u) => u.email?.toLowerCase() === lower || u.userPrincipalName.toLowerCase() === lower,
    );
    if (!user) throw new Error(`no fake Teams user with email ${email}`);
    return user;
  }

  /** From now on the person is gone: not a member, and nothing reaches them. */
  deactivate(userId: string): void {
    this.user(userId).gone = true;
  }

  /** Changes what Teams knows of a person (their email, name…). */
  updateUser(userId: string, change: Partial<Omit<FakeTeamsUser, 'id'>>): void {
    Object.assign(this.user(userId), change);
  }

  /** The person's 1:1 conversation with the bot (made the first time it is asked for). */
  personalConversationId(userId: string): string {
    for (const c of this.conversations.values()) if (c.userId === userId) return c.id;
    const id = `a:1${Buffer.from(`${userId}|${randomUUID()}`).toString('base64url').slice(0, 40)}`;
    this.conversations.set(id, { id, userId, activities: [] });
    return id;
  }

  /** Teams lost the conversation (sends to it answer 404); creating one again makes a new id. */
  forgetConversation(conversationId: string): void {
    this.conversations.delete(conversationId);
  }

  /** A message of the bot is gone (deleted in the client): updating it answers 404 `NotFound`. */
  deleteActivity(conversationId: string, activityId: string): void {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) throw new Error(`no conversation ${conversationId}`);
    conversation.activities = conversation.activities.filter((a) => a.id !== activityId);
  }

  /** The bot's messages in a conversation, oldest first (copies). */
  activitiesIn(conversationId: string): StoredActivity[] {
    return structuredClone(this.conversations.get(conversationId)?.activities ?? []);
  }

  /** One of the bot's messages as Teams holds it now, or undefined. */
  activity(conversationId: string, activityId: string): StoredActivity | undefined {
    const found = this.conversations.get(conversationId)?.activities.find((a) => a.id === activityId);
    return found ? structuredClone(found) : undefined;
  }

  /** The email of the person in a conversation, as the tests name people. */
  emailInConversation(conversationId: string): string | undefined {
    const userId = this.conversations.get(conversationId)?.userId;
    const user = userId ? this.users.get(userId) : undefined;
    return user ? (user.email ?? user.userPrincipalName).toLowerCase() : undefined;
  }

  // ----- faults ---------------------------------------------------------------------------------------

  /** Until `setFault(null)`, every affected call answers with the fault. */
  setFault(fault: ConnectorFault | null): void {
    this.fault = fault;
  }

  // ----- tokens ---------------------------------------------------------------------------------------

  /** A token as Azure AD issues it to the bot for calling the connector (valid for an hour). */
  botToken(appId = this.options.auth?.appId ?? 'fake-bot'): string {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(this.aadKey.privateKey, this.aadKey.kid, {
      aud: AAD_AUDIENCE,
      iss: `https://sts.windows.net/${this.tenantId}/`,
      appid: appId,
      ver: '1.0',
      iat: now,
      nbf: now,
      exp: now + 3600,
    });
  }

  /** A channel token as the Bot Framework signs requests to the bot (see `send`). */
  channelToken(options: { signing?: Signing; serviceUrl?: string } = {}): string {
    const signing = options.signing ?? 'valid';
    const now = Math.floor(Date.now() / 1000);
    const claims: JsonObject = {
      iss: CHANNEL_ISSUER,
      aud: signing === 'wrong-audience' ? 'someone-else' : (this.options.auth?.appId ?? ''),
      serviceurl:
        signing === 'wrong-service-url'
          ? 'https://elsewhere.example/'
          : (options.serviceUrl ?? this.serviceUrl),
      nbf: now - 5,
      iat: now - 5,
      exp: signing === 'expired' ? now - 3600 : now + 3600,
    };
    const key = signing === 'forged' ? newKey(this.channelKey.kid) : this.channelKey;
    return signJwt(key.privateKey, key.kid, claims);
  }

  // ----- activities into the bot ----------------------------------------------------------------------

  private baseActivity(user: FakeTeamsUser, type: string): JsonObject {
    this.activityCounter += 1;
    const conversationId = this.personalConversationId(user.id);
    return {
      type,
      id: `f:${Date.now()}${String(this.activityCounter).padStart(4, '0')}`,
      timestamp: new Date().toISOString(),
      localTimestamp: new Date().toISOString(),
      ...(user.tz ? { localTimezone: user.tz } : {}),
      serviceUrl: this.serviceUrl,
      channelId: 'msteams',
      from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
      conversation: { conversationType: 'personal', tenantId: this.tenantId, id: conversationId },
      recipient: { id: this.bot.id, name: this.bot.name },
      channelData: { tenant: { id: this.tenantId } },
      locale: 'en-US',
    };
  }

  /** The person installed the app in personal scope (or removed it: `action: 'remove'`). */
  installationUpdate(userId: string, action: 'add' | 'remove' = 'add'): JsonObject {
    return { ...this.baseActivity(this.user(userId), 'installationUpdate'), action };
  }

  /** The bot was added to the person's 1:1 chat (Teams sends it with the install). */
  conversationUpdate(userId: string): JsonObject {
    return {
      ...this.baseActivity(this.user(userId), 'conversationUpdate'),
      membersAdded: [{ id: this.bot.id }],
    };
  }

  /** The person wrote to the bot. */
  message(userId: string, text: string): JsonObject {
    return {
      ...this.baseActivity(this.user(userId), 'message'),
      text,
      textFormat: 'plain',
      entities: [{ type: 'clientInfo', locale: 'en-US', platform: 'Web' }],
    };
  }

  /**
   * The person pressed an `Action.Execute` button (a Universal Action) on the bot's message
   * `replyToId`: Teams sends an `adaptiveCard/action` invoke with the button's verb and its data,
   * the card's inputs merged in. The bot's answer is the HTTP response (see `send`).
   */
  cardAction(
    userId: string,
    action: { verb: string; data?: unknown; replyToId?: string; conversationId?: string },
  ): JsonObject {
    const base = this.baseActivity(this.user(userId), 'invoke');
    return {
      ...base,
      name: 'adaptiveCard/action',
      ...(action.conversationId
        ? { conversation: { ...(base.conversation as JsonObject), id: action.conversationId } }
        : {}),
      ...(action.replyToId ? { replyToId: action.replyToId } : {}),
      value: {
        action: { type: 'Action.Execute', id: randomUUID(), verb: action.verb, data: action.data ?? {} },
        trigger: 'manual',
      },
    };
  }

  /** POSTs `activity` to the bot at `botUrl` (its `/api/messages`), signed as `signing` says. */
  async send(botUrl: string, activity: JsonObject, signing: Signing = 'valid'): Promise<InboundResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signing !== 'missing') {
      headers.authorization = `Bearer ${this.channelToken({ signing, serviceUrl: String(activity.serviceUrl) })}`;
    }
    const res = await fetch(botUrl, { method: 'POST', headers, body: JSON.stringify(activity) });
    const text = await res.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.status, body };
  }

  // ----- the HTTP side --------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', this.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);

    // The Bot Framework's published keys (not part of the connector; no auth, no faults).
    if (method === 'GET' && url.pathname === '/v1/.well-known/openidconfiguration') {
      return this.json(res, 200, {
        issuer: CHANNEL_ISSUER,
        jwks_uri: `${this.url}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (method === 'GET' && url.pathname === '/v1/.well-known/keys') {
      return this.json(res, 200, {
        keys: [{ ...this.channelKey.jwk, kid: this.channelKey.kid, use: 'sig', endorsements: ['msteams'] }],
      });
    }

    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    // The service URL has a path of its own (`/teams/`), as Teams' regional ones do.
    if (segments[0] === 'teams') segments.shift();
    const call: ConnectorCall = { method, path: url.pathname, operation: 'unknown', status: 0 };
    if (req.headers.authorization) call.authorization = req.headers.authorization;
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
        call.body = body;
      } catch {
        return this.answer(res, call, 400, errorBody('BadSyntax', 'The request body is not JSON.'));
      }
    }

    const [v3, conversations, conversationId, kind, itemId, ...rest] = segments;
    if (v3 !== 'v3' || conversations !== 'conversations' || rest.length > 0) {
      return this.answer(res, call, 404, errorBody('NotFound', `No route for ${method} ${url.pathname}`));
    }
    if (conversationId) call.conversationId = conversationId;
    if (itemId) call.activityId = itemId;
    if (method === 'POST' && !conversationId) call.operation = 'create';
    else if (method === 'POST' && kind === 'activities') call.operation = 'send';
    else if (method === 'PUT' && kind === 'activities' && itemId) call.operation = 'update';
    else if (method === 'GET' && kind === 'members' && itemId) call.operation = 'getMember';
    else return this.answer(res, call, 405, errorBody('MethodNotAllowed', `${method} ${url.pathname}`));

    const refused = this.checkToken(req.headers.authorization);
    if (refused) {
      return this.answer(res, call, 401, { message: 'Authorization has been denied for this request.' });
    }

    const fault = this.fault;
    if (fault && (!fault.operations || fault.operations.includes(call.operation as ConnectorOperation))) {
      if (fault.hangMs) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.pending.delete(timer);
            resolve();
          }, fault.hangMs);
          this.pending.add(timer);
        });
        if (res.destroyed || req.destroyed) {
          call.status = -1; // the client gave up first
          this.calls.push(call);
          return false;
        }
      }
      const headers: Record<string, string> = {};
      if (fault.retryAfterSec !== undefined) headers['retry-after'] = String(fault.retryAfterSec);
      return this.answer(
        res,
        call,
        fault.status,
        errorBody(
          fault.code ?? (fault.status === 429 ? 'TooManyRequests' : 'ServiceError'),
          'fault injected',
        ),
        headers,
      );
    }

    switch (call.operation) {
      case 'create':
        return this.createConversation(res, call, body);
      case 'send':
        return this.sendActivity(res, call, conversationId as string, body, raw.length);
      case 'update':
        return this.updateActivity(res, call, conversationId as string, itemId as string, body, raw.length);
      default:
        return this.getMember(res, call, conversationId as string, itemId as string);
    }
  }

  /** Null when the bearer token is acceptable (or auth is off), else why not. */
  private checkToken(header: string | undefined): string | null {
    const appId = this.options.auth?.appId;
    if (!appId) return null;
    const token = /^Bearer (.+)$/.exec(header ?? '')?.[1];
    if (!token) return 'no bearer token';
    const verified = verifyJwt(token, this.aadKey);
    if ('refused' in verified) return verified.refused;
    const { claims } = verified;
    if (claims.aud !== AAD_AUDIENCE) return 'wrong audience';
    if (claims.appid !== appId && claims.azp !== appId) return 'wrong app id';
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return 'expired';
    return null;
  }

  private createConversation(res: ServerResponse, call: ConnectorCall, body: unknown): boolean {
    const params = (body ?? {}) as {
      members?: Array<{ id?: string }>;
      bot?: { id?: string };
      isGroup?: boolean;
      tenantId?: string;
      channelData?: { tenant?: { id?: string } };
    };
    const members = params.members ?? [];
    if (params.isGroup || members.length !== 1 || !members[0]?.id) {
      return this.answer(
        res,
        call,
        400,
        errorBody('BadArgument', 'A 1:1 conversation needs exactly one member.'),
      );
    }
    const tenant = params.tenantId ?? params.channelData?.tenant?.id;
    if (tenant !== this.tenantId) {
      return this.answer(res, call, 400, errorBody('BadArgument', 'Tenant id is required and must match.'));
    }
    const user = this.users.get(members[0].id);
    if (!user) return this.answer(res, call, 404, errorBody('NotFound', 'User not found.'));
    if (user.gone) {
      return this.answer(res, call, 403, errorBody('Forbidden', 'The bot is not installed for this user.'));
    }
    return this.answer(res, call, 201, { id: this.personalConversationId(user.id) });
  }

  /** 404 / 403 for a conversation the bot cannot post to, else the conversation. */
  private reachable(res: ServerResponse, call: ConnectorCall, conversationId: string): Conversation | null {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) {
      this.answer(res, call, 404, errorBody('ConversationNotFound', 'Conversation not found.'));
      return null;
    }
    if (this.users.get(conversation.userId)?.gone) {
      this.answer(
        res,
        call,
        403,
        errorBody('BotNotInConversationRoster', 'The bot is not part of the conversation roster.'),
      );
      return null;
    }
    return conversation;
  }

  /** A reason Teams would refuse this activity, or null. */
  private malformed(
    activity: unknown,
    bytes: number,
  ): { status: number; code: string; message: string } | null {
    if (bytes > TEAMS_MAX_MESSAGE_BYTES) {
      return { status: 413, code: 'MessageSizeTooBig', message: 'Message size too big.' };
    }
    if (activity === null || typeof activity !== 'object') {
      return { status: 400, code: 'BadSyntax', message: 'Activity missing.' };
    }
    const a = activity as JsonObject;
    if (a.type !== 'message') return { status: 400, code: 'BadSyntax', message: 'Unknown activity type.' };
    const attachments = Array.isArray(a.attachments) ? (a.attachments as JsonObject[]) : [];
    if (!a.text && attachments.length === 0) {
      return { status: 400, code: 'BadSyntax', message: 'Message has no text and no attachments.' };
    }
    for (const attachment of attachments) {
      if (attachment.contentType !== 'application/vnd.microsoft.card.adaptive') continue;
      const card = attachment.content as JsonObject | undefined;
      if (card?.type !== 'AdaptiveCard' || typeof card.version !== 'string') {
        return { status: 400, code: 'BadSyntax', message: 'Invalid Adaptive Card.' };
      }
    }
    return null;
  }

  private store(conversation: Conversation, activity: JsonObject, id: string): JsonObject {
    const stored: JsonObject = {
      ...activity,
      id,
      conversation: { id: conversation.id, conversationType: 'personal', tenantId: this.tenantId },
      from: { id: this.bot.id, name: this.bot.name },
      timestamp: new Date().toISOString(),
    };
    return stored;
  }

  private sendActivity(
    res: ServerResponse,
    call: ConnectorCall,
    conversationId: string,
    body: unknown,
    bytes: number,
  ): boolean {
    const conversation = this.reachable(res, call, conversationId);
    if (!conversation) return false;
    const bad = this.malformed(body, bytes);
    if (bad) return this.answer(res, call, bad.status, errorBody(bad.code, bad.message));
    this.activityCounter += 1;
    const id = `1${String(Date.now()).slice(-9)}${String(this.activityCounter).padStart(4, '0')}`;
    const activity = this.store(conversation, body as JsonObject, id);
    conversation.activities.push({ id, conversationId, activity, versions: [structuredClone(activity)] });
    return this.answer(res, call, 201, { id });
  }

  private updateActivity(
    res: ServerResponse,
    call: ConnectorCall,
    conversationId: string,
    activityId: string,
    body: unknown,
    bytes: number,
  ): boolean {
    const conversation = this.reachable(res, call, conversationId);
    if (!conversation) return false;
    const existing = conversation.activities.find((a) => a.id === activityId);
    if (!existing) return this.answer(res, call, 404, errorBody('NotFound', 'Activity not found.'));
    const bad = this.malformed(body, bytes);
    if (bad) return this.answer(res, call, bad.status, errorBody(bad.code, bad.message));
    const next = this.store(conversation, body as JsonObject, activityId);
    existing.activity = next;
    existing.versions.push(structuredClone(next));
    return this.answer(res, call, 200, { id: activityId });
  }

  private getMember(
    res: ServerResponse,
    call: ConnectorCall,
    conversationId: string,
    userId: string,
  ): boolean {
    const conversation = this.conversations.get(conversationId);
    if (!conversation) {
      return this.answer(res, call, 404, errorBody('ConversationNotFound', 'Conversation not found.'));
    }
    const user = [...this.users.values()].find((u) => u.id === userId || u.aadObjectId === userId);
    if (!user || user.gone || conversation.userId !== user.id) {
      return this.answer(
        res,
        call,
        404,
        errorBody('MemberNotFoundInConversation', 'The member was not found in the conversation.'),
      );
    }
    const [givenName, ...surname] = user.name.split(' ');
    return this.answer(res, call, 200, {
      id: user.id,
      name: user.name,
      aadObjectId: user.aadObjectId,
      givenName,
      surname: surname.join(' '),
      ...(user.email ? { email: user.email } : {}),
      userPrincipalName: user.userPrincipalName,
      tenantId: this.tenantId,
      userRole: 'user',
    });
  }

  private answer(
    res: ServerResponse,
    call: ConnectorCall,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): boolean {
    call.status = status;
    this.calls.push(call);
    return this.json(res, status, body, headers);
  }

  private json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): boolean {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
    return true;
  }
}

export function startFakeBotConnector(options: FakeBotConnectorOptions): Promise<FakeBotConnector> {
  return FakeBotConnector.start(options);
}
