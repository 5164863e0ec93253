import { createHash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/** What a checkpoint states: the tenant's chain head was event #seq with this hash at signedAt (epoch ms). */
export interface CheckpointStatement {
  tenantId: string;
  seq: number;
  hash: string;
  signedAt: number;
}

/** The exact bytes signed; a verifier rebuilds them from the statement, so no field can change unnoticed. */
export const checkpointMessage = (c: CheckpointStatement) => Buffer.from(`custos-audit-checkpoint-v1|${c.tenantId}|${c.seq}|${c.hash}|${c.signedAt}`, 'utf8');

/** A key's id: the first 16 hex digits of SHA-256 over its SubjectPublicKeyInfo, so anyone can recompute it from the PEM. */
export const keyIdOf = (publicKey: KeyObject) => createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);

/** A fresh Ed25519 key pair as PEM text, with its key id. */
export function newCheckpointKeyPair(): { keyId: string; publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Signs a statement with a PEM private key; answers the base64 signature. */
export const signCheckpoint = (privateKeyPem: string, statement: CheckpointStatement) => sign(null, checkpointMessage(statement), privateKeyPem).toString('base64');

/** Whether a signature is this key's over this statement; a malformed key or signature is simply not valid. */
export function checkpointSignatureValid(publicKeyPem: string, statement: CheckpointStatement, signature: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    return key.asymmetricKeyType === 'ed25519' && verify(null, checkpointMessage(statement), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
