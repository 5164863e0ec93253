import type { DbOrTx } from '../../platform/db/database.js';
import type { CredentialPolicyTable, CredentialTable, DeviceTable } from '../../platform/db/schema.js';
import { matchingPolicies, type PolicyFilters, type PolicyTarget } from '../vault/credential-policies.matching.js';
import { DEFAULT_POLICY_RULES, type PolicyRules } from '../vault/credential-policies.schemas.js';
import * as policies from '../vault/credential-policies.store.js';
import * as credentials from '../vault/credentials.store.js';
import * as devices from '../vault/devices.store.js';

/** A tenant's policies, parsed as the credential policy service parses them (defaults fill fields added later). */
export async function tenantPolicies(db: DbOrTx, tenantId: string) {
  return (await policies.listPolicies(db, tenantId)).map((row: CredentialPolicyTable) => ({
    id: row.id, name: row.name, priority: row.priority, createdAt: row.created_at,
    filters: JSON.parse(row.filters) as PolicyFilters, rules: { ...DEFAULT_POLICY_RULES, ...(JSON.parse(row.rules) as Partial<PolicyRules>) },
  }));
}
export type ParsedPolicy = Awaited<ReturnType<typeof tenantPolicies>>[number];

/** What policy matching needs of a credential and its device. */
export async function policyTarget(db: DbOrTx, tenantId: string, cred: CredentialTable, device: DeviceTable): Promise<PolicyTarget> {
  const [credentialTags, deviceTags] = await Promise.all([credentials.tagsOfMany(db, tenantId, [cred.id]), devices.tagsOfMany(db, tenantId, [device.id])]);
  return {
    device: { name: device.name, site: device.site, type: device.type, tags: deviceTags.get(device.id) ?? [] },
    credential: { type: cred.type, username: cred.username, tags: credentialTags.get(cred.id) ?? [] },
  };
}

/** The rules of the policy that applies to a credential (the built-in default when none matches). */
export async function rulesFor(db: DbOrTx, tenantId: string, cred: CredentialTable, device: DeviceTable, known?: readonly ParsedPolicy[]): Promise<PolicyRules> {
  const all = known ?? (await tenantPolicies(db, tenantId));
  return matchingPolicies(all, await policyTarget(db, tenantId, cred, device))[0]?.rules ?? DEFAULT_POLICY_RULES;
}
