import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, startServer, type ServerProcess } from '../support/processes.js';

const root = path.resolve(import.meta.dirname, '../..');

// The first steps enrol an authenticator with oathtool standing in for the app.
const oathtool = existsSync('/usr/bin/oathtool');
if (!oathtool) {
  const line = "oathtool is not installed: the README's first steps test is SKIPPED. Run scripts/setup-system.sh.";
  if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
  console.warn(`\n!!! ${line}\n`);
}

/** The sh blocks of one README section, in order. */
function shellBlocks(section: string): string[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${section}`);
  const end = readme.indexOf('\n## ', start + 1);
  const text = readme.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/^ {3}/gm, ''));
}

describe.skipIf(!oathtool)("the README's first steps", () => {
  let server: ServerProcess;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'custos-readme-'));
    env = childEnv({ CUSTOS_DATA_DIR: path.join(dir, 'data') });
    server = await startServer(env);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('work as written, with curl, against a running server', () => {
    const blocks = shellBlocks('First steps');
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const port = new URL(server.url).port;
    const script = ['set -euo pipefail', ...blocks].join('\n').replaceAll('127.0.0.1:8220', `127.0.0.1:${port}`);
    const run = spawnSync('bash', ['-c', script], { cwd: root, env: { ...env, CUSTOS_PORT: port }, encoding: 'utf8', timeout: 90_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Created tenant acme ');
    expect(run.stdout).toContain('"recoveryCodes":[');
    expect(run.stdout).toContain('"username":"admin@acme.example"');
    expect(run.stdout).toContain('"slug":"acme-two"');
    expect(run.stdout).toContain('The audit chain of tenant acme-two is intact');
  });
});
