import { DomainError } from '../../platform/errors.js';

/** A rotation failure with a stable code; retryable ones are tried again with backoff. */
export class RotationFailure extends Error {
  constructor(readonly code: string, message: string, readonly retryable: boolean) {
    super(message);
  }
}

/** A failure as it is stored on the rotation and audited: a code and a message that never holds a secret. */
export interface Classified {
  code: string;
  message: string;
  retryable: boolean;
}

// Logins the target refused, and privileges it lacks: trying again with the same secrets cannot help.
const refused = new Set(['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ROTATION_AUTH_FAILED']);
const denied = new Set(['42501', 'ER_SPECIFIC_ACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR', 'ER_CANNOT_USER', 'ROTATION_PERMISSION_DENIED', 'ROTATION_ACCOUNT_NOT_FOUND']);
const unreachable = new Set(['TARGET_UNREACHABLE', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);
const timedOut = new Set(['TARGET_TIMEOUT', 'ROTATION_TARGET_TIMEOUT', 'ETIMEDOUT']);

/** Replaces every known secret in a message, so a driver echoing a statement cannot leak one. */
export function scrub(message: string, secrets: readonly string[]): string {
  let text = message;
  for (const secret of secrets) if (secret.length >= 4) text = text.split(secret).join('[redacted]');
  return text.slice(0, 500);
}

/** Maps what a plugin, the dialer or the vault threw to a stored failure. */
export function classifyFailure(error: unknown, secrets: readonly string[]): Classified {
  const code = String((error as { code?: unknown }).code ?? '');
  const message = scrub(error instanceof Error ? error.message : String(error), secrets);
  if (error instanceof RotationFailure) return { code: error.code, message, retryable: error.retryable };
  if (refused.has(code)) return { code: 'ROTATION_AUTH_FAILED', message: `The target refused the login used to change the account: ${message}`, retryable: false };
  if (denied.has(code)) return { code: 'ROTATION_PERMISSION_DENIED', message: `The login may not change this account: ${message}`, retryable: false };
  if (code === 'TARGET_REFUSED') return { code: 'ROTATION_TARGET_REFUSED', message, retryable: false };
  if (timedOut.has(code)) return { code: 'ROTATION_TARGET_TIMEOUT', message, retryable: true };
  if (unreachable.has(code)) return { code: 'ROTATION_TARGET_UNREACHABLE', message, retryable: true };
  if (error instanceof DomainError) return { code: error.code, message, retryable: false };
  return { code: 'ROTATION_TARGET_ERROR', message, retryable: true };
}
