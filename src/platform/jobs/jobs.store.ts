import { sql, type Insertable } from 'kysely';
import type { DbOrTx, DialectName } from '../db/database.js';
import type { JobTable } from '../db/schema.js';
import type { JobStatus, Lease } from './job.types.js';

const expiredNote = 'lease expired on the last attempt (the worker stopped without finishing); previous error: ';

/** Filters for listing jobs; tenantId scopes a tenant's view, leaving it out is the operator's view. */
export interface JobFilter {
  tenantId?: string | null;
  kind?: string;
  status?: JobStatus;
  limit?: number;
}

/** The SQL behind the queue; every function takes the executor so it runs inside a caller's transaction. */
export function createJobsStore({ dialect }: { dialect: DialectName }) {
  // A lease is only honoured for the claim it was issued for: same owner AND same attempt, still running.
  const holding = (db: DbOrTx, lease: Lease) =>
    db
      .updateTable('jobs')
      .where('id', '=', lease.jobId)
      .where('lease_owner', '=', lease.owner)
      .where('attempts', '=', lease.attempt)
      .where('status', '=', 'running');

  return {
    /** Inserts unless the unique key is taken; answers whether a row was added. */
    async insert(db: DbOrTx, row: Insertable<JobTable>): Promise<boolean> {
      const inserted = await db
        .insertInto('jobs')
        .values(row)
        .onConflict((oc) => oc.column('unique_key').doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async findById(db: DbOrTx, id: string, tenantId?: string | null): Promise<JobTable | undefined> {
      return db
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', id)
        .$if(tenantId !== undefined, (q) => q.where('tenant_id', tenantId === null ? 'is' : '=', tenantId!))
        .executeTakeFirst();
    },

    async findByUniqueKey(db: DbOrTx, uniqueKey: string): Promise<JobTable | undefined> {
      return db.selectFrom('jobs').selectAll().where('unique_key', '=', uniqueKey).executeTakeFirst();
    },

    async list(db: DbOrTx, filter: JobFilter): Promise<JobTable[]> {
      const { tenantId, kind, status } = filter;
      return db
        .selectFrom('jobs')
        .selectAll()
        .$if(tenantId !== undefined, (q) => q.where('tenant_id', tenantId === null ? 'is' : '=', tenantId!))
        .$if(kind !== undefined, (q) => q.where('kind', '=', kind!))
        .$if(status !== undefined, (q) => q.where('status', '=', status!))
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(filter.limit ?? 100)
        .execute();
    },

    /**
     * A job whose worker vanished on its last allowed attempt is failed rather than run again, so a job that
     * crashes its process cannot take the fleet down in a loop.
     */
    async failExhaustedLeases(db: DbOrTx, now: number): Promise<number> {
      const result = await db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'failed',
          last_error: sql<string>`cast(${expiredNote} as text) || coalesce(${eb.ref('last_error')}, 'none')`,
          lease_owner: null,
          lease_expires_at: null,
          finished_at: now,
          updated_at: now,
        }))
        .where('status', '=', 'running')
        .where('lease_expires_at', '<=', now)
        .whereRef('attempts', '>=', 'max_attempts')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /**
     * Takes the oldest due job: queued and due, or running with an expired lease (its worker died).
     * On PostgreSQL SKIP LOCKED lets concurrent claimers pass each other instead of queueing on one row;
     * SQLite serialises writers, so the single statement is already exclusive there.
     */
    async claim(db: DbOrTx, owner: string, now: number, leaseMs: number): Promise<JobTable | undefined> {
      const next = db
        .selectFrom('jobs')
        .select('id')
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]),
            eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<=', now), eb('attempts', '<', eb.ref('max_attempts'))]),
          ]),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(1)
        .$if(dialect === 'postgres', (q) => q.forUpdate().skipLocked());
      return db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          attempts: eb('attempts', '+', 1),
          lease_owner: owner,
          lease_expires_at: now + leaseMs,
          updated_at: now,
        }))
        .where('id', '=', next)
        .returningAll()
        .executeTakeFirst();
    },

    async extendLease(db: DbOrTx, lease: Lease, now: number, leaseMs: number): Promise<boolean> {
      const result = await holding(db, lease).set({ lease_expires_at: now + leaseMs, updated_at: now }).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async succeed(db: DbOrTx, lease: Lease, now: number): Promise<boolean> {
      const result = await holding(db, lease)
        .set({ status: 'succeeded', lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now })
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Records a failure: back to 'queued' at retryAt, or 'failed' for good when retryAt is null. */
    async recordFailure(db: DbOrTx, lease: Lease, error: string, now: number, retryAt: number | null): Promise<JobTable | undefined> {
      const outcome = retryAt === null ? { status: 'failed' as const, finished_at: now } : { status: 'queued' as const, run_at: retryAt };
      return holding(db, lease)
        .set({ ...outcome, last_error: error, lease_owner: null, lease_expires_at: null, updated_at: now })
        .returningAll()
        .executeTakeFirst();
    },

    /** Cancels a job that has not finished; a running one's worker is fenced out and sees its lease lost. */
    async cancel(db: DbOrTx, id: string, now: number, tenantId?: string | null): Promise<boolean> {
      const result = await db
        .updateTable('jobs')
        .set({ status: 'cancelled', lease_owner: null, lease_expires_at: null, finished_at: now, updated_at: now })
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'running'])
        .$if(tenantId !== undefined, (q) => q.where('tenant_id', tenantId === null ? 'is' : '=', tenantId!))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

/** The store's functions, as the queue receives them. */
export type JobsStore = ReturnType<typeof createJobsStore>;
