/**
 * Platform-neutral message views. Built once by the functions in this folder and rendered per
 * platform (src/bot/slack/render.ts, later Teams). Every string here is plain text: renderers
 * escape it, so text people typed can never ping anyone or pose as a link.
 */

/** Neutral action identifiers; the Slack and Teams front ends register exactly these. */
export const ActionId = {
  approve: 'jit.request.approve',
  deny: 'jit.request.deny',
  cancel: 'jit.request.cancel',
  requestAgain: 'jit.request.again',
  /** Opens the request form with the resource in its value chosen (the API's request link). */
  requestResource: 'jit.request.resource',
  extend: 'jit.grant.extend',
  endAccess: 'jit.grant.end',
} as const;
export type ActionId = (typeof ActionId)[keyof typeof ActionId];

/**
 * Actions of the home and its grants dashboard (Slack's App Home tab now; Teams' "my access" and
 * "dashboard" cards later). The Slack front end registers exactly these too.
 */
export const HomeActionId = {
  /** Revoke someone's access (admins, the resource's owners and approvers): asks a reason first. */
  revoke: 'jit.grant.revoke',
  /** Opens a grant's timeline. */
  details: 'jit.grant.details',
  /** Opens a resource's access history (owners, approvers, admins); the value names it and the page. */
  history: 'jit.resource.history',
  /** Home: opens the request form. */
  requestAccess: 'jit.home.request',
  /** Home: the next or previous page of a list (the value names the list). */
  pageNext: 'jit.home.page.next',
  pagePrevious: 'jit.home.page.previous',
  /** Home: the grants dashboard's filters, and clearing them. */
  filterResource: 'jit.home.filter.resource',
  filterUser: 'jit.home.filter.user',
  filterStatus: 'jit.home.filter.status',
  filterExpires: 'jit.home.filter.expires',
  clearFilters: 'jit.home.filter.clear',
} as const;
export type HomeActionId = (typeof HomeActionId)[keyof typeof HomeActionId];

export interface ViewField {
  label: string;
  value: string;
}

export interface ViewAction {
  id: ActionId | HomeActionId;
  label: string;
  /** Untrusted on the way back: handlers validate it and re-check the store. */
  value: string;
  style?: 'primary' | 'danger';
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export interface MessageView {
  /** Notification / fallback text. */
  text: string;
  title: string;
  lines?: string[];
  fields?: ViewField[];
  actions?: ViewAction[];
  /** Small print under the message. */
  note?: string;
  /**
   * The request form for this resource belongs in the message itself. A platform that can hold a
   * form in a message (Teams: the form card) sends the form, prefilled, with `text` on top; one that
   * cannot (Slack opens forms only from a click) shows the message, whose action opens it.
   */
  requestForm?: { resourceId: string };
}

/** A text field a person fills in (a deny reason, an extension reason). */
export interface ViewInput {
  /** Stable id: the platform returns the value under it. */
  id: string;
  label: string;
  optional: boolean;
  multiline?: boolean;
  maxLength: number;
}

/** A small form: some lines, fields to fill, and a button that sends it. */
export interface FormView {
  title: string;
  lines?: string[];
  inputs: ViewInput[];
  submitLabel: string;
  closeLabel: string;
}
