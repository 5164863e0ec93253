import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import { createResolutionCache } from '../../platform/db/marker-cache.js';
import type { CredentialPolicyTable } from '../../platform/db/schema.js';
import { conflict, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import { matchingPolicies, type PolicyFilters, type PolicyTarget } from './credential-policies.matching.js';
import { CREDENTIAL_POLICY_LIMIT, DEFAULT_POLICY_RULES, type CreatePolicyInput, type GenerateInput, type MatchQuery, type PatchPolicyInput, type PolicyRules } from './credential-policies.schemas.js';
import * as store from './credential-policies.store.js';
import { credentialNotFound } from './credentials.service.js';
import * as credentials from './credentials.store.js';
import { deviceNotFound } from './devices.service.js';
import * as devices from './devices.store.js';
import { checkPassword, generatePassword } from './password-generator.js';

/** A stored policy, parsed. */
export interface CredentialPolicy {
  id: string;
  name: string;
  priority: number;
  filters: PolicyFilters;
  rules: PolicyRules;
  createdAt: number;
  updatedAt: number;
}

/** The policy that applies to a target (null: the built-in default), its rules, and every matching policy in order. */
export interface AppliedPolicy {
  policy: { id: string; name: string } | null;
  rules: PolicyRules;
  matching: { id: string; name: string; priority: number }[];
}

// Rows are written only through the schema, so their JSON is complete; the defaults fill fields added later.
const fromRow = (row: CredentialPolicyTable): CredentialPolicy => ({
  id: row.id, name: row.name, priority: row.priority, filters: JSON.parse(row.filters) as PolicyFilters,
  rules: { ...DEFAULT_POLICY_RULES, ...(JSON.parse(row.rules) as Partial<PolicyRules>) }, createdAt: row.created_at, updatedAt: row.updated_at,
});
const iso = (ms: number) => new Date(ms).toISOString();
const toView = (p: CredentialPolicy) => ({ id: p.id, name: p.name, priority: p.priority, filters: p.filters, rules: p.rules, createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt) });

const policyNotFound = (id: string) => notFound('CREDENTIAL_POLICY_NOT_FOUND', `No credential policy ${id} in this tenant. List them with GET /api/v1/credential-policies.`);
const nameTaken = (name: string) => conflict('CREDENTIAL_POLICY_NAME_TAKEN', `A credential policy named "${name}" already exists; choose another name or change that policy.`);

/**
 * Credential policies: strength, age and rotation rules matched to credentials by device and credential
 * attributes; the password generator that follows them; and the check that refuses a manually set password
 * breaking them. Every change and every generated password is audited (never the password).
 */
