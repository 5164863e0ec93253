import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startPostgresCluster } from './postgres-cluster.js';

/** A PostgreSQL cluster that checks passwords over TCP (scram-sha-256), a rotation target the tests own. */
export interface PostgresTarget {
  host: '127.0.0.1';
  port: number;
  /** A role with LOGIN and this password (random name); superuser when asked. */
  createRole(options?: { password?: string; superuser?: boolean }): Promise<{ username: string; password: string }>;
  stop(): Promise<void>;
}

/** Starts a throwaway cluster whose TCP logins need the role's password; null when PostgreSQL is not installed. */
export async function startPostgresTarget(): Promise<PostgresTarget | null> {
  const cluster = await startPostgresCluster();
  if (!cluster) {
    const line = 'PostgreSQL is not installed: PostgreSQL rotation target tests are SKIPPED. Run scripts/setup-system.sh to install the test peers.';
    if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
    console.warn(`\n!!! ${line}\n`);
    return null;
  }
  const port = Number(new URL(cluster.url).port);
  // The superuser keeps trust on the cluster's private unix socket; every TCP login must prove its password.
  writeFileSync(path.join(cluster.dir, 'data', 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n');
  const admin = new pg.Client({ host: cluster.dir, port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query('select pg_reload_conf()');
  return {
    host: '127.0.0.1',
    port,
    async createRole(options = {}) {
      const username = `r${randomBytes(5).toString('hex')}`;
      const password = options.password ?? `P${randomBytes(12).toString('base64url')}9`;
      await admin.query(`CREATE ROLE ${admin.escapeIdentifier(username)} LOGIN ${options.superuser ? 'SUPERUSER' : ''} PASSWORD ${admin.escapeLiteral(password)}`);
      return { username, password };
    },
    async stop() {
      await admin.end().catch(() => undefined);
      cluster.stop();
    },
  };
}
