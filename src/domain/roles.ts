/**
 * Who may act on others' requests and grants (the issue's "Roles"), asked by the operations that
 * act: admins (top-level `admins`) may revoke every grant and decide any pending request; a
 * resource's approvers and owners may revoke its grants. Everyone may end their own access.
 */
import { normalizeEmail } from './email.js';
import { type AccessConfig, isAdmin, type ResourceConfig } from './policy.js';

/** Admins, and the resource's owners and approvers. */
export function canRevokeGrantsOf(config: AccessConfig, resource: ResourceConfig, email: string): boolean {
  const who = normalizeEmail(email);
  return isAdmin(config, who) || resource.owners.includes(who) || resource.approvers.includes(who);
}

/** Admins may decide any pending request (except their own), as an admin decision. */
export function canDecideAsAdmin(config: AccessConfig, email: string): boolean {
  return isAdmin(config, email);
}
