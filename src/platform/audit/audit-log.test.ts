import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog } from './audit-log.js';
import { eventHash } from './chain.js';
import { createKeyring } from '../crypto/keyring.js';
import { systemClock } from '../clock.js';
import type { Actor } from '../actor.js';
import type { Database } from '../db/database.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';

const tenant = '0190a0a0-0000-7000-8000-0000000000a1';
const other = '0190a0a0-0000-7000-8000-0000000000b2';
const actor: Actor = { kind: 'user', tenantId: tenant, id: 'u1', ip: '127.0.0.1' };

describe.each(dialects)('audit chain on %s', (dialect) => {
  let target: TestDatabase;
  let database: Database;
  let audit: AuditLog;

  async function appendMany(scope: string, count: number) {
    for (let i = 0; i < count; i++) {
      await database.db.transaction().execute((trx) =>
        audit.append(trx, scope, { action: 'auth.login.succeeded', actor, details: { n: i } }),
      );
    }
  }

  beforeEach(async () => {
    target = await createTestDatabase(dialect);
    database = await target.open();
    const keyring = createKeyring({ rootKey: randomBytes(32), clock: systemClock });
    await keyring.createScopeKey(database.db, tenant);
    await keyring.createScopeKey(database.db, other);
    audit = createAuditLog({ keyring, clock: systemClock });
  });
  afterEach(async () => target.drop());

  it('an untouched chain verifies; a scope without a chain head does not', async () => {
    await appendMany(tenant, 5);
    expect(await audit.verify(database.db, tenant)).toMatchObject({ ok: true, checked: 5, headSeq: 5 });
    expect(await audit.verify(database.db, other)).toMatchObject({ ok: false, problem: { reason: 'head_forged' } });
  });

  it('an id with a lone UTF-16 surrogate is stored as U+FFFD, so its event still verifies', async () => {
    const odd = 'user-\uD800-x';
    await database.db.transaction().execute((trx) => audit.append(trx, tenant, { action: 'auth.login.failed', actor: { ...actor, id: odd }, target: { type: 'user', id: `\uDC00${odd}` } }));
    const row = await database.db.selectFrom('audit_events').select(['actor_id', 'target_id']).where('tenant_id', '=', tenant).executeTakeFirstOrThrow();
    expect(row).toEqual({ actor_id: 'user-\uFFFD-x', target_id: '\uFFFDuser-\uFFFD-x' });
    expect(await audit.verify(database.db, tenant)).toMatchObject({ ok: true, checked: 1 });
  });

  it('an event rolled back with its transaction leaves no trace in the chain', async () => {
    await appendMany(tenant, 2);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await audit.append(trx, tenant, { action: 'auth.logout', actor });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await appendMany(tenant, 1);
    expect(await audit.verify(database.db, tenant)).toMatchObject({ ok: true, checked: 3 });
  });

  it('an edited event is named', async () => {
    await appendMany(tenant, 5);
    await sql`update audit_events set details = '{"n":99}' where tenant_id = ${tenant} and seq = 3`.execute(database.db);
    const result = await audit.verify(database.db, tenant);
    expect(result).toMatchObject({ ok: false, problem: { seq: 3, reason: 'altered' } });
  });

  it('a deleted event is named, in the middle or at the end', async () => {
    await appendMany(tenant, 5);
    await sql`delete from audit_events where tenant_id = ${tenant} and seq = 2`.execute(database.db);
    expect(await audit.verify(database.db, tenant)).toMatchObject({ ok: false, problem: { seq: 2, reason: 'missing' } });
    await appendMany(other, 3);
    await sql`delete from audit_events where tenant_id = ${other} and seq = 3`.execute(database.db);
    expect(await audit.verify(database.db, other)).toMatchObject({ ok: false, problem: { seq: 3, reason: 'truncated' } });
  });

  it('a chain deleted whole, head and all, does not verify', async () => {
    await appendMany(tenant, 3);
    await sql`delete from audit_events where tenant_id = ${tenant}`.execute(database.db);
    await sql`delete from audit_heads where tenant_id = ${tenant}`.execute(database.db);
    expect(await audit.verify(database.db, tenant)).toMatchObject({ ok: false, problem: { reason: 'head_forged' } });
  });

  it('reordered events are detected', async () => {
    await appendMany(tenant, 4);
    await sql`update audit_events set seq = 100 where tenant_id = ${tenant} and seq = 2`.execute(database.db);
    await sql`update audit_events set seq = 2 where tenant_id = ${tenant} and seq = 3`.execute(database.db);
    await sql`update audit_events set seq = 3 where tenant_id = ${tenant} and seq = 100`.execute(database.db);
    expect(await audit.verify(database.db, tenant)).toMatchObject({ ok: false, problem: { seq: 2 } });
  });

  it('a chain rewritten with fresh hashes is caught by the head MAC', async () => {
    await appendMany(tenant, 3);
    const rows = await database.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenant).orderBy('seq').execute();
    let prev = rows[0]!.prev_hash;
    for (const row of rows) {
      const forged = { ...row, prev_hash: prev, details: row.seq === 2 ? '{"n":"forged"}' : row.details };
      const { hash: _old, ...rest } = forged;
      const hash = eventHash(rest);
      await sql`update audit_events set details = ${forged.details}, prev_hash = ${prev}, hash = ${hash} where tenant_id = ${tenant} and seq = ${row.seq}`.execute(database.db);
      prev = hash;
    }
    await sql`update audit_heads set hash = ${prev} where tenant_id = ${tenant}`.execute(database.db);
    expect(await audit.verify(database.db, tenant)).toMatchObject({ ok: false, problem: { reason: 'head_forged' } });
  });

  it('a previous hash padded to another length and re-hashed is named as a broken link, not passed', async () => {
    await appendMany(tenant, 3);
    const row = await database.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenant).where('seq', '=', 2).executeTakeFirstOrThrow();
    // The last 64 digits still equal event #1's hash: only a check of the whole link catches it.
    const padded = `ab${row.prev_hash}`;
    const { hash: _old, ...rest } = { ...row, prev_hash: padded };
    await sql`update audit_events set prev_hash = ${padded}, hash = ${eventHash(rest)} where tenant_id = ${tenant} and seq = 2`.execute(database.db);
    expect(await audit.verify(database.db, tenant)).toMatchObject({ ok: false, checked: 1, problem: { seq: 2, reason: 'reordered', eventId: row.id } });
  });

  it('concurrent appends of two tenants keep both chains whole', async () => {
    const writes = Array.from({ length: 40 }, (_, i) =>
      database.db.transaction().execute((trx) =>
        audit.append(trx, i % 2 ? tenant : other, { action: 'auth.login.succeeded', actor, details: { i } }),
      ),
    );
    await Promise.all(writes);
    expect(await audit.verify(database.db, tenant)).toMatchObject({ ok: true, checked: 20 });
    expect(await audit.verify(database.db, other)).toMatchObject({ ok: true, checked: 20 });
  });

  it('refuses a detail whose name marks a secret', async () => {
    await expect(
      database.db.transaction().execute((trx) => audit.append(trx, tenant, { action: 'auth.activated', actor, details: { password: 'x' } })),
    ).rejects.toThrow(/looks like a secret/);
  });
});
