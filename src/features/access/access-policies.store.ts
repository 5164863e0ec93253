import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.js';
import { prepareQuery } from '../../platform/db/prepared.js';
import type { AccessPolicySubjectTable, AccessPolicyTable } from '../../platform/db/schema.js';

/** Stores a new policy (its subjects are written by replaceSubjects). */
export async function insertPolicy(db: DbOrTx, row: AccessPolicyTable): Promise<void> {
  await db.insertInto('access_policies').values(row).execute();
}

/** One policy by id. */
export async function findPolicy(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('access_policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** A page of policies in id (creation) order after the cursor; a member filter is one indexed lookup in the subjects table. */
export async function listPolicies(db: DbOrTx, tenantId: string, filter: { userId?: string; groupId?: string; q?: string; enabled?: boolean; after?: string; limit: number }) {
  let query = db.selectFrom('access_policies as p').selectAll('p').where('p.tenant_id', '=', tenantId);
  for (const [type, id] of [['user', filter.userId], ['group', filter.groupId]] as const) {
    if (id === undefined) continue;
    query = query.where((eb) =>
      eb.exists(
        eb.selectFrom('access_policy_subjects as s').select('s.policy_id')
          .whereRef('s.tenant_id', '=', 'p.tenant_id').where('s.subject_type', '=', type).where('s.subject_id', '=', id).where('s.relation', '=', 'member').whereRef('s.policy_id', '=', 'p.id'),
      ),
    );
  }
  if (filter.enabled !== undefined) query = query.where('p.enabled', '=', filter.enabled ? 1 : 0);
  if (filter.after) query = query.where('p.id', '>', filter.after);
  // A search filter: % or _ typed by the caller only widen the match, which is harmless here.
  if (filter.q) query = query.where((eb) => eb(eb.fn('lower', ['p.name']), 'like', `%${filter.q!.toLowerCase()}%`));
  return query.orderBy('p.id').limit(filter.limit).execute();
}

/** Every policy of the tenant with its subjects, in one statement so policies and subjects come from one snapshot. */
export async function allPoliciesWithSubjects(db: DbOrTx, tenantId: string) {
  const rows = await db
    .selectFrom('access_policies as p')
    .leftJoin('access_policy_subjects as s', (j) => j.onRef('s.tenant_id', '=', 'p.tenant_id').onRef('s.policy_id', '=', 'p.id'))
    .selectAll('p')
    .select(['s.relation', 's.action', 's.level', 's.subject_type', 's.subject_id'])
    .where('p.tenant_id', '=', tenantId)
    .orderBy('p.id')
    .execute();
  const policies = new Map<string, { row: AccessPolicyTable; subjects: AccessPolicySubjectTable[] }>();
  for (const { relation, action, level, subject_type, subject_id, ...row } of rows) {
    const entry = policies.get(row.id) ?? policies.set(row.id, { row, subjects: [] }).get(row.id)!;
    if (relation && subject_type && subject_id) entry.subjects.push({ tenant_id: tenantId, policy_id: row.id, relation, action: action ?? '', level: Number(level), subject_type, subject_id });
  }
  return [...policies.values()];
}

/** Changes a policy's stored fields. */
export async function updatePolicy(db: DbOrTx, tenantId: string, id: string, changes: Partial<Pick<AccessPolicyTable, 'name' | 'description' | 'enabled' | 'filters' | 'actions'>>, now: number): Promise<void> {
  await db.updateTable('access_policies').set({ ...changes, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Removes a policy with its subjects. */
export async function deletePolicy(db: DbOrTx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('access_policy_subjects').where('tenant_id', '=', tenantId).where('policy_id', '=', id).execute();
  await db.deleteFrom('access_policies').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** The subjects of the given policies. */
export async function subjectsOf(db: DbOrTx, tenantId: string, policyIds: readonly string[]) {
  if (policyIds.length === 0) return [];
  return db.selectFrom('access_policy_subjects').selectAll().where('tenant_id', '=', tenantId).where('policy_id', 'in', policyIds).orderBy('policy_id').orderBy('subject_id').execute();
}

/** Replaces the subjects (members, and approvers of one relation) of a policy. */
export async function replaceSubjects(db: DbOrTx, tenantId: string, policyId: string, relation: AccessPolicySubjectTable['relation'], rows: AccessPolicySubjectTable[]): Promise<void> {
  await db.deleteFrom('access_policy_subjects').where('tenant_id', '=', tenantId).where('policy_id', '=', policyId).where('relation', '=', relation).execute();
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('access_policy_subjects').values(rows.slice(i, i + 500)).execute();
}

/** Counts a change of the tenant's policies, so every node's compiled cache reloads them. */
export async function bumpRevision(db: DbOrTx, tenantId: string): Promise<void> {
  await db
    .insertInto('access_policy_revisions')
    .values({ tenant_id: tenantId, revision: 1 })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ revision: sql<number>`access_policy_revisions.revision + 1` }))
    .execute();
}

/** The tenant's policy revision (0 before the first change). */
export async function revisionOf(db: DbOrTx, tenantId: string): Promise<number> {
  const row = (await revisionRow(db, tenantId))[0];
  return row ? Number(row.revision) : 0;
}
// Compiled once: every decision reads it.
const revisionRow = prepareQuery(1, (db: DbOrTx, tenantId: string) => db.selectFrom('access_policy_revisions').select('revision').where('tenant_id', '=', tenantId));
