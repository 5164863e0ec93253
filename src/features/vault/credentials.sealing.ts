import type { Keyring, SealContext } from '../../platform/crypto/keyring.js';
import type { DbOrTx } from '../../platform/db/database.js';
import { DomainError } from '../../platform/errors.js';

/** A field of a secret version; each is sealed on its own. */
export type VersionField = 'secret' | 'passphrase';

/**
 * Where a version's sealed value belongs: tenant, credential, version and field are bound into the ciphertext, so a
 * value copied to another credential, another version or the other field fails to open. The credential row and its
 * credential_versions row of the same version hold the same ciphertext.
 */
export const versionContext = (tenantId: string, credentialId: string, version: number, field: VersionField): SealContext => ({
  tenantId,
  entity: 'credential',
  id: credentialId,
  field: `${field}@v${version}`,
});

/** The TOTP seed has no versions (it lives only on the credential row): it is bound to the credential and field. */
export const totpContext = (tenantId: string, credentialId: string): SealContext => ({ tenantId, entity: 'credential', id: credentialId, field: 'totp' });

/** Opens a sealed value; null when it fails its integrity check (altered or moved), so callers answer cleanly. */
export async function openOrNull(keyring: Keyring, db: DbOrTx, context: SealContext, sealed: string): Promise<string | null> {
  try {
    return (await keyring.open(db, context, sealed)).toString('utf8');
  } catch (error) {
    if (error instanceof DomainError && error.code === 'SEAL_INVALID') return null;
    throw error;
  }
}
