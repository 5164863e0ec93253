import type { Db } from '../../platform/db/database.js';
import { compilePolicy, indexPolicies, type PolicyFilters, type PolicyIndex } from './access-engine.js';
import { policyFromRows } from './access-policy-rows.js';
import * as store from './access-policies.store.js';

/** At most this many tenants keep compiled policies in memory; the least recently loaded is dropped first. */
const MAX_TENANTS = 1000;

/** A tenant's compiled policies, indexed by member, with their names for answers. */
export interface TenantPolicies {
  revision: number;
  index: PolicyIndex;
  names: ReadonlyMap<string, string>;
  /** Each policy's filters as stored: the credential list translates them into SQL (access-visibility.ts). */
  filters: ReadonlyMap<string, PolicyFilters>;
}

/**
 * Compiled policies per tenant, valid while the tenant's revision is unchanged. Every change bumps the
 * revision in its transaction, so one indexed read per decision tells whether a node's copy (this one's or,
 * on PostgreSQL, another node's change) is current; the policies are reloaded and compiled only after a change.
 * Deleting a user or a group removes their subject rows without a bump: a stale copy then still names an id
 * that no longer exists, which no subject can present, so no decision changes.
 */
export function createPolicyCache(deps: { db: Db }) {
  const entries = new Map<string, TenantPolicies>();

  async function load(tenantId: string, revision: number): Promise<TenantPolicies> {
    // The revision was read first: a change committed meanwhile is in what we load, and the next read reloads again.
    const policies = (await store.allPoliciesWithSubjects(deps.db, tenantId)).map(({ row, subjects }) => policyFromRows(row, subjects));
    const entry = { revision, index: indexPolicies(policies.map(compilePolicy)), names: new Map(policies.map((p) => [p.id, p.name])), filters: new Map(policies.map((p) => [p.id, p.filters])) };
    entries.delete(tenantId);
    if (entries.size >= MAX_TENANTS) entries.delete(entries.keys().next().value!);
    entries.set(tenantId, entry);
    return entry;
  }

  return {
    /** The tenant's current compiled policies; a caller that read the revision in its own query hands it in. */
    async policiesOf(tenantId: string, knownRevision?: number): Promise<TenantPolicies> {
      const revision = knownRevision ?? (await store.revisionOf(deps.db, tenantId));
      const cached = entries.get(tenantId);
      return cached && cached.revision === revision ? cached : load(tenantId, revision);
    },
    /** Drops a tenant's copy at once (this node's own changes, after commit). */
    forget(tenantId: string): void {
      entries.delete(tenantId);
    },
  };
}
export type PolicyCache = ReturnType<typeof createPolicyCache>;
