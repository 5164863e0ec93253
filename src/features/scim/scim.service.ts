import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import type { Deactivate } from '../identity/deactivation.js';
import { createScimGroups } from './scim-groups.service.js';
import { createScimTokens } from './scim-tokens.js';
import { createScimUsers } from './scim-users.service.js';

/**
 * SCIM 2.0 provisioning (RFC 7643/7644): the tenant's token, and the users and groups an identity provider
 * manages through /scim/v2. `publicUrl` is the installation's address (resource locations are built from it).
 */
export function createScimService(deps: { db: Db; audit: AuditLog; clock: Clock; deactivate: Deactivate; publicUrl: string; assertHoldsEverything: (actor: Actor, doing: string) => Promise<void> }) {
  const baseUrl = `${deps.publicUrl.replace(/\/+$/, '')}/scim/v2`;
  const tokens = createScimTokens({ ...deps, baseUrl });
  return { tokens, users: createScimUsers({ ...deps, baseUrl }), groups: createScimGroups({ ...deps, baseUrl }), baseUrl };
}
export type ScimService = ReturnType<typeof createScimService>;
