/** What went wrong, in terms a transport can map to its own status; only routes know HTTP codes. */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

/** An expected failure with a stable upper-case code; its message is safe to show to the caller. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: string,
    message: string,
    readonly kind: ErrorKind,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Shorthand constructors keep call sites to one line and the kinds consistent. */
export const invalid = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, message, 'invalid', details);
export const notFound = (code: string, message: string) => new DomainError(code, message, 'not_found');
export const conflict = (code: string, message: string) => new DomainError(code, message, 'conflict');
export const unauthenticated = (code: string, message: string) =>
  new DomainError(code, message, 'unauthenticated');
export const forbidden = (code: string, message: string) => new DomainError(code, message, 'forbidden');

/** A failure of the installation itself (wrong key, newer schema) that must stop start-up with this message. */
export class FatalConfigError extends Error {
  override readonly name = 'FatalConfigError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
