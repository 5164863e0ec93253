import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyring, type Keyring } from './keyring.js';
import { systemClock } from '../clock.js';
import type { Database } from '../db/database.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';

const tenantA = '0190a0a0-0000-7000-8000-00000000000a';
const tenantB = '0190a0a0-0000-7000-8000-00000000000b';
const where = { tenantId: tenantA, entity: 'credential', id: 'c1', field: 'secret' };

describe.each(dialects)('keyring on %s', (dialect) => {
  let target: TestDatabase;
  let database: Database;
  let rootKey: Buffer;
  let keyring: Keyring;

  beforeEach(async () => {
    target = await createTestDatabase(dialect);
    database = await target.open();
    rootKey = randomBytes(32);
    keyring = createKeyring({ rootKey, clock: systemClock });
    await keyring.createScopeKey(database.db, tenantA);
    await keyring.createScopeKey(database.db, tenantB);
  });
  afterEach(async () => target.drop());

  it('opens a sealed secret in the context it was sealed for, and stores no plaintext', async () => {
    const sealed = await keyring.seal(database.db, where, 'hunter2-root-password');
    expect(sealed).not.toContain('hunter2');
    expect((await keyring.open(database.db, where, sealed)).toString()).toBe('hunter2-root-password');
    const stored = await database.db.selectFrom('tenant_keys').select('wrapped_key').execute();
    expect(stored).toHaveLength(2);
  });

  it('refuses a tampered ciphertext', async () => {
    const sealed = await keyring.seal(database.db, where, 'secret value');
    const [v, version, body] = sealed.split('.');
    const bytes = Buffer.from(body!, 'base64url');
    bytes[bytes.length - 20]! ^= 0x01;
    await expect(keyring.open(database.db, where, `${v}.${version}.${bytes.toString('base64url')}`)).rejects.toMatchObject({ code: 'SEAL_INVALID' });
  });

  it('refuses a ciphertext copied to another row, field or tenant', async () => {
    const sealed = await keyring.seal(database.db, where, 'secret value');
    await expect(keyring.open(database.db, { ...where, id: 'c2' }, sealed)).rejects.toMatchObject({ code: 'SEAL_INVALID' });
    await expect(keyring.open(database.db, { ...where, field: 'notes' }, sealed)).rejects.toMatchObject({ code: 'SEAL_INVALID' });
    await expect(keyring.open(database.db, { ...where, tenantId: tenantB }, sealed)).rejects.toMatchObject({ code: 'SEAL_INVALID' });
  });

  it('a wrong root key cannot unwrap the data keys', async () => {
    const sealed = await keyring.seal(database.db, where, 'secret value');
    const stranger = createKeyring({ rootKey: randomBytes(32), clock: systemClock });
    await expect(stranger.open(database.db, where, sealed)).rejects.toMatchObject({ code: 'SEAL_INVALID' });
  });

  it('after re-wrapping under a new root key, old secrets open with the new key only', async () => {
    const sealed = await keyring.seal(database.db, where, 'secret value');
    const newRoot = randomBytes(32);
    expect(await keyring.rewrapAll(database.db, newRoot)).toBe(2);
    const fresh = createKeyring({ rootKey: newRoot, clock: systemClock });
    expect((await fresh.open(database.db, where, sealed)).toString()).toBe('secret value');
    const old = createKeyring({ rootKey, clock: systemClock });
    await expect(old.open(database.db, where, sealed)).rejects.toMatchObject({ code: 'SEAL_INVALID' });
  });

  it('destroying a scope key makes its secrets unreadable (crypto-shredding)', async () => {
    const sealed = await keyring.seal(database.db, where, 'secret value');
    await keyring.destroyScopeKeys(database.db, tenantA);
    await expect(keyring.open(database.db, where, sealed)).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    const fresh = createKeyring({ rootKey, clock: systemClock });
    await expect(fresh.open(database.db, where, sealed)).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
  });
});
