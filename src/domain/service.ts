/**
 * The access service: the one object the chat front ends and the jobs talk to. It knows nothing
 * of Slack, Teams, mongoose or Agenda; it works through the ports in ./ports.ts.
 */
import { makeContext, type ServiceContext, type ServiceDeps } from './context.js';
import { normalizeEmail } from './email.js';
import { DomainError } from './errors.js';
import { onApproved, remind } from './grants.js';
import { type BuiltHome, buildHome } from './home/build.js';
import type { Names } from './home/personal.js';
import type { HomeState } from './home/state.js';
import type { AccessRequest, Grant, Person, ResourceSetting } from './model.js';
import { type SettingsInput, saveSettings } from './owner-settings.js';
import {
  type AccessConfig,
  effectivePolicy,
  eligibleApprovers,
  findResource,
  type ResourceConfig,
  requestableResources,
} from './policy.js';
import type { ResourceAccess } from './policy-source.js';
import { type GrantFilter, type GrantPage, listGrants, type PageRequest } from './queries/grants.js';
import {
  type AccessUse,
  accessHistory,
  grantActiveAt,
  type HistoryPage,
  recordAccessUse,
} from './queries/history.js';
import { accessReport, type Report } from './queries/report.js';
import { type GrantTimeline, grantTimeline } from './queries/timeline.js';
import { type Viewer, viewerOf } from './queries/visibility.js';
import { recordRefusal } from './refusals.js';
import { cancelRequest, checkDecision, decideRequest, expireRequest } from './request-decisions.js';
import {
  checkAndAuditSubmission,
  checkSubmission,
  type FieldError,
  resourceRefusal,
  type SubmitInput,
  submitRequest,
} from './requests.js';
import { endWindow, settleSettings, sweepClosedResources } from './resource-closing.js';
import { checkEndAccess, endAccess, expireGrant } from './revocation.js';
import { settleNow } from './settle.js';
import { advanceGrant, type SweepControl, sweep } from './sweep.js';

export type { FieldError, SettingsInput, SubmitInput };

export class AccessService {
  private readonly ctx: ServiceContext;

  constructor(deps: ServiceDeps) {
    this.ctx = makeContext(deps, onApproved);
  }

  get config(): AccessConfig {
    return this.ctx.config;
  }

  now(): Date {
    return this.ctx.clock.now();
  }

  // ------------------------------------------------------------ what a form needs

  requestableResources(email: string): ResourceConfig[] {
    return requestableResources(this.ctx.config, normalizeEmail(email));
  }

  findResource(idOrName: string): ResourceConfig | undefined {
    return findResource(this.ctx.config, idOrName);
  }

  policyFor(resource: ResourceConfig, requesterEmail: string) {
    return effectivePolicy(this.ctx.config, resource, normalizeEmail(requesterEmail));
  }

  approversFor(resource: ResourceConfig, requesterEmail: string): string[] {
    return eligibleApprovers(resource, normalizeEmail(requesterEmail));
  }

  // ------------------------------------------------------------ owners' settings

  /** Whether `resource` may be requested now, and until when (the file with its owners' setting over it). */
  resourceAccess(resource: ResourceConfig): Promise<ResourceAccess> {
    return this.ctx.policy.access(resource);
  }

  /**
   * Stores an owner's setting (refused, and audited, for anyone else; see ./owner-settings.ts), then
   * applies it: audit, the approvers' message, the window job, and, when it closes the resource, the
   * revocations and request closings (./resource-closing.ts). A failure there is left to the sweep.
   */
  async saveSettings(actor: Person, input: SettingsInput): Promise<ResourceSetting> {
    const saved = await saveSettings(this.ctx, actor, input);
    await settleNow(this.ctx, () => settleSettings(this.ctx, saved));
    const { unsettled: _owed, ...setting } = saved;
    return setting;
  }

  /**
   * After a policy reload: every resource the new file closes (e.g. it newly says `ownerControlled:
   * true` for a resource no owner has set) is closed at once, as if its owners had switched it off.
   */
  async closeClosedResources(): Promise<number> {
    return sweepClosedResources(this.ctx, 100, 'policy.resource_closed');
  }

  // ------------------------------------------------------------ requests

  /** The dry run: what would make `submit` refuse, per form field. Permission refusals are audited. */
  checkSubmission(input: SubmitInput): Promise<FieldError[]> {
    return checkAndAuditSubmission(this.ctx, input);
  }

  /**
   * The dry run of asking for more time on `grantId`: the refusal `submit` would give for who and
   * what (not for the duration or reason, which the form asks next), or null. Changes nothing.
   */
  async checkExtension(grantId: string, actor: Person): Promise<DomainError | null> {
    const grant = await this.ctx.repos.grants.get(grantId);
    const errors = await checkSubmission(this.ctx, {
      requester: actor,
      resourceId: grant?.resourceId ?? '',
      approvers: [],
      duration: 'PT0S',
      justification: '',
      submissionKey: '',
      grantId,
    });
    const first = errors.find((e) => e.field === 'resource');
    return first ? new DomainError(first.code, first.message, first.field) : null;
  }

