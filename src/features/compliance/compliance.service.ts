import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import { notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import { findPolicy } from '../access/access-policies.store.js';
import { listTenants } from '../tenants/tenants.store.js';
import { overallScore, utcDay, type ComplianceReport, type ControlStatus } from './compliance.controls.js';
import type { ReportsQuery, ReviewInput } from './compliance.schemas.js';
import * as store from './compliance.store.js';
import { adminCountControl, allowlistControl, focalPointControl, inactivityControl, mfaControl, siemControl, type SiemHealth } from './compliance.tenant-checks.js';
import { approvalControl, credentialAgeControl, loadAccessPolicies, outOfSyncControl, reviewControl } from './compliance.vault-checks.js';

const iso = (ms: number) => new Date(ms).toISOString();
const policyNotFound = (id: string) => notFound('ACCESS_POLICY_NOT_FOUND', `No access policy ${id} in this tenant.`);
const KEEPER = 'compliance.keep-daily';

/** A kept control: its score and how many offenders it had that day. */
interface KeptControl {
  id: string;
  status: ControlStatus;
  score: number;
  offenderCount: number;
}

/**
 * The compliance report: computed on demand from every feature's current state (read through their stores),
 * kept once a day per tenant for the trend, and the review (attestation) of access policies it asks for.
 */
export function createComplianceService(deps: { db: Db; audit: AuditLog; clock: Clock; siemHealth: SiemHealth }) {
  const { db, audit, clock } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;

  /** Every control of the tenant's report, as of now. */
  async function compute(trx: DbOrTx, tenantId: string): Promise<ComplianceReport> {
    const now = clock.now();
    const [enabledUsers, policies] = await Promise.all([store.countEnabledUsers(trx, tenantId), loadAccessPolicies(trx, tenantId)]);
    // One after another: on SQLite every statement shares one connection, and on PostgreSQL a transaction has one.
    const controls = [
      await mfaControl(trx, tenantId, enabledUsers),
      await inactivityControl(trx, tenantId, enabledUsers, now),
      await adminCountControl(trx, tenantId, enabledUsers),
      await credentialAgeControl(trx, tenantId, now),
      await outOfSyncControl(trx, tenantId, now),
      await approvalControl(trx, tenantId, policies, now),
      await reviewControl(trx, tenantId, policies, now),
      await focalPointControl(trx, tenantId),
      await siemControl(trx, tenantId, deps.siemHealth),
      await allowlistControl(trx, tenantId),
    ];
    return { generatedAt: now, score: overallScore(controls), controls };
  }

  /** The caller's tenant's report, as of now. */
  async function report(actor: Actor) {
    const computed = await compute(db, tenantOf(actor));
    return { ...computed, generatedAt: iso(computed.generatedAt) };
  }

  /**
   * Stores each tenant's report for today (UTC): one row per tenant per day, a re-run replaces it. The first run
   * of a day appends compliance.report.kept; later runs that day add no event, so the log gets one per tenant per day.
   */
  async function keepDaily(): Promise<number> {
    let kept = 0;
    for (const tenant of await listTenants(db)) {
      if (tenant.status !== 'active') continue;
      // Computed outside the transaction: on SQLite an open transaction holds the one connection every request needs.
      const computed = await compute(db, tenant.id);
      await db.transaction().execute(async (trx) => {
        const day = utcDay(computed.generatedAt);
        const controls: KeptControl[] = computed.controls.map((c) => ({ id: c.id, status: c.status, score: c.score, offenderCount: c.offenderCount }));
        if (!(await store.hasReport(trx, tenant.id, day))) {
          const failing = controls.filter((c) => c.status === 'fail').map((c) => c.id);
          await audit.append(trx, tenant.id, { action: 'compliance.report.kept', actor: { kind: 'system', tenantId: tenant.id, id: KEEPER, ip: null }, target: { type: 'compliance_report', id: day }, details: { day, score: computed.score, failing } });
        }
        await store.upsertReport(trx, { tenant_id: tenant.id, day, score: computed.score, controls: JSON.stringify(controls), generated_at: computed.generatedAt });
      });
      kept += 1;
    }
    return kept;
  }

  /** The kept reports of the caller's tenant between two days, newest first. */
  async function kept(actor: Actor, query: ReportsQuery) {
    const rows = await store.listReports(db, tenantOf(actor), query);
    return rows.map((r) => ({ day: r.day, score: Number(r.score), generatedAt: iso(Number(r.generated_at)), controls: JSON.parse(r.controls) as KeptControl[] }));
  }

  /** Records that the caller reviewed an access policy of their tenant and found it right; another tenant's id answers 404. */
  async function review(actor: Actor, policyId: string, input: ReviewInput) {
    const tenantId = tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const policy = isId(policyId) ? await findPolicy(trx, tenantId, policyId) : undefined;
      if (!policy) throw policyNotFound(policyId);
      const now = clock.now();
      const row = { tenant_id: tenantId, id: newId(now), policy_id: policy.id, reviewer_id: actor.id, comment: input.comment ?? null, reviewed_at: now };
      await audit.append(trx, tenantId, { action: 'access_policy.reviewed', actor, target: { type: 'access_policy', id: policy.id }, details: { name: policy.name, comment: row.comment } });
      await store.insertReview(trx, row);
      return { id: row.id, policyId: row.policy_id, reviewerId: row.reviewer_id, comment: row.comment, reviewedAt: iso(now) };
    });
  }

  return { report, compute, keepDaily, kept, review };
}
export type ComplianceService = ReturnType<typeof createComplianceService>;
