import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { startMariadb, type TestMariadb } from '../../../test/support/mariadb.js';
import { createLogger } from '../../platform/log.js';
import { addAccount, currentSecret, loopbackDialer, rotationOf } from './fixtures/harness.js';
import { startPostgresTarget, type PostgresTarget } from '../../../test/support/postgres-target.js';
import { mysqlPlugin } from './plugins/mysql.js';
import type { RotationPlugin } from './plugins/plugin.types.js';
import { postgresPlugin } from './plugins/postgres.js';
import { crashSteps, type CrashStep } from './rotation.engine.js';
import { recoverRotations } from './rotation.jobs.js';
import * as store from './rotation.store.js';

const child = path.join(import.meta.dirname, 'fixtures', 'crash-child.ts');
const repo = path.resolve(import.meta.dirname, '../../..');

let pgTarget: PostgresTarget | null = null;
let maria: TestMariadb | null = null;
beforeAll(async () => {
  [pgTarget, maria] = await Promise.all([startPostgresTarget(), startMariadb()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([pgTarget?.stop(), maria?.stop()]);
});

/** Runs the rotation in a child process that kills itself after the step; answers its exit signal and output. */
function runChild(t: TestApp, tenantId: string, rotationId: string, crashAt: CrashStep) {
  const args = JSON.stringify({ dataDir: t.runtime.config.dataDir, databaseUrl: t.runtime.config.databaseUrl, tenantId, rotationId });
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CUSTOS_ROOT_KEY: t.runtime.config.rootKeyBase64, CUSTOS_ROTATION_CRASH_AT: crashAt, CUSTOS_TARGET_ALLOW_CIDRS: '127.0.0.0/8' };
  return new Promise<{ signal: NodeJS.Signals | null; output: string }>((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, args], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (chunk) => (output += chunk));
    proc.stderr.on('data', (chunk) => (output += chunk));
    proc.on('close', (_code, signal) => resolve({ signal, output }));
  });
}

const targets: Array<{ name: string; plugin: RotationPlugin; protocol: 'postgres' | 'mysql'; steps: readonly CrashStep[]; ready: () => boolean; port: () => number; account: () => Promise<{ username: string; password: string }> }> = [
  { name: 'PostgreSQL', plugin: postgresPlugin, protocol: 'postgres', steps: crashSteps, ready: () => pgTarget !== null, port: () => pgTarget!.port, account: () => pgTarget!.createRole() },
  { name: 'MariaDB', plugin: mysqlPlugin, protocol: 'mysql', steps: ['after-target-change'], ready: () => maria !== null, port: () => maria!.port, account: () => maria!.createUser() },
];
const cases = dialects.flatMap((dialect) => targets.flatMap((target) => target.steps.map((step) => ({ dialect, target, step }))));

describe('a rotation killed at any step leaves the vault with a secret that logs in', () => {
  const apps = new Map<string, { t: TestApp; tenantId: string }>();
  const appFor = async (dialect: (typeof dialects)[number]) => {
    if (!apps.has(dialect)) {
      const t = await createTestApp(dialect);
      apps.set(dialect, { t, tenantId: (await t.tenantWithAdmin('crash')).id });
    }
    return apps.get(dialect)!;
  };
  afterAll(async () => {
    for (const { t } of apps.values()) await t.close();
  });

  it.for(cases)('$target.name, store on $dialect, SIGKILL $step', { timeout: 60_000 }, async ({ dialect, target, step }, c) => {
    if (!target.ready()) return c.skip();
    const { t, tenantId } = await appFor(dialect);
    const account = await target.account();
    const { credentialId } = await addAccount(t.runtime, tenantId, { protocol: target.protocol, port: target.port() }, account);
    const { engine, rotations, queue } = rotationOf(t.runtime);
    const rotation = await rotations.request({ kind: 'user', id: 'u1', tenantId }, credentialId);

    const killed = await runChild(t, tenantId, rotation.id, step);
    expect(killed.signal, killed.output).toBe('SIGKILL');
    const interrupted = (await store.findRotation(t.runtime.database.db, tenantId, rotation.id))!;
    expect(interrupted).toMatchObject({ state: 'running' });
    expect(interrupted.pending_secret_sealed).not.toBeNull();

    // A fresh runtime (this process, new engine) settles at start-up, then the job runs what is left.
    const log = createLogger({ level: 'silent' });
    expect(await recoverRotations({ engine, queue, db: t.runtime.database.db, clock: t.runtime.clock, log })).toBe(1);
    const settled = (await store.findRotation(t.runtime.database.db, tenantId, rotation.id))!;
    // Before the change the target still takes the current secret; after it, the pending one is promoted.
    expect(settled.state).toBe(step === 'after-pending-commit' ? 'scheduled' : 'succeeded');
    if (settled.state === 'scheduled') expect((await engine.run(tenantId, rotation.id)).state).toBe('succeeded');

    const current = await currentSecret(t.runtime, tenantId, credentialId);
    expect(current.version).toBe(2);
    const ctx = { username: account.username, timeoutMs: 5_000, info: {}, dial: () => loopbackDialer({ tenantId, host: '127.0.0.1', port: target.port() }) };
    expect(await target.plugin.verify(ctx, { secret: current.secret })).toBe(true);
    expect(await target.plugin.verify(ctx, { secret: account.password })).toBe(false);
  });
});
