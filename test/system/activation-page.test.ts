import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, runCli, startServer, type ServerProcess } from '../support/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present) {
  const line = 'Chromium is not installed: the activation page test is SKIPPED. Run scripts/setup-system.sh.';
  if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
  console.warn(`\n!!! ${line}\n`);
}

describe.skipIf(!present)('the activation page in Chromium', () => {
  let server: ServerProcess;
  let browser: Browser;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'custos-page-'));
    env = childEnv({ CUSTOS_DATA_DIR: path.join(dir, 'data') });
    server = await startServer(env);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('activates the admin from the link the CLI prints, and the password then logs in', async () => {
    const port = new URL(server.url).port;
    const created = runCli(['tenant', 'create', 'pagetest', '--admin-email', 'admin@page.example', '--json'], { ...env, CUSTOS_PORT: port });
    expect(created.code, created.stderr).toBe(0);
    const { activation } = JSON.parse(created.stdout);
    expect(activation.url.startsWith(`${server.url}/activate#`)).toBe(true);
    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('console', (m) => m.type() === 'error' && failures.push(m.text()));
    await page.goto(activation.url);
    expect(await page.inputValue('#tenant')).toBe('pagetest');
    expect(page.url()).not.toContain(activation.token);
    await page.fill('#password', 'a long page password');
    await page.fill('#repeat', 'a different one here');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#result')).toContain('differ');
    await page.fill('#repeat', 'a long page password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#result')).toContain('admin@page.example is active');
    expect(failures, failures.join('\n')).toEqual([]);
    const login = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'pagetest', username: 'admin@page.example', password: 'a long page password' }) });
    expect(login.status).toBe(200);
  });

  it('shows the server message for a spent token', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/activate#tenant=pagetest&token=csa_spent`);
    await page.fill('#password', 'a long page password');
    await page.fill('#repeat', 'a long page password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('#result')).toContain('invalid, already used or expired');
  });
});
