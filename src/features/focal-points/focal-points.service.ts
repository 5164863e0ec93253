import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import { conflict, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import { FOCAL_POINT_LIMIT, type CreateFocalPointInput, type ListFocalPointsQuery, type PatchFocalPointInput } from './focal-points.schemas.js';
import * as focalPoints from './focal-points.store.js';
import type { FocalPointTable } from '../../platform/db/schema.js';

const iso = (ms: number) => new Date(ms).toISOString();

function toView(row: FocalPointTable) {
  return { id: row.id, name: row.name, email: row.email, phone: row.phone, topics: JSON.parse(row.topics) as string[], createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) };
}

const focalPointNotFound = (id: string) => notFound('FOCAL_POINT_NOT_FOUND', `No focal point ${id} in this tenant.`);

/** The tenant's named contacts, reached by the provider and by notifications about their topics; every change is audited. */
export function createFocalPointService(deps: { db: Db; audit: AuditLog; clock: Clock }) {
  const { db, audit, clock } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;

  async function load(trx: DbOrTx, actor: Actor, id: string) {
    const row = isId(id) ? await focalPoints.findFocalPoint(trx, tenantOf(actor), id) : undefined;
    if (!row) throw focalPointNotFound(id);
    return row;
  }

  /** Adds a focal point; a tenant holds at most FOCAL_POINT_LIMIT of them. */
  async function create(actor: Actor, input: CreateFocalPointInput) {
    const tenantId = tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const row: FocalPointTable = { tenant_id: tenantId, id: newId(now), name: input.name, email: input.email, phone: input.phone ?? null, topics: JSON.stringify(input.topics), created_at: now, updated_at: now };
      // The audit append goes first: it takes the tenant's audit head lock, so concurrent creates of one tenant
      // count one after another and the limit holds on PostgreSQL too (a refusal rolls the event back).
      await audit.append(trx, tenantId, { action: 'focal_point.created', actor, target: { type: 'focal_point', id: row.id }, details: { name: row.name, topics: input.topics } });
      if ((await focalPoints.countFocalPoints(trx, tenantId)) >= FOCAL_POINT_LIMIT) {
        throw conflict('FOCAL_POINT_LIMIT', `A tenant has at most ${FOCAL_POINT_LIMIT} focal points; remove one before adding another.`);
      }
      await focalPoints.insertFocalPoint(trx, row);
      return toView(row);
    });
  }

  /** The tenant's focal points in creation order, optionally only those reached about one topic. */
  async function list(actor: Actor, query: ListFocalPointsQuery) {
    return (await focalPoints.listFocalPoints(db, tenantOf(actor), { topic: query.topic })).map(toView);
  }

  /** One focal point of the caller's tenant; another tenant's id answers 404. */
  async function get(actor: Actor, id: string) {
    return toView(await load(db, actor, id));
  }

  /** Changes the given fields; the audit event names the fields that changed. */
  async function update(actor: Actor, id: string, patch: PatchFocalPointInput) {
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      const after: FocalPointTable = {
        ...row,
        name: patch.name ?? row.name,
        email: patch.email ?? row.email,
        phone: patch.phone === undefined ? row.phone : patch.phone,
        topics: patch.topics ? JSON.stringify(patch.topics) : row.topics,
      };
      const changed = (['name', 'email', 'phone', 'topics'] as const).filter((field) => after[field] !== row[field]);
      if (changed.length === 0) return toView(row);
      after.updated_at = clock.now();
      await focalPoints.updateFocalPoint(trx, row.tenant_id, row.id, { name: after.name, email: after.email, phone: after.phone, topics: after.topics }, after.updated_at);
      await audit.append(trx, row.tenant_id, { action: 'focal_point.updated', actor, target: { type: 'focal_point', id: row.id }, details: { fields: [...changed] } });
      return toView(after);
    });
  }

  /** Removes a focal point. */
  async function remove(actor: Actor, id: string) {
    await db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      await focalPoints.deleteFocalPoint(trx, row.tenant_id, row.id);
      await audit.append(trx, row.tenant_id, { action: 'focal_point.deleted', actor, target: { type: 'focal_point', id: row.id }, details: { name: row.name } });
    });
  }

  return { create, list, get, update, remove };
}
export type FocalPointService = ReturnType<typeof createFocalPointService>;
