import { sql } from 'kysely';
import type { Db, DialectName, Tx } from './database.js';

interface Waiting {
  work: (trx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Short write transactions of concurrent requests, committed together on SQLite: the work that arrives while a
 * batch commits runs in the next batch, one BEGIN and one COMMIT for all of it, each piece in its own savepoint so
 * that one's failure rolls back only its own writes. Every piece is answered after the COMMIT that holds it (so a
 * reveal's audit event is durable before its secret leaves), and a failed COMMIT fails every piece of its batch.
 * SQLite has one writer and one connection anyway; the batch saves a commit (its WAL write) per piece. On
 * PostgreSQL each piece is its own transaction: connections work in parallel there.
 */
export function createGroupCommit(database: { db: Db; dialect: DialectName }) {
  const { db } = database;
  let waiting: Waiting[] = [];
  let draining = false;

  async function runBatch(batch: Waiting[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await db.transaction().execute(async (trx) => {
        for (const piece of batch) {
          await sql`savepoint custos_piece`.execute(trx);
          try {
            const value = await piece.work(trx);
            await sql`release custos_piece`.execute(trx);
            outcomes.push({ ok: true, value });
          } catch (error) {
            await sql`rollback to custos_piece`.execute(trx);
            await sql`release custos_piece`.execute(trx);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const piece of batch) piece.reject(error);
      return;
    }
    batch.forEach((piece, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) piece.resolve(outcome.value);
      else piece.reject(outcome.error);
    });
  }

  async function drain(): Promise<void> {
    try {
      while (waiting.length > 0) {
        const batch = waiting;
        waiting = [];
        await runBatch(batch);
      }
    } finally {
      draining = false;
    }
  }

  /** Runs work in a transaction (on SQLite, possibly shared with concurrent work); answers once it committed. */
  function transact<T>(work: (trx: Tx) => Promise<T>): Promise<T> {
    if (database.dialect === 'postgres') return db.transaction().execute(work);
    return new Promise<T>((resolve, reject) => {
      waiting.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // The first piece waits for the rest of this turn of the event loop: requests read in the same turn join it.
      if (!draining) {
        draining = true;
        setImmediate(() => void drain());
      }
    });
  }

  return { transact };
}
export type GroupCommit = ReturnType<typeof createGroupCommit>;
