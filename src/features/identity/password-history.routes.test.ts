import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

const passwords = ['password number zero', 'password number one', 'password number two', 'password number three', 'password number four'];

describe.each(dialects)('password history on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('history-a');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const db = () => t.runtime.database.db;
  const activate = (token: string, password: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'history-a', token, password } });
  const historyRows = async (userId: string) => db().selectFrom('password_history').selectAll().where('tenant_id', '=', admin.id).where('user_id', '=', userId).execute();

  /** A user who activated with the first password and holds a session; `change` changes their password in it. */
  async function user(username: string) {
    const created = (await call('POST', '/users', admin.token, { username, email: `${username}@x.example` })).json();
    expect((await activate(created.activation.token, passwords[0]!)).statusCode).toBe(200);
    const token = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'history-a', username, password: passwords[0] } })).json().token as string;
    let current = passwords[0]!;
    const change = async (next: string) => {
      const res = await call('POST', '/auth/password', token, { currentPassword: current, newPassword: next });
      if (res.statusCode === 204) current = next;
      return res;
    };
    return { id: created.user.id as string, token, change };
  }

  it('refuses any of the last N passwords, the current one included, and allows the one before them', async () => {
    await call('PUT', '/settings/security', admin.token, { passwordHistory: 3 });
    const u = await user('history-three');
    expect((await u.change(passwords[1]!)).statusCode).toBe(204);
    expect((await u.change(passwords[2]!)).statusCode).toBe(204);
    for (const reused of passwords.slice(0, 3)) {
      const res = await u.change(reused);
      expect(res.statusCode, reused).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'PASSWORD_REUSED', message: expect.stringContaining('last 3 passwords') });
    }
    expect((await u.change(passwords[3]!)).statusCode).toBe(204);
    // passwords[0] is now the fourth most recent: allowed again.
    expect((await u.change(passwords[0]!)).statusCode).toBe(204);
    await call('PUT', '/settings/security', admin.token, { passwordHistory: 5 });
  });

  it('keeps N-1 earlier hashes per user (the current one is the Nth), never a plaintext, trimmed when N shrinks', async () => {
    await call('PUT', '/settings/security', admin.token, { passwordHistory: 3 });
    const u = await user('history-rows');
    for (const next of passwords.slice(1)) expect((await u.change(next)).statusCode).toBe(204);
    const rows = await historyRows(u.id);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.password_hash.startsWith('$argon2id$'))).toBe(true);
    expect(JSON.stringify(rows)).not.toMatch(/password number/);
    await call('PUT', '/settings/security', admin.token, { passwordHistory: 1 });
    expect((await u.change('password number five')).statusCode).toBe(204);
    expect(await historyRows(u.id)).toEqual([]);
    await call('PUT', '/settings/security', admin.token, { passwordHistory: 5 });
  });

  it('with passwordHistory 0 a self change still refuses the current password (a change must change it) but allows the previous one', async () => {
    await call('PUT', '/settings/security', admin.token, { passwordHistory: 0 });
    const u = await user('history-zero');
    expect((await u.change(passwords[1]!)).statusCode).toBe(204);
    const same = await u.change(passwords[1]!);
    expect(same.json().error).toMatchObject({ code: 'PASSWORD_REUSED', message: 'Choose a password different from the current one.' });
    expect((await u.change(passwords[0]!)).statusCode).toBe(204);
    await call('PUT', '/settings/security', admin.token, { passwordHistory: 5 });
  });

  it('a reset through an activation token refuses the last N passwords without spending the token, and audits the refusal', async () => {
    const u = await user('history-reset');
    expect((await u.change(passwords[1]!)).statusCode).toBe(204);
    const reset = (await call('POST', `/users/${u.id}/reset-password`, admin.token)).json().activation.token as string;
    for (const reused of [passwords[1]!, passwords[0]!]) {
      const res = await activate(reset, reused);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('PASSWORD_REUSED');
    }
    const failures = await db().selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'auth.activation.failed').where('actor_id', '=', u.id).orderBy('seq').execute();
    expect(failures.map((f) => JSON.parse(f.details).reason)).toEqual(['password_reused', 'password_reused']);
    expect((await activate(reset, passwords[2]!)).statusCode).toBe(200);
    expect((await historyRows(u.id)).length).toBe(2);
  });

  it('with passwordHistory 0 a reset may set the current password again', async () => {
    await call('PUT', '/settings/security', admin.token, { passwordHistory: 0 });
    const u = await user('history-reset-zero');
    const reset = (await call('POST', `/users/${u.id}/reset-password`, admin.token)).json().activation.token as string;
    expect((await activate(reset, passwords[0]!)).statusCode).toBe(200);
    await call('PUT', '/settings/security', admin.token, { passwordHistory: 5 });
  });

  it("the history goes with the user: deleting them removes it, and another tenant's rows are untouched", async () => {
    const other = await t.tenantWithAdmin('history-b');
    expect((await call('POST', '/auth/password', other.token, { currentPassword: other.password, newPassword: passwords[4]! })).statusCode).toBe(204);
    const u = await user('history-leaver');
    expect((await u.change(passwords[1]!)).statusCode).toBe(204);
    expect(await historyRows(u.id)).toHaveLength(1);
    expect((await call('DELETE', `/users/${u.id}`, admin.token)).statusCode).toBe(204);
    expect(await historyRows(u.id)).toEqual([]);
    expect(await db().selectFrom('password_history').select('user_id').where('tenant_id', '=', other.id).execute()).toHaveLength(1);
  });
});
