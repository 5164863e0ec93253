import { loadRootKey, matchesCheckValue } from '../platform/crypto/root-key.js';
import type { DbOrTx } from '../platform/db/database.js';
import { DomainError } from '../platform/errors.js';
import type { Logger } from '../platform/log.js';
import type { Config } from './config.js';

/** The custos_meta key holding the root key's check value. */
export const KEY_CHECK = 'root_key_check';

/** The stored key check value, if the installation has one. */
export async function storedCheckValue(db: DbOrTx): Promise<string | undefined> {
  return (await db.selectFrom('custos_meta').select('value').where('key', '=', KEY_CHECK).executeTakeFirst())?.value;
}

/**
 * Keeps a process's root key in step with the database's. After `custos root-key rotate` by another process it
 * picks up the new key file; with CUSTOS_ROOT_KEY it cannot, and refuses (503) rather than use the old key.
 */
export function createRootKeyGuard(deps: { config: Config; log: Logger; initialKey: Buffer; onChange: (key: Buffer) => void }) {
  let current = deps.initialKey;

  function use(key: Buffer): void {
    current = key;
    deps.onChange(key);
  }

  async function ensureCurrent(db: DbOrTx): Promise<void> {
    const stored = await storedCheckValue(db);
    if (!stored || matchesCheckValue(current, stored)) return;
    const fromFile = deps.config.rootKeyBase64 ? null : loadRootKey({ rootKeyFile: deps.config.rootKeyFile });
    if (fromFile && matchesCheckValue(fromFile.key, stored)) {
      use(fromFile.key);
      deps.log.warn({ file: deps.config.rootKeyFile }, 'the root key was rotated; now using the new key file');
      return;
    }
    throw new DomainError('ROOT_KEY_STALE', 'This server holds a root key that was rotated away. Restart it with the current root key.', 'unavailable');
  }

  return { ensureCurrent, use };
}
