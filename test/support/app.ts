import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createManualClock, type ManualClock } from '../../src/platform/clock.js';
import { createLogger, type Logger } from '../../src/platform/log.js';
import type { HttpApp } from '../../src/platform/http/create-app.js';
import type { DialectName } from '../../src/platform/db/database.js';
import { buildApp } from '../../src/main/app.js';
import { loadConfig } from '../../src/main/config.js';
import { openRuntime, type Runtime } from '../../src/main/runtime.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

/** A built app (never listening) over a fresh database of one engine, with helpers for the common first steps. */
export interface TestApp {
  app: HttpApp;
  runtime: Runtime;
  clock: ManualClock;
  target: TestDatabase;
  operatorToken: string;
  /** Creates a tenant through the operator plane; answers its id and the admin's activation token. */
  createTenant(slug: string, adminEmail?: string): Promise<{ id: string; slug: string; activationToken: string; adminEmail: string }>;
  /**
   * Creates a tenant, activates its admin and logs in; answers the session token. A fixture choice: the tenant's
   * mfaRequired is set to 'none' first, so the admin's session is not restricted to MFA enrolment and tests
   * about other things need no authenticator. `{ policyDefaults: true }` keeps the shipped policy instead.
   */
  tenantWithAdmin(slug: string, options?: { policyDefaults?: boolean }): Promise<{ id: string; slug: string; token: string; username: string; password: string; login: Record<string, unknown> }>;
  close(): Promise<void>;
}

export const ADMIN_PASSWORD = 'correct horse battery staple';

/** Builds the full app as main/ wires it, over a throwaway database; every test file owns its own. */
export async function createTestApp(dialect: DialectName, options: { loginRateLimit?: { max: number; windowMs: number }; clientTokenRateLimit?: { max: number; windowMs: number }; trustedProxies?: string[]; log?: Logger; targetAllowCidrs?: string[] } = {}): Promise<TestApp> {
  const target = await createTestDatabase(dialect);
  const clock = createManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  // SQLite lives in the test database's own folder; PostgreSQL still gets a private data directory (never a shared /tmp path).
  const scratch = target.sqliteFile ? null : mkdtempSync(path.join(os.tmpdir(), 'custos-app-'));
  const config = loadConfig(
    { dataDir: target.sqliteFile ? path.dirname(target.sqliteFile) : scratch!, databaseUrl: target.postgresUrl },
    { CUSTOS_ROOT_KEY: randomBytes(32).toString('base64'), CUSTOS_TARGET_ALLOW_CIDRS: options.targetAllowCidrs?.join(',') },
  );
  // A test that inspects log lines (secrets must never reach them) hands in its own logger.
  const log = options.log ?? createLogger({ level: 'silent' });
  const runtime = await openRuntime(config, { migrate: true, log, clock });
  const app = await buildApp({ services: runtime.services, log, version: 'test', checks: {}, trustedProxies: options.trustedProxies, loginRateLimit: options.loginRateLimit ?? { max: 1000, windowMs: 60_000 }, clientTokenRateLimit: options.clientTokenRateLimit ?? { max: 1000, windowMs: 60_000 } });
  await app.ready();
  const operatorToken = (await runtime.services.operators.createToken({ kind: 'operator', id: 'test', ip: null })).token;

  async function createTenant(slug: string, adminEmail = `admin@${slug}.example`) {
    const res = await app.inject({ method: 'POST', url: '/ops/v1/tenants', headers: { authorization: `Bearer ${operatorToken}` }, payload: { slug, adminEmail } });
    if (res.statusCode !== 201) throw new Error(`tenant create failed: ${res.statusCode} ${res.body}`);
    const body = res.json();
    return { id: body.tenant.id as string, slug, activationToken: body.activation.token as string, adminEmail };
  }

  async function tenantWithAdmin(slug: string, options: { policyDefaults?: boolean } = {}) {
    const tenant = await createTenant(slug);
    const activated = await app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: slug, token: tenant.activationToken, password: ADMIN_PASSWORD } });
    if (activated.statusCode !== 200) throw new Error(`activate failed: ${activated.body}`);
    // A fixture choice, made through the service layer as the system: the admin has no unrestricted session yet.
    if (!options.policyDefaults) await runtime.services.securityPolicy.update({ kind: 'system', id: 'test-fixture', tenantId: tenant.id, ip: null }, { mfaRequired: 'none' });
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: slug, username: tenant.adminEmail, password: ADMIN_PASSWORD } });
    if (login.statusCode !== 200) throw new Error(`login failed: ${login.body}`);
    return { id: tenant.id, slug, token: login.json().token as string, username: tenant.adminEmail, password: ADMIN_PASSWORD, login: login.json() as Record<string, unknown> };
  }

  return {
    app, runtime, clock, target, operatorToken, createTenant, tenantWithAdmin,
    async close() {
      await app.close();
      await runtime.close();
      await target.drop();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** The Authorization header for a bearer token. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
