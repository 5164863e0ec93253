import type { Duplex } from 'node:stream';
/** A secret as the vault stores it: a password or api key, or a private key with an optional passphrase. */
export interface TargetSecret { secret: string; passphrase?: string | null }
/** What a plugin knows of the account it works on; `dial` opens a fresh guarded connection to the device's port. */
export interface PluginContext {
  username: string;
  dial: () => Promise<Duplex>;
  timeoutMs: number;
  /** The credential's additional info, such as { database: 'postgres' }. */
  info: Record<string, unknown>;
}
/** Another credential of the same device allowed to change this one (sudo chpasswd, ALTER ROLE as a superuser). */
export interface AdminAccess { username: string; secret: TargetSecret }
/** One kind of target account Custos can rotate. */
export interface RotationPlugin {
  name: 'ssh-password' | 'ssh-key' | 'postgres' | 'mysql';
  /** Whether the account logs in with this secret: true/false; throws only when the target cannot be reached. */
  verify(ctx: PluginContext, secret: TargetSecret): Promise<boolean>;
  /** A new secret for this account (the password generator's output for passwords; a new ed25519 key for ssh-key). */
  next(ctx: PluginContext, generatePassword: () => string): Promise<TargetSecret>;
  /**
   * Changes the account on the target from `current` to `next`, as the account itself or with `admin`. With `reset`
   * (reconciliation) `current` no longer logs in: only `admin` may make the change.
   */
  change(ctx: PluginContext, change: { current: TargetSecret; next: TargetSecret; admin?: AdminAccess; reset?: boolean }): Promise<void>;
}
