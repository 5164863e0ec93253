import { hash, randomBytes } from 'node:crypto';

/** A bearer secret: a recognisable prefix and 256 random bits, base64url. Only its hash is ever stored. */
export function generateToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/** The stored form of a token: SHA-256, hex. A 256-bit random token needs no slow hash. */
export function hashToken(token: string): string {
  // One-shot hash: it runs on every request's token check, and skips the Hash object's setup.
  return hash('sha256', token, 'hex');
}
