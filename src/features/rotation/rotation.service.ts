import { systemActor, type Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { RotationTable, RotationTrigger } from '../../platform/db/schema.rotation.js';
import { conflict, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import { matchingPolicies } from '../vault/credential-policies.matching.js';
import { inRotationWindow } from '../vault/credential-policies.windows.js';
import { credentialNotFound } from '../vault/credentials.service.js';
import * as credentials from '../vault/credentials.store.js';
import * as devices from '../vault/devices.store.js';
import { pluginFor, rotationPlugins } from './plugins/index.js';
import { policyTarget, tenantPolicies } from './rotation.policies.js';
import { reconciliationOf } from './reconciliation.js';
import * as store from './rotation.store.js';

/** The job kind that runs one rotation. */
export const ROTATION_JOB = 'rotation.run';
const DAY = 86_400_000;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A rotation as callers see it: an allowlist, never a secret (not even whether one is pending beyond a flag). */
export function toRotationView(row: RotationTable) {
  return {
    id: row.id, credentialId: row.credential_id, deviceId: row.device_id, trigger: row.trigger, state: row.state, step: row.step, attempts: row.attempts,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null, hasPendingSecret: row.pending_secret_sealed !== null,
    fromVersion: row.from_version, toVersion: row.to_version, requestedBy: row.requested_by,
    createdAt: iso(row.created_at)!, updatedAt: iso(row.updated_at)!, startedAt: iso(row.started_at), finishedAt: iso(row.finished_at),
  };
}
export type RotationView = ReturnType<typeof toRotationView>;

const rotationNotFound = (id: string) => notFound('ROTATION_NOT_FOUND', `No rotation ${id} in this tenant; list a credential's rotations with GET /api/v1/credentials/{id}/rotations.`);

/**
 * Rotation requests and their history: a manual request, the sweeps that schedule overdue and flagged credentials
 * (inside their policy's rotation windows), cancellation while scheduled. Each request is a rotation row and its job,
 * committed together with the audit event.
 */
export function createRotationService(deps: { db: Db; audit: AuditLog; clock: Clock; queue: Pick<JobQueue, 'enqueue' | 'cancel'>; maxAttempts?: number; plugins?: typeof rotationPlugins }) {
  const { db, audit, clock, queue } = deps;
  const maxAttempts = deps.maxAttempts ?? 5;
  const plugins = deps.plugins ?? rotationPlugins;

  /** Adds a scheduled rotation and its job in the caller's transaction; a credential already being rotated answers 409. */
  async function schedule(trx: DbOrTx, actor: Actor, tenantId: string, credentialId: string, trigger: RotationTrigger) {
    const cred = isId(credentialId) ? await credentials.findCredential(trx, tenantId, credentialId) : undefined;
    if (!cred) throw credentialNotFound(credentialId);
    const device = (await devices.findDevice(trx, tenantId, cred.device_id))!;
    if (!pluginFor(device.protocol, cred.type, plugins)) {
      throw invalid('ROTATION_UNSUPPORTED', `Custos cannot rotate a ${cred.type} credential on a ${device.protocol} device (it rotates ssh passwords and keys, postgres and mysql passwords).`);
    }
    if (trigger === 'reconcile' && !reconciliationOf(cred)) {
      throw invalid('ROTATION_RECONCILE_NOT_SET', 'The credential names no reconciliation credential: set additionalInfo.reconcileCredentialId to another credential of the same device allowed to reset this account.');
    }
    if (!cred.secret_sealed) throw invalid('ROTATION_NO_SECRET', 'The credential has no secret yet: Custos logs in with the current secret to rotate it. Set one first (POST /api/v1/credentials/{id}/secret).');
    // The credential row's lock (a no-op update) orders concurrent requests, so only one becomes the active rotation.
    await credentials.updateCredential(trx, tenantId, cred.id, { updated_at: cred.updated_at });
    const active = await store.activeRotationOf(trx, tenantId, cred.id);
    if (active) throw conflict('ROTATION_IN_PROGRESS', `Credential ${cred.id} already has rotation ${active.id} (${active.state}); wait for it or cancel it (POST /api/v1/rotations/${active.id}/cancel).`);
    const now = clock.now();
    const id = newId(now);
    const { job } = await queue.enqueue({ kind: ROTATION_JOB, tenantId, payload: { tenantId, rotationId: id }, maxAttempts, uniqueKey: `rotation:${id}` }, trx);
    const row: RotationTable = {
      tenant_id: tenantId, id, credential_id: cred.id, device_id: cred.device_id, trigger, state: 'scheduled', step: 'none', attempts: 0, error_code: null, error_message: null,
      pending_secret_sealed: null, pending_passphrase_sealed: null, from_version: cred.version, to_version: null, job_id: job.id, requested_by: actor.id, created_at: now, updated_at: now, started_at: null, finished_at: null,
    };
    await store.insertRotation(trx, row);
    await audit.append(trx, tenantId, { action: 'rotation.scheduled', actor, target: { type: 'credential', id: cred.id }, details: { rotationId: id, trigger } });
    return row;
  }

  /** POST /credentials/{id}/rotate: schedules a rotation now, whatever the rotation windows say. */
  async function request(actor: Actor, credentialId: string): Promise<RotationView> {
    const tenantId = actor.tenantId!;
    return toRotationView(await db.transaction().execute((trx) => schedule(trx, actor, tenantId, credentialId, 'manual')));
  }

  /** POST /credentials/{id}/reconcile: resets the account now with its reconciliation credential (it need not be out of sync). */
  async function reconcile(actor: Actor, credentialId: string): Promise<RotationView> {
    const tenantId = actor.tenantId!;
    return toRotationView(await db.transaction().execute((trx) => schedule(trx, actor, tenantId, credentialId, 'reconcile')));
  }

  /**
   * The heartbeat's follow-up on a credential it found out of sync: schedules a reset when the credential names a
   * reconciliation credential, unless a rotation is active or a reset failed in the last day. Answers whether it did.
   */
  async function reconcileOutOfSync(tenantId: string, credentialId: string): Promise<boolean> {
    const cred = await credentials.findCredential(db, tenantId, credentialId);
    if (!cred || !reconciliationOf(cred)) return false;
    if ((await store.credentialsFailedSince(db, tenantId, [cred.id], clock.now() - DAY, 'reconcile')).size > 0) return false;
    try {
      await db.transaction().execute((trx) => schedule(trx, systemActor, tenantId, cred.id, 'reconcile'));
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'ROTATION_IN_PROGRESS') return false;
      throw error;
    }
  }

  /** One rotation of the caller's tenant. */
  async function get(actor: Actor, id: string): Promise<RotationView> {
    const row = isId(id) ? await store.findRotation(db, actor.tenantId!, id) : undefined;
    if (!row) throw rotationNotFound(id);
    return toRotationView(row);
  }

  /** A credential's rotations, newest first. */
  async function history(actor: Actor, credentialId: string, page: { cursor?: string; limit: number }) {
    const tenantId = actor.tenantId!;
    const cred = isId(credentialId) ? await credentials.findCredential(db, tenantId, credentialId) : undefined;
    if (!cred) throw credentialNotFound(credentialId);
    const rows = await store.listRotations(db, tenantId, cred.id, { before: page.cursor, limit: page.limit + 1 });
    const items = rows.slice(0, page.limit).map(toRotationView);
    return { rotations: items, nextCursor: rows.length > page.limit ? items[items.length - 1]!.id : null };
  }

  /** The heartbeat's last check of a credential's stored secret (null: never checked). */
  async function heartbeatOf(actor: Actor, credentialId: string) {
    const tenantId = actor.tenantId!;
    const cred = isId(credentialId) ? await credentials.findCredential(db, tenantId, credentialId) : undefined;
    if (!cred) throw credentialNotFound(credentialId);
    const row = await db.selectFrom('credential_heartbeats').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', cred.id).executeTakeFirst();
    return row ? { status: row.status, errorCode: row.error_code, checkedAt: iso(row.checked_at)!, changedAt: iso(row.changed_at)! } : null;
  }

  /** Cancels a rotation that has not started; once running it cannot be (the target may be mid-change). */
  async function cancel(actor: Actor, id: string): Promise<RotationView> {
    const tenantId = actor.tenantId!;
    const view = await db.transaction().execute(async (trx) => {
      const row = isId(id) ? await store.findRotation(trx, tenantId, id) : undefined;
      if (!row) throw rotationNotFound(id);
      const now = clock.now();
      // A scheduled rotation holding a pending secret may have changed its target already: it must settle, not stop.
      const cancelled = row.state === 'scheduled' && row.pending_secret_sealed === null && (await store.updateRotation(trx, tenantId, id, { state: 'cancelled', finished_at: now, updated_at: now }, ['scheduled']));
      if (!cancelled) throw conflict('ROTATION_NOT_CANCELLABLE', `Rotation ${id} is ${row.state}${row.pending_secret_sealed ? ' with a change in flight' : ''}; only a scheduled rotation that has not started can be cancelled.`);
      await audit.append(trx, tenantId, { action: 'rotation.cancelled', actor, target: { type: 'credential', id: row.credential_id }, details: { rotationId: id } });
      return toRotationView((await store.findRotation(trx, tenantId, id))!);
    });
    // After the commit (the queue writes through its own connection); a job left behind finds the rotation cancelled and ends.
    const jobId = (await store.findRotation(db, tenantId, id))?.job_id;
    if (jobId) await queue.cancel(jobId, tenantId);
    return view;
  }

  /**
   * The leader's sweep: schedules flagged credentials (needs_rotation, set after a reveal or check-in) and those older
   * than their policy's maxAgeDays, each only inside its policy's rotation windows and never while it is checked out
   * or inside an approved access window (it is rotated when that ends: trigger window-end). Answers how many it scheduled.
   */
  async function sweep(options: { limit?: number } = {}): Promise<number> {
    const limit = options.limit ?? 500;
    const now = clock.now();
    const tenants = await db.selectFrom('credentials').select('tenant_id').distinct().where('secret_sealed', 'is not', null).execute();
    let scheduled = 0;
    for (const { tenant_id: tenantId } of tenants) {
      const policies = await tenantPolicies(db, tenantId);
      const maxAges = policies.map((p) => p.rules.maxAgeDays).filter((days) => days > 0);
      // Candidates: flagged, or older than the shortest maximum age any policy sets (the exact rule is checked below).
      const oldest = maxAges.length > 0 ? now - Math.min(...maxAges) * DAY : null;
      let query = db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('secret_sealed', 'is not', null).where('status', '=', 'active');
      query = query.where((eb) => (oldest === null ? eb('needs_rotation', '=', 1) : eb.or([eb('needs_rotation', '=', 1), eb('secret_changed_at', '<', oldest)])));
      const candidates = await query.orderBy('id').limit(limit).execute();
      const ids = candidates.map((c) => c.id);
      // A rotation that failed for good is not retried by the sweep for a day: it would only fail again every five minutes.
      // One in use (checked out, or inside an approved access window) waits until the use ends.
      const [active, failed, inUse] = await Promise.all([store.credentialsWithActiveRotation(db, tenantId, ids), store.credentialsFailedSince(db, tenantId, ids, now - DAY), store.credentialsInUse(db, tenantId, ids, now)]);
      const busy = new Set([...active, ...failed, ...inUse]);
      for (const cred of candidates) {
        if (busy.has(cred.id) || scheduled >= limit) continue;
        const device = await devices.findDevice(db, tenantId, cred.device_id);
        if (!device || !pluginFor(device.protocol, cred.type, plugins)) continue;
        const rules = matchingPolicies(policies, await policyTarget(db, tenantId, cred, device))[0]?.rules;
        const overdue = rules !== undefined && rules.maxAgeDays > 0 && (cred.secret_changed_at ?? 0) < now - rules.maxAgeDays * DAY;
        if (cred.needs_rotation !== 1 && !overdue) continue;
        if (!inRotationWindow(rules?.rotationWindows ?? [], now)) continue;
        const trigger: RotationTrigger = cred.needs_rotation === 1 ? await flaggedBy(tenantId, cred.id, cred.secret_changed_at ?? 0) : 'max-age';
        try {
          await db.transaction().execute((trx) => schedule(trx, systemActor, tenantId, cred.id, trigger));
          scheduled += 1;
        } catch (error) {
          // A manual request that won the race is fine; anything else is left for the next sweep.
          if ((error as { code?: string }).code !== 'ROTATION_IN_PROGRESS') throw error;
        }
      }
    }
    return scheduled;
  }

  /** Why a credential is flagged: an approved access window or a check-in that ended since its secret last changed, otherwise a reveal. */
  async function flaggedBy(tenantId: string, credentialId: string, since: number): Promise<RotationTrigger> {
    const window = await db.selectFrom('access_requests').select('id').where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).where('valid_until', '>=', since).where('valid_until', '<=', clock.now()).where('valid_from', 'is not', null).executeTakeFirst();
    if (window) return 'window-end';
    const checkin = await db.selectFrom('credential_checkouts').select('id').where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).where('checked_in_at', '>=', since).executeTakeFirst();
    return checkin ? 'after-checkin' : 'after-reveal';
  }

  return { schedule, request, reconcile, reconcileOutOfSync, get, history, heartbeatOf, cancel, sweep };
}

/** Rotation requests, history and sweeps. */
export type RotationService = ReturnType<typeof createRotationService>;
