import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { AccessPolicyTable } from '../../platform/db/schema.js';
import { conflict, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import { accessActions, type AccessAction, type AccessPolicy, type ActionRule, type SubjectIds } from './access-engine.js';
import { createAccessDecisions } from './access-decisions.js';
import { createPolicyCache } from './access-policy-cache.js';
import { createAccessVisibility } from './access-visibility.js';
import { approverRows, canonicalRule, memberRows, policyFromRows, storedActions, subjectsByPolicy } from './access-policy-rows.js';
import { DEFAULT_APPROVAL_VALID_MINUTES, type ActionInput, type CreateAccessPolicyInput, type ListAccessPoliciesQuery, type PatchAccessPolicyInput } from './access-policies.schemas.js';
import * as lookups from './access-lookups.store.js';
import * as store from './access-policies.store.js';

type Actions = Partial<Record<AccessAction, ActionInput>>;
const iso = (ms: number) => new Date(ms).toISOString();
const policyNotFound = (id: string) => notFound('ACCESS_POLICY_NOT_FOUND', `No access policy ${id} in this tenant.`);
const nameTaken = (name: string) => conflict('ACCESS_POLICY_EXISTS', `An access policy named ${name} already exists in this tenant; choose another name.`);

/** Fills the defaults a stored rule always carries (emergency access off, approval valid 60 minutes). */
function toRules(actions: Actions): Partial<Record<AccessAction, ActionRule>> {
  const rules: Partial<Record<AccessAction, ActionRule>> = {};
  for (const action of accessActions) {
    const input = actions[action];
    if (!input) continue;
    rules[action] = canonicalRule({
      mode: input.mode,
      ...(input.mode === 'approval' ? { levels: input.levels!, approvalValidMinutes: input.approvalValidMinutes ?? DEFAULT_APPROVAL_VALID_MINUTES } : {}),
      timeRestriction: input.timeRestriction,
      emergencyAllowed: input.emergencyAllowed ?? false,
      totpStepUp: input.totpStepUp ?? false,
    });
  }
  return rules;
}

type StoredPolicy = ReturnType<typeof policyFromRows>;

function toView(policy: StoredPolicy) {
  return { id: policy.id, name: policy.name, description: policy.description, enabled: policy.enabled, members: policy.members, filters: policy.filters, actions: policy.actions, createdAt: iso(policy.createdAt), updatedAt: iso(policy.updatedAt) };
}

/** What the audit trail keeps of a policy: everything but the description (ids and rules as JSON, never a secret). */
const auditShape = (policy: Pick<AccessPolicy, 'enabled' | 'members' | 'filters' | 'actions'>) => ({
  enabled: policy.enabled,
  memberUsers: policy.members.users,
  memberGroups: policy.members.groups,
  filters: JSON.stringify(policy.filters),
  actions: JSON.stringify(policy.actions),
});

/** Access policies (/api/v1/access-policies): who may use which credentials and how; every change is audited and bumps the tenant's revision. */
export function createAccessPolicyService(deps: { db: Db; audit: AuditLog; clock: Clock; changeMarker: () => string | null }) {
  const { db, audit, clock } = deps;
  const cache = createPolicyCache({ db });
  const decisions = createAccessDecisions({ db, clock, cache, changeMarker: deps.changeMarker });
  const visibility = createAccessVisibility({ db, clock, cache });

  async function load(trx: DbOrTx, actor: Actor, id: string): Promise<StoredPolicy> {
    const row = isId(id) ? await store.findPolicy(trx, actor.tenantId!, id) : undefined;
    if (!row) throw policyNotFound(id);
    return policyFromRows(row, await store.subjectsOf(trx, row.tenant_id, [row.id]));
  }

  /** Refuses ids that are not users or groups of the tenant (another tenant's included). */
  async function assertSubjects(trx: DbOrTx, tenantId: string, named: SubjectIds, where: string) {
    const users = await lookups.existingUsers(trx, tenantId, named.users.filter(isId));
    const unknownUsers = named.users.filter((id) => !users.has(id));
    if (unknownUsers.length > 0) throw invalid('UNKNOWN_USER', `${where}: no user ${unknownUsers.join(', ')} in this tenant.`);
    const groups = await lookups.existingGroups(trx, tenantId, named.groups.filter(isId));
    const unknownGroups = named.groups.filter((id) => !groups.has(id));
    if (unknownGroups.length > 0) throw invalid('UNKNOWN_GROUP', `${where}: no group ${unknownGroups.join(', ')} in this tenant.`);
  }

  /** Approvers must exist, and each level must name at least as many people (users plus group members) as it requires. */
  async function assertApprovers(trx: DbOrTx, tenantId: string, actions: Partial<Record<AccessAction, ActionRule>>) {
    for (const action of accessActions) {
      for (const [i, level] of (actions[action]?.levels ?? []).entries()) {
        const where = `actions.${action}.levels[${i}].approvers`;
        await assertSubjects(trx, tenantId, level.approvers, where);
        const people = await lookups.peopleAmong(trx, tenantId, level.approvers.users, level.approvers.groups);
        if (level.required > people.size) {
          throw invalid('APPROVALS_UNREACHABLE', `actions.${action}.levels[${i}] requires ${level.required} approvals but its approvers are ${people.size} people (named users and current members of named groups); lower required or name more approvers.`);
        }
      }
    }
  }

  async function writeSubjects(trx: DbOrTx, tenantId: string, policyId: string, members?: SubjectIds, actions?: Partial<Record<AccessAction, ActionRule>>) {
    if (members) await store.replaceSubjects(trx, tenantId, policyId, 'member', memberRows(tenantId, policyId, members));
    if (actions) await store.replaceSubjects(trx, tenantId, policyId, 'approver', approverRows(tenantId, policyId, actions));
  }

  /** Runs a change in one transaction that also bumps the revision; this node's cache drops its copy after commit. */
  async function change<T>(actor: Actor, work: (trx: DbOrTx, tenantId: string) => Promise<T>): Promise<T> {
    const tenantId = actor.tenantId!;
    const result = await db.transaction().execute(async (trx) => {
      const out = await work(trx, tenantId);
      await store.bumpRevision(trx, tenantId);
      return out;
    });
    cache.forget(tenantId);
    return result;
  }

  /** Creates a policy after checking every user and group it names. */
  async function create(actor: Actor, input: CreateAccessPolicyInput) {
    const actions = toRules(input.actions);
    return change(actor, async (trx, tenantId) => {
      await assertSubjects(trx, tenantId, input.members, 'members');
      await assertApprovers(trx, tenantId, actions);
      const now = clock.now();
      const row: AccessPolicyTable = { tenant_id: tenantId, id: newId(now), name: input.name, description: input.description ?? null, enabled: input.enabled ? 1 : 0, filters: JSON.stringify(input.filters), actions: storedActions(actions), created_at: now, updated_at: now };
      await store.insertPolicy(trx, row).catch((error) => {
        throw isUniqueViolation(error) ? nameTaken(input.name) : error;
      });
      await writeSubjects(trx, tenantId, row.id, input.members, actions);
      const policy = await load(trx, actor, row.id);
      await audit.append(trx, tenantId, { action: 'access_policy.created', actor, target: { type: 'access_policy', id: row.id }, details: { name: row.name, ...auditShape(policy) } });
      return toView(policy);
    });
  }

  /** A page of policies in creation order and the next cursor; filter by a member user or group (named directly), name, enabled. */
  async function list(actor: Actor, query: ListAccessPoliciesQuery) {
    const tenantId = actor.tenantId!;
    const rows = await store.listPolicies(db, tenantId, { userId: query.userId, groupId: query.groupId, q: query.q, enabled: query.enabled === undefined ? undefined : query.enabled === 'true', after: query.cursor, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const subjects = subjectsByPolicy(await store.subjectsOf(db, tenantId, page.map((r) => r.id)));
    return { accessPolicies: page.map((row) => toView(policyFromRows(row, subjects.get(row.id) ?? []))), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }

  /** Changes the fields sent (members, filters and actions each replace the stored value); the audit event names them. */
  async function update(actor: Actor, id: string, patch: PatchAccessPolicyInput) {
    return change(actor, async (trx, tenantId) => {
      const before = await load(trx, actor, id);
      const actions = patch.actions ? toRules(patch.actions) : undefined;
      if (patch.members) await assertSubjects(trx, tenantId, patch.members, 'members');
      if (actions) await assertApprovers(trx, tenantId, actions);
      const changes: Partial<AccessPolicyTable> = {};
      if (patch.name !== undefined && patch.name !== before.name) changes.name = patch.name;
      if (patch.description !== undefined && patch.description !== before.description) changes.description = patch.description;
      if (patch.enabled !== undefined && patch.enabled !== before.enabled) changes.enabled = patch.enabled ? 1 : 0;
      if (patch.filters && JSON.stringify(patch.filters) !== JSON.stringify(before.filters)) changes.filters = JSON.stringify(patch.filters);
      const membersChanged = patch.members !== undefined && JSON.stringify({ users: [...patch.members.users].sort(), groups: [...patch.members.groups].sort() }) !== JSON.stringify(before.members);
      const actionsChanged = actions !== undefined && JSON.stringify(policyShape(actions)) !== JSON.stringify(policyShape(before.actions));
      if (actionsChanged) changes.actions = storedActions(actions!);
      const fields = [...Object.keys(changes), ...(membersChanged ? ['members'] : [])];
      if (fields.length === 0) return toView(before);
      await store.updatePolicy(trx, tenantId, before.id, changes, clock.now()).catch((error) => {
        throw isUniqueViolation(error) ? nameTaken(patch.name!) : error;
      });
      await writeSubjects(trx, tenantId, before.id, membersChanged ? patch.members : undefined, actionsChanged ? actions : undefined);
      const after = await load(trx, actor, before.id);
      await audit.append(trx, tenantId, { action: 'access_policy.updated', actor, target: { type: 'access_policy', id: before.id }, details: { fields: fields.sort(), name: after.name, ...auditShape(after) } });
      return toView(after);
    });
  }

  /** Deletes a policy: what it granted is no longer granted on the next decision. */
  async function remove(actor: Actor, id: string) {
    await change(actor, async (trx, tenantId) => {
      const policy = await load(trx, actor, id);
      await store.deletePolicy(trx, tenantId, policy.id);
      await audit.append(trx, tenantId, { action: 'access_policy.deleted', actor, target: { type: 'access_policy', id: policy.id }, details: { name: policy.name } });
    });
  }

  return { create, list, get: async (actor: Actor, id: string) => toView(await load(db, actor, id)), update, remove, evaluate: decisions.evaluate, decisionFor: decisions.decisionFor, scopeOf: visibility.scopeOf };
}
export type AccessPolicyService = ReturnType<typeof createAccessPolicyService>;

/** Rules in a comparable form: approver ids sorted, so the same rules sent in another order are no change. */
function policyShape(actions: Partial<Record<AccessAction, ActionRule>>) {
  return accessActions.map((action) => {
    const rule = actions[action];
    if (!rule) return null;
    return canonicalRule({ ...rule, levels: rule.levels?.map((l) => ({ required: l.required, approvers: { users: [...l.approvers.users].sort(), groups: [...l.approvers.groups].sort() } })) });
  });
}
