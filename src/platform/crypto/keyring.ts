import { hkdfSync, randomBytes } from 'node:crypto';
import { DomainError } from '../errors.js';
import type { DbOrTx } from '../db/database.js';
import type { Clock } from '../clock.js';
import { decrypt, encrypt } from './aead.js';

/** Where a sealed value belongs; bound into the ciphertext so it cannot be moved to another row or tenant. */
export interface SealContext {
  tenantId: string;
  entity: string;
  id: string;
  field: string;
}

interface DataKey {
  version: number;
  key: Buffer;
}

const wrapContext = (scopeId: string, version: number) => `custos:tenant-key:v1|${scopeId}|${version}`;
const sealContext = (c: SealContext, version: number) =>
  `custos:seal:v1|${c.tenantId}|${c.entity}|${c.id}|${c.field}|${version}`;

/**
 * Data keys per scope (each tenant, and the system scope for operator records), stored only wrapped by the
 * root key. Unwrapped keys are cached in memory; forget() drops them when a tenant is deleted.
 */
export function createKeyring(deps: {
  rootKey: Buffer;
  clock: Clock;
  /** Confirms (and may refresh, via useRootKey) that the root key is the database's current one; throws if not. */
  ensureCurrentRootKey?: (db: DbOrTx) => Promise<void>;
}) {
  let rootKey = deps.rootKey;
  const cache = new Map<string, Map<number, Buffer>>();
  const active = new Map<string, DataKey>();
  // HKDF outputs by scope and purpose: every audit append needs its scope's MAC key.
  const derived = new Map<string, Map<string, Buffer>>();

  function remember(scopeId: string, version: number, key: Buffer): void {
    let versions = cache.get(scopeId);
    if (!versions) cache.set(scopeId, (versions = new Map()));
    versions.set(version, key);
  }

  /** Creates the first data key of a scope inside the caller's transaction. */
  async function createScopeKey(trx: DbOrTx, scopeId: string): Promise<void> {
    // Wrapping under a root key that was rotated away would leave a key no current server can open.
    await deps.ensureCurrentRootKey?.(trx);
    const key = randomBytes(32);
    const wrapped = encrypt(rootKey, key, wrapContext(scopeId, 1)).toString('base64');
    await trx
      .insertInto('tenant_keys')
      .values({ tenant_id: scopeId, version: 1, wrapped_key: wrapped, status: 'active', created_at: deps.clock.now() })
      .execute();
    remember(scopeId, 1, key);
  }

  async function loadKey(db: DbOrTx, scopeId: string, version?: number): Promise<DataKey> {
    if (version === undefined) {
      const current = active.get(scopeId);
      if (current) return current;
    } else {
      const key = cache.get(scopeId)?.get(version);
      if (key) return { version, key };
    }
    let query = db.selectFrom('tenant_keys').select(['version', 'wrapped_key']).where('tenant_id', '=', scopeId);
    query = version === undefined ? query.where('status', '=', 'active') : query.where('version', '=', version);
    const row = await query.orderBy('version', 'desc').executeTakeFirst();
    if (!row) throw new DomainError('KEY_NOT_FOUND', 'No data key exists for this scope; it may have been deleted.', 'internal');
    const key = await unwrap(db, row.wrapped_key, wrapContext(scopeId, row.version));
    remember(scopeId, row.version, key);
    if (version === undefined) active.set(scopeId, { version: row.version, key });
    return { version: row.version, key };
  }

  /** Unwraps a data key; on failure it checks once whether the root key was rotated under this process. */
  async function unwrap(db: DbOrTx, wrapped: string, context: string): Promise<Buffer> {
    try {
      return decrypt(rootKey, Buffer.from(wrapped, 'base64'), context);
    } catch (error) {
      if (!deps.ensureCurrentRootKey) throw error;
      const before = rootKey;
      await deps.ensureCurrentRootKey(db);
      if (rootKey === before) throw error;
      return decrypt(rootKey, Buffer.from(wrapped, 'base64'), context);
    }
  }

  /** Seals a secret under the scope's active key: `v1.<keyVersion>.<base64url>`. */
  async function seal(db: DbOrTx, context: SealContext, plaintext: string | Buffer): Promise<string> {
    const { version, key } = await loadKey(db, context.tenantId);
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    return `v1.${version}.${encrypt(key, bytes, sealContext(context, version)).toString('base64url')}`;
  }

  /** Opens a sealed secret; it fails unless tenant, entity, id and field all match where it was sealed. */
  async function open(db: DbOrTx, context: SealContext, sealed: string): Promise<Buffer> {
    const [format, versionText, body] = sealed.split('.');
    const version = Number(versionText);
    if (format !== 'v1' || !Number.isInteger(version) || !body) {
      throw new DomainError('SEAL_INVALID', 'A sealed value is malformed.', 'internal');
    }
    const { key } = await loadKey(db, context.tenantId, version);
    return decrypt(key, Buffer.from(body, 'base64url'), sealContext(context, version));
  }

  /** A key for one purpose derived from the scope's first data key (stable across root-key rotation). */
  async function deriveKey(db: DbOrTx, scopeId: string, purpose: string): Promise<Buffer> {
    const known = derived.get(scopeId)?.get(purpose);
    if (known) return known;
    const { key } = await loadKey(db, scopeId, 1);
    const output = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `custos:${purpose}`, 32));
    if (!derived.has(scopeId)) derived.set(scopeId, new Map());
    derived.get(scopeId)!.set(purpose, output);
    return output;
  }

  /** Destroys every data key of a scope (crypto-shredding) inside the caller's transaction. */
  async function destroyScopeKeys(trx: DbOrTx, scopeId: string): Promise<void> {
    await trx.deleteFrom('tenant_keys').where('tenant_id', '=', scopeId).execute();
    forget(scopeId);
  }

  function forget(scopeId: string): void {
    cache.delete(scopeId);
    active.delete(scopeId);
    derived.delete(scopeId);
  }

  /** Re-wraps every data key under a new root key in the caller's transaction; call useRootKey after commit. */
  async function rewrapAll(trx: DbOrTx, newRootKey: Buffer, onProgress?: (done: number, total: number) => void): Promise<number> {
    const rows = await trx.selectFrom('tenant_keys').select(['tenant_id', 'version', 'wrapped_key']).execute();
    let done = 0;
    for (const row of rows) {
      const key = decrypt(rootKey, Buffer.from(row.wrapped_key, 'base64'), wrapContext(row.tenant_id, row.version));
      const wrapped = encrypt(newRootKey, key, wrapContext(row.tenant_id, row.version)).toString('base64');
      await trx
        .updateTable('tenant_keys')
        .set({ wrapped_key: wrapped })
        .where('tenant_id', '=', row.tenant_id)
        .where('version', '=', row.version)
        .execute();
      onProgress?.(++done, rows.length);
    }
    return rows.length;
  }

  function useRootKey(key: Buffer): void {
    rootKey = key;
  }

  /** The root key in use, for what is sealed under it directly (snapshots); never logged, never stored. */
  const currentRootKey = (): Buffer => rootKey;

  return { createScopeKey, seal, open, deriveKey, destroyScopeKeys, forget, rewrapAll, useRootKey, currentRootKey };
}
export type Keyring = ReturnType<typeof createKeyring>;
