// A throwaway PostgreSQL cluster for the bench: the tests' cluster (test/support/postgres-cluster.ts) with durable settings.
import { startPostgresCluster, type PostgresCluster } from '../test/support/postgres-cluster.js';
import type { Cleanup } from './cleanup.js';

/** A running cluster: its URL, its directory and the server settings it was started with. */
export type BenchPostgres = Omit<PostgresCluster, 'stop'>;

/**
 * The durability the embedded store has: SQLite runs WAL with synchronous=NORMAL (a commit is not fsynced), so
 * PostgreSQL runs with synchronous_commit=off (a crash may lose the last commits, never corrupts); fsync stays on.
 */
const SETTINGS = '-c synchronous_commit=off -c shared_buffers=256MB -c max_connections=100';

/** Starts the cluster, stopped (immediate) and removed by the cleanup, also on SIGINT; throws without PostgreSQL's binaries. */
export async function startBenchPostgres(cleanup: Cleanup): Promise<BenchPostgres> {
  const cluster = await startPostgresCluster(SETTINGS);
  if (!cluster) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin; run with --database sqlite');
  const stop = () => {
    try {
      cluster.stop();
    } catch {
      // Not running any more (already stopped); its directory is gone with it.
    }
  };
  cleanup.defer({ run: stop, onExit: stop });
  const { url, dir, version, settings } = cluster;
  return { url, dir, version, settings };
}
