import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';
import { createLeaderElector, leaderLockKey, type LeaderElector } from './leader.js';
import { sleep, waitFor } from './fixtures/wait.js';

const log = createLogger({ level: 'silent' });
const childScript = fileURLToPath(new URL('./fixtures/leader-child.ts', import.meta.url));

describe('leader election on SQLite', () => {
  it('makes the single node the leader as soon as it starts, until it stops', async () => {
    const elector = createLeaderElector({ dialect: 'sqlite', log });
    const changes: boolean[] = [];
    elector.onChange((value) => changes.push(value));
    expect(elector.isLeader()).toBe(false);
    await elector.start();
    expect(elector.isLeader()).toBe(true);
    await elector.stop();
    expect(changes).toEqual([true, false]);
  });
});

describe.runIf(dialects.includes('postgres'))('leader election on PostgreSQL', () => {
  let target: TestDatabase;
  const electors: LeaderElector[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await target?.drop();
  });

  function elector(pollMs = 200) {
    const created = createLeaderElector({ dialect: 'postgres', postgresUrl: target.postgresUrl!, log, pollMs, probeTimeoutMs: 1_000 });
    electors.push(created);
    return created;
  }

  it('elects exactly one of two nodes, and the other takes over when the leader stops', async () => {
    target = await createTestDatabase('postgres');
    const first = elector();
    const second = elector();
    await first.start();
    await second.start();
    expect([first.isLeader(), second.isLeader()]).toEqual([true, false]);
    await sleep(500);
    expect(second.isLeader()).toBe(false);
    await first.stop();
    await waitFor(() => second.isLeader(), 2_000, 'the second node leads');
    expect(first.isLeader()).toBe(false);
  });

  it('steps down when its connection is killed, and then exactly one node leads again', async () => {
    target = await createTestDatabase('postgres');
    const first = elector();
    const second = elector();
    const changes: boolean[] = [];
    first.onChange((value) => changes.push(value));
    await first.start();
    await second.start();
    const admin = new pg.Client({ connectionString: target.postgresUrl });
    await admin.connect();
    try {
      await admin.query(
        `select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted
           and ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
        [String(leaderLockKey)],
      );
    } finally {
      await admin.end();
    }
    await waitFor(() => changes.length >= 2, 3_000, 'the first node steps down');
    expect(changes.slice(0, 2)).toEqual([true, false]);
    // Both nodes contend again, the one that lost its session included; exactly one of them must win.
    await waitFor(() => first.isLeader() || second.isLeader(), 3_000, 'a node leads again');
    await sleep(500);
    expect([first, second].filter((e) => e.isLeader())).toHaveLength(1);
  });

  it("a killed leader's role passes to the other", async () => {
    target = await createTestDatabase('postgres');
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, target.postgresUrl!], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('leader\n'), 20_000, 'the child process leads');

    const local = elector(1_000);
    await local.start();
    expect(local.isLeader()).toBe(false);

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await waitFor(() => local.isLeader(), 10_000, 'this node leads within 10 s of the leader dying');
    expect(Date.now() - killedAt).toBeLessThan(10_000);
  });
});
