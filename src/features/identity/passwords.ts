import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id baseline (DESIGN 3): 19 MiB, two passes, one lane.
// 2 is Algorithm.Argon2id; the enum is const and cannot be imported under verbatimModuleSyntax.
const params = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Hashes with argon2id on the libuv pool, off the event loop. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, params);
}

let decoy: Promise<string> | undefined;

/** Verifies a password; with no stored hash it still spends the same time, so unknown users are not revealed by timing. */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (!stored) {
    decoy ??= hashPassword('custos-decoy-password');
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