export function createCredentialPolicyService(deps: { db: Db; audit: AuditLog; clock: Clock; changeMarker: () => string | null }) {
  const { db, audit, clock } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;
  // Every reveal asks whether to rotate after it: on SQLite the tenant's parsed policies stay until anything but the audit log changes.
  const tenantPolicies = createResolutionCache<CredentialPolicy[]>({ changeMarker: deps.changeMarker, max: 1000 });

  async function load(trx: DbOrTx, tenantId: string, id: string) {
    const row = isId(id) ? await store.findPolicy(trx, tenantId, id) : undefined;
    if (!row) throw policyNotFound(id);
    return row;
  }

  /** The policy that applies to a target, read in the caller's transaction. */
  async function policyFor(trx: DbOrTx, tenantId: string, target: PolicyTarget): Promise<AppliedPolicy> {
    const matching = matchingPolicies((await store.listPolicies(trx, tenantId)).map(fromRow), target);
    const winner = matching[0];
    return {
      policy: winner ? { id: winner.id, name: winner.name } : null,
      rules: winner?.rules ?? DEFAULT_POLICY_RULES,
      matching: matching.map((p) => ({ id: p.id, name: p.name, priority: p.priority })),
    };
  }

  /** Adds a policy; a tenant holds at most CREDENTIAL_POLICY_LIMIT of them, each with its own name. */
  async function create(actor: Actor, input: CreatePolicyInput) {
    const tenantId = tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const row: CredentialPolicyTable = { tenant_id: tenantId, id: newId(now), name: input.name, priority: input.priority, filters: JSON.stringify(input.filters), rules: JSON.stringify(input.rules), created_at: now, updated_at: now };
      // The append takes the tenant's audit head lock first, so concurrent creates check name and count one after another.
      await audit.append(trx, tenantId, { action: 'credential_policy.created', actor, target: { type: 'credential_policy', id: row.id }, details: { name: row.name, priority: row.priority, filters: row.filters, rules: row.rules } });
      if (await store.nameTaken(trx, tenantId, row.name)) throw nameTaken(row.name);
      if ((await store.countPolicies(trx, tenantId)) >= CREDENTIAL_POLICY_LIMIT) {
        throw conflict('CREDENTIAL_POLICY_LIMIT', `A tenant has at most ${CREDENTIAL_POLICY_LIMIT} credential policies; remove or merge some before adding another.`);
      }
      await store.insertPolicy(trx, row);
      return toView(fromRow(row));
    });
  }

  /** Every policy in evaluation order: highest priority first, then the oldest. */
  async function list(actor: Actor) {
    return (await store.listPolicies(db, tenantOf(actor))).map((row) => toView(fromRow(row)));
  }

  /** One policy of the caller's tenant; another tenant's id answers 404. */
  async function get(actor: Actor, id: string) {
    return toView(fromRow(await load(db, tenantOf(actor), id)));
  }

  /** Changes name, priority, filters or rules (the last two replaced whole); the audit event names what changed and its new value. */
  async function update(actor: Actor, id: string, patch: PatchPolicyInput) {
    const tenantId = tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantId, id);
      const after: CredentialPolicyTable = {
        ...row,
        name: patch.name ?? row.name,
        priority: patch.priority ?? row.priority,
        filters: patch.filters ? JSON.stringify(patch.filters) : row.filters,
        rules: patch.rules ? JSON.stringify(patch.rules) : row.rules,
      };
      const changed = (['name', 'priority', 'filters', 'rules'] as const).filter((field) => after[field] !== row[field]);
      if (changed.length === 0) return toView(fromRow(row));
      after.updated_at = clock.now();
      await audit.append(trx, tenantId, { action: 'credential_policy.updated', actor, target: { type: 'credential_policy', id: row.id }, details: { fields: [...changed], ...Object.fromEntries(changed.map((field) => [field, after[field]])) } });
      if (changed.includes('name') && (await store.nameTaken(trx, tenantId, after.name, row.id))) throw nameTaken(after.name);
      await store.updatePolicy(trx, tenantId, row.id, Object.fromEntries(changed.map((field) => [field, after[field]])), after.updated_at);
      return toView(fromRow(after));
    });
  }

  /** Removes a policy; the credentials it covered fall to the next matching policy or the default. */
  async function remove(actor: Actor, id: string) {
    const tenantId = tenantOf(actor);
    await db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantId, id);
      await store.deletePolicy(trx, tenantId, row.id);
      await audit.append(trx, tenantId, { action: 'credential_policy.deleted', actor, target: { type: 'credential_policy', id: row.id }, details: { name: row.name } });
    });
  }

  /** The attributes a policy matches on, of a device (tags included). */
  async function deviceAttributes(trx: DbOrTx, tenantId: string, deviceId: string) {
    const device = isId(deviceId) ? await devices.findDevice(trx, tenantId, deviceId) : undefined;
    if (!device) return undefined;
    const tags = (await devices.tagsOfMany(trx, tenantId, [device.id])).get(device.id)!;
    return { name: device.name, site: device.site, type: device.type, tags };
  }

  /** The attributes of an existing credential and its device. */
  async function credentialTarget(trx: DbOrTx, tenantId: string, credentialId: string): Promise<PolicyTarget> {
    const credential = isId(credentialId) ? await credentials.findCredential(trx, tenantId, credentialId) : undefined;
    if (!credential) throw credentialNotFound(credentialId);
    const tags = (await credentials.tagsOfMany(trx, tenantId, [credential.id])).get(credential.id)!;
    const device = (await deviceAttributes(trx, tenantId, credential.device_id))!;
    return { device, credential: { type: credential.type, username: credential.username, tags } };
  }

  /** The attributes of a credential about to be created on a device. */
  async function newCredentialTarget(trx: DbOrTx, tenantId: string, input: GenerateInput): Promise<PolicyTarget> {
    const device = await deviceAttributes(trx, tenantId, input.deviceId!);
    if (!device) throw deviceNotFound(input.deviceId!);
    return { device, credential: { type: input.credentialType ?? null, username: input.username ?? null, tags: input.credentialTags ?? [] } };
  }

  /** Which policy applies to an existing credential, or to a credential with the given attributes (a preview for administrators). */
  async function match(actor: Actor, query: MatchQuery): Promise<AppliedPolicy> {
    const tenantId = tenantOf(actor);
    const target: PolicyTarget = query.credentialId
      ? await credentialTarget(db, tenantId, query.credentialId)
      : {
          device: { name: query.deviceName ?? null, site: query.site ?? null, type: query.deviceType ?? null, tags: query.deviceTags ?? [] },
          credential: { type: query.credentialType ?? null, username: query.username ?? null, tags: query.credentialTags ?? [] },
        };
    return policyFor(db, tenantId, target);
  }

  /** A new password following the applicable policy; it is not stored, and the audit event records only that one was generated. */
  async function generate(actor: Actor, input: GenerateInput) {
    const tenantId = tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const target = input.credentialId ? await credentialTarget(trx, tenantId, input.credentialId) : await newCredentialTarget(trx, tenantId, input);
      if (target.credential.type !== 'password') {
        throw invalid('PASSWORD_GENERATION_UNSUPPORTED', `The generator makes passwords; this credential is of type ${target.credential.type}. Keys are issued by their own tools.`);
      }
      const applied = await policyFor(trx, tenantId, target);
      const password = generatePassword(applied.rules);
      // Committed before the password leaves the server; it names the policy and the length, never the value.
      await audit.append(trx, tenantId, {
        action: 'credential_policy.password_generated', actor,
        target: input.credentialId ? { type: 'credential', id: input.credentialId } : { type: 'device', id: input.deviceId! },
        details: { policyId: applied.policy?.id ?? null, policyName: applied.policy?.name ?? null, length: password.length, username: target.credential.username },
      });
      return { password, policy: applied.policy };
    });
  }

  /**
   * The credentials service's hook for a typed secret: a password breaking the tenant policy that applies is
   * refused with 400 CREDENTIAL_POLICY_VIOLATION naming each problem. Where no policy matches, the built-in
   * default only shapes generated passwords: an existing account's current password must be storable as it is,
   * or Custos could never log in to rotate it (a catch-all policy enforces a floor everywhere). ssh-key and
   * api-key secrets are not checked: their form is set by the tool or system that issued them.
   */
  async function checkSecret(trx: DbOrTx, tenantId: string, target: PolicyTarget, secret: string): Promise<void> {
    if (target.credential.type !== 'password') return;
    const applied = await policyFor(trx, tenantId, target);
    if (!applied.policy) return;
    const problems = checkPassword(applied.rules, secret);
    if (problems.length === 0) return;
    throw invalid(
      'CREDENTIAL_POLICY_VIOLATION',
      `The password does not satisfy the credential policy "${applied.policy.name}": it ${problems.map((p) => p.message).join('; it ')}. Choose another, or generate one with POST /api/v1/credential-policies/generate.`,
      { policy: applied.policy, problems },
    );
  }

  /**
   * Whether the policy that applies to a credential asks for rotation after a reveal or a check-in, read in the
   * caller's transaction. One read when no policy of the tenant sets the flag (the common case); the credential's
   * attributes are read only when one does.
   */
  async function rotatesAfter(trx: DbOrTx, tenantId: string, credentialId: string, event: 'reveal' | 'checkin'): Promise<boolean> {
    const flag = event === 'reveal' ? 'rotateAfterReveal' : 'rotateAfterCheckin';
    const policies = await tenantPolicies.resolve(tenantId, async () => (await store.listPolicies(trx, tenantId)).map(fromRow), () => true);
    if (!policies.some((p) => p.rules[flag])) return false;
    const winner = matchingPolicies(policies, await credentialTarget(trx, tenantId, credentialId))[0];
    return winner?.rules[flag] ?? false;
  }

  return { create, list, get, update, remove, match, generate, policyFor, checkSecret, rotatesAfter };
}
export type CredentialPolicyService = ReturnType<typeof createCredentialPolicyService>;
