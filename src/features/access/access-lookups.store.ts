import type { DbOrTx } from '../../platform/db/database.js';
import { prepareQuery } from '../../platform/db/prepared.js';

// Read-only queries on identity's and the vault's tables: policies name users and groups and are evaluated
// against credentials and devices, and reading those rows directly keeps the reveal path to a few indexed reads.

/** Which of the given ids are users of the tenant. */
export async function existingUsers(db: DbOrTx, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

/** Which of the given ids are groups of the tenant. */
export async function existingGroups(db: DbOrTx, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('groups').select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

/** The distinct users among those named and the members of the groups named: who can approve a level. */
export async function peopleAmong(db: DbOrTx, tenantId: string, userIds: readonly string[], groupIds: readonly string[]): Promise<Set<string>> {
  const people = new Set(userIds);
  if (groupIds.length > 0) {
    const rows = await db.selectFrom('group_members').select('user_id').where('tenant_id', '=', tenantId).where('group_id', 'in', groupIds).execute();
    for (const row of rows) people.add(row.user_id);
  }
  return people;
}

/** A user's username and group ids, and the tenant's policy revision, in one read (undefined: no such user in the tenant). */
export async function subjectOf(db: DbOrTx, tenantId: string, userId: string) {
  const rows = await subjectRows(db, tenantId, userId);
  if (rows.length === 0) return undefined;
  const subject = { userId: rows[0]!.id, username: rows[0]!.username, groupIds: rows.flatMap((r) => (r.group_id ? [r.group_id] : [])).sort() };
  return { subject, policyRevision: Number(rows[0]!.policy_revision ?? 0) };
}
// Compiled once, like the target's query: every reveal evaluates its caller. The revision rides along to save a round trip.
const subjectRows = prepareQuery(2, (db: DbOrTx, tenantId: string, userId: string) =>
  db
    .selectFrom('users as u')
    .leftJoin('group_members as m', (j) => j.onRef('m.tenant_id', '=', 'u.tenant_id').onRef('m.user_id', '=', 'u.id'))
    .select(['u.id', 'u.username', 'm.group_id'])
    .select((eb) => eb.selectFrom('access_policy_revisions as r').select('r.revision').where('r.tenant_id', '=', tenantId).as('policy_revision'))
    .where('u.tenant_id', '=', tenantId)
    .where('u.id', '=', userId),
);

// One row per pair of tags (a credential and its device carry a handful each), so one round trip reads everything.
const targetRows = prepareQuery(2, (db: DbOrTx, tenantId: string, credentialId: string) =>
  db
    .selectFrom('credentials as c')
    .innerJoin('devices as d', (j) => j.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.device_id'))
    .leftJoin('credential_tags as ct', (j) => j.onRef('ct.tenant_id', '=', 'c.tenant_id').onRef('ct.credential_id', '=', 'c.id'))
    .leftJoin('device_tags as dt', (j) => j.onRef('dt.tenant_id', '=', 'd.tenant_id').onRef('dt.device_id', '=', 'd.id'))
    .select(['c.id', 'c.username', 'c.type', 'c.device_id', 'd.name', 'd.site', 'd.type as device_type', 'ct.tag as credential_tag', 'dt.tag as device_tag'])
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', '=', credentialId),
);

/** A credential with its device's attributes and both sets of tags, in one read, or undefined. */
export async function targetOf(db: DbOrTx, tenantId: string, credentialId: string) {
  const rows = await targetRows(db, tenantId, credentialId);
  const row = rows[0];
  if (!row) return undefined;
  const tags = (pick: (r: (typeof rows)[number]) => string | null) => [...new Set(rows.flatMap((r) => (pick(r) === null ? [] : [pick(r)!])))].sort();
  return {
    credentialId: row.id,
    device: { id: row.device_id, name: row.name, site: row.site, type: row.device_type, tags: tags((r) => r.device_tag) },
    credential: { username: row.username, type: row.type, tags: tags((r) => r.credential_tag) },
  };
}