  /**
   * The dry run of asking for `resourceId` at all (before any form is filled in): the refusal for an
   * unknown resource, someone who may not request it, or a resource its owners have closed; or null.
   */
  async checkRequestable(
    email: string,
    resourceId: string,
    opts: { audit?: boolean } = {},
  ): Promise<DomainError | null> {
    const actor = normalizeEmail(email);
    const refused = await resourceRefusal(this.ctx, actor, resourceId);
    if (!refused) return null;
    if (opts.audit) await recordRefusal(this.ctx, { actor, action: 'request', resourceId }, refused.code);
    return new DomainError(refused.code, refused.message, refused.field);
  }

  submit(input: SubmitInput): Promise<AccessRequest> {
    return submitRequest(this.ctx, input);
  }

  decide(
    requestId: string,
    actor: Person,
    decision: 'approve' | 'deny',
    reason?: string,
  ): Promise<AccessRequest> {
    return decideRequest(this.ctx, requestId, actor, decision, reason);
  }

  /** The dry run of `decide`: the refusal it would give, or null. Changes nothing (refusals are audited). */
  checkDecision(requestId: string, actor: Person, decision: 'approve' | 'deny') {
    return checkDecision(this.ctx, requestId, actor, decision);
  }

  cancel(requestId: string, actor: Person): Promise<AccessRequest> {
    return cancelRequest(this.ctx, requestId, actor);
  }

  getRequest(id: string): Promise<AccessRequest | null> {
    return this.ctx.repos.requests.get(id);
  }

  // ------------------------------------------------------------ grants

  /**
   * Ends access now: the holder's own "End access now", or a revocation by an admin, an owner or
   * approver of the resource, or the API (`api`), with an optional `reason` the holder is told.
   */
  endAccess(grantId: string, actor: Person, reason?: string): Promise<Grant> {
    return endAccess(this.ctx, grantId, actor, reason);
  }

  /** The dry run of `endAccess`: the refusal it would give, or null. Changes nothing (refusals are audited). */
  checkEndAccess(grantId: string, actor: Person): Promise<DomainError | null> {
    return checkEndAccess(this.ctx, grantId, actor);
  }

  getGrant(id: string): Promise<Grant | null> {
    return this.ctx.repos.grants.get(id);
  }

  // ------------------------------------------------------------ reads (each as the asking person)

  /** Who `person` is to the read model: an admin, and the resources they approve or own. */
  viewer(person: Pick<Person, 'email'>): Viewer {
    return viewerOf(this.ctx.config, person.email);
  }

  /** How many of a resource's grants are open now (provisioning or active), whoever asks: a count, no details. */
  countOpenGrants(resourceId: string): Promise<number> {
    return this.ctx.repos.grants.count({ status: ['provisioning', 'active'], resourceIds: [resourceId] });
  }

  /** The grants `viewer` may see that match `filter`, newest first, a page at a time. */
  listGrants(
    viewer: Pick<Person, 'email'>,
    filter: GrantFilter = {},
    page: PageRequest = {},
  ): Promise<GrantPage> {
    return listGrants(this.ctx, viewer.email, filter, page);
  }

  /** What happened to a grant, from the audit trail; refused (audited) unless `viewer` may see it. */
  grantTimeline(viewer: Pick<Person, 'email'>, grantId: string): Promise<GrantTimeline> {
    return grantTimeline(this.ctx, viewer.email, grantId);
  }

  /** A resource's access history, newest first; for its approvers and owners, and admins. */
  accessHistory(
    viewer: Pick<Person, 'email'>,
    resourceId: string,
    page: PageRequest = {},
  ): Promise<HistoryPage> {
    return accessHistory(this.ctx, viewer.email, resourceId, page);
  }

  /** One row per grant `viewer` may see that matches `filter`. */
  accessReport(viewer: Pick<Person, 'email'>, filter: GrantFilter = {}): Promise<Report> {
    return accessReport(this.ctx, viewer.email, filter);
  }

  /** The grant through which `email` holds `resourceId` now, or null. */
  async activeGrant(email: string, resourceId: string): Promise<Grant | null> {
    const grant = await grantActiveAt(this.ctx, normalizeEmail(email), resourceId, this.ctx.clock.now());
    return grant?.status === 'active' ? grant : null;
  }

  /** Records a use of access reported by `reportedBy` (e.g. `api`); refused without an active grant then. */
  recordAccessUse(use: AccessUse, reportedBy: string) {
    return recordAccessUse(this.ctx, use, reportedBy);
  }

  // ------------------------------------------------------------ the home

  /**
   * `person`'s home as they may see it, at `state` (pages and filters); also the state as shown,
   * to keep for the next change. `names` names people by email, when the platform knows them.
   */
  home(person: Person, state: HomeState, names?: Names): Promise<BuiltHome> {
    return buildHome(this.ctx, { ...person, email: normalizeEmail(person.email) }, state, names);
  }

  // ------------------------------------------------------------ job handlers (idempotent)

  readonly jobs = {
    'request.expire': (id: string) => expireRequest(this.ctx, id),
    'grant.remind': (id: string) => remind(this.ctx, id),
    'grant.expire': (id: string) => expireGrant(this.ctx, id),
    'grant.retry': (id: string) => advanceGrant(this.ctx, id),
    'resource.window_end': (id: string) => endWindow(this.ctx, id),
  } as const;

  async sweep(control?: SweepControl): Promise<number> {
    const count = await sweep(this.ctx, (id) => expireRequest(this.ctx, id), control);
    if (control?.shouldStop?.()) return count;
    return count + (await sweepClosedResources(this.ctx));
  }
}
