import type { AccessPolicySubjectTable, AccessPolicyTable } from '../../platform/db/schema.js';
import { accessActions, type AccessAction, type AccessPolicy, type ActionRule, type PolicyFilters, type SubjectIds } from './access-engine.js';

/** An action rule as stored: approval levels keep only their count; their approvers are subject rows. */
type StoredRule = Omit<ActionRule, 'levels'> & { levels?: { required: number }[] };

/** A rule with its keys in one order and absent ones left out, so equal rules serialise (and compare) equal. */
export function canonicalRule(rule: ActionRule): ActionRule {
  return {
    mode: rule.mode,
    ...(rule.levels ? { levels: rule.levels } : {}),
    ...(rule.approvalValidMinutes !== undefined ? { approvalValidMinutes: rule.approvalValidMinutes } : {}),
    ...(rule.timeRestriction ? { timeRestriction: rule.timeRestriction } : {}),
    emergencyAllowed: rule.emergencyAllowed,
    // Only when asked for, so policies stored before the step-up existed read back unchanged.
    ...(rule.totpStepUp ? { totpStepUp: true } : {}),
  };
}

/** The actions JSON to store: approvers leave the JSON for the subjects table. */
export function storedActions(actions: Partial<Record<AccessAction, ActionRule>>): string {
  const out: Partial<Record<AccessAction, StoredRule>> = {};
  for (const action of accessActions) {
    const rule = actions[action];
    if (rule) out[action] = { ...rule, ...(rule.levels ? { levels: rule.levels.map((l) => ({ required: l.required })) } : {}) };
  }
  return JSON.stringify(out);
}

const subject = (tenantId: string, policyId: string, relation: AccessPolicySubjectTable['relation'], action: string, level: number) => (type: 'user' | 'group') => (id: string): AccessPolicySubjectTable => ({
  tenant_id: tenantId, policy_id: policyId, relation, action, level, subject_type: type, subject_id: id,
});

/** The member rows of a policy. */
export function memberRows(tenantId: string, policyId: string, members: SubjectIds): AccessPolicySubjectTable[] {
  const row = subject(tenantId, policyId, 'member', '', 0);
  return [...members.users.map(row('user')), ...members.groups.map(row('group'))];
}

/** The approver rows of every approval level of every action (levels numbered from 1). */
export function approverRows(tenantId: string, policyId: string, actions: Partial<Record<AccessAction, ActionRule>>): AccessPolicySubjectTable[] {
  return accessActions.flatMap((action) =>
    (actions[action]?.levels ?? []).flatMap((level, i) => {
      const row = subject(tenantId, policyId, 'approver', action, i + 1);
      return [...level.approvers.users.map(row('user')), ...level.approvers.groups.map(row('group'))];
    }),
  );
}

/** A stored policy with its subject rows, as the engine and the views read it (ids sorted). */
export function policyFromRows(row: AccessPolicyTable, subjects: readonly AccessPolicySubjectTable[]): AccessPolicy & { name: string; description: string | null; createdAt: number; updatedAt: number } {
  const pick = (relation: string, action: string, level: number): SubjectIds => {
    const mine = subjects.filter((s) => s.relation === relation && s.action === action && Number(s.level) === level);
    return { users: mine.filter((s) => s.subject_type === 'user').map((s) => s.subject_id).sort(), groups: mine.filter((s) => s.subject_type === 'group').map((s) => s.subject_id).sort() };
  };
  const stored = JSON.parse(row.actions) as Partial<Record<AccessAction, StoredRule>>;
  const actions: Partial<Record<AccessAction, ActionRule>> = {};
  for (const action of accessActions) {
    const rule = stored[action];
    if (!rule) continue;
    actions[action] = canonicalRule({ ...rule, levels: rule.levels?.map((l, i) => ({ approvers: pick('approver', action, i + 1), required: l.required })) });
  }
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: Number(row.enabled) === 1,
    members: pick('member', '', 0),
    filters: JSON.parse(row.filters) as PolicyFilters,
    actions,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Groups subject rows by policy id. */
export function subjectsByPolicy(rows: readonly AccessPolicySubjectTable[]): Map<string, AccessPolicySubjectTable[]> {
  const by = new Map<string, AccessPolicySubjectTable[]>();
  for (const row of rows) (by.get(row.policy_id) ?? by.set(row.policy_id, []).get(row.policy_id)!).push(row);
  return by;
}
