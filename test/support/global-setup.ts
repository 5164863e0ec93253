import type { TestProject } from 'vitest/node';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the PostgreSQL server tests create their databases in; empty when there is none. */
    postgresUrl: string;
  }
}

let cluster: PostgresCluster | null = null;

/** Starts the throwaway PostgreSQL cluster once per run (or uses CUSTOS_TEST_DATABASE_URL). */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.CUSTOS_TEST_DATABASE_URL ?? '';
  if (!url) {
    cluster = await startPostgresCluster();
    url = cluster?.url ?? '';
  }
  if (!url) {
    const line = 'PostgreSQL is not installed: PostgreSQL tests are SKIPPED. Run scripts/setup-system.sh to install the test peers.';
    if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
    console.warn(`\n!!! ${line}\n`);
  }
  project.provide('postgresUrl', url);
}

export async function teardown(): Promise<void> {
  cluster?.stop();
}
