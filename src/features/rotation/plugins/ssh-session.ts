import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import ssh2, { type Client, type ClientChannel, type ConnectConfig, type ParsedKey } from 'ssh2';
import { RotationFailure } from '../rotation.errors.js';
import type { PluginContext, TargetSecret } from './plugin.types.js';

// ssh2 is CommonJS: Node's ESM loader gives only its default export, so named value imports would fail outside vitest.
const { Client: SshClient, utils } = ssh2;

/** How one SSH login authenticates: a password (also answered to keyboard-interactive) or a private key that parses. */
export type SshAuth = { password: string } | { privateKey: string; passphrase?: string };

/** Whether a stored secret is a private key (an admin credential may be either kind). */
export const isPrivateKey = (secret: string) => /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(secret.trim());

/** The key inside a stored secret, or null when it is not a key or its passphrase is wrong. */
export function parsePrivateKey(secret: TargetSecret): ParsedKey | null {
  const parsed = utils.parseKey(secret.secret, secret.passphrase ?? undefined);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error || !key.isPrivateKey()) return null;
  return key;
}

/** The SSH login a secret makes; a key that cannot be read is a permanent failure (retrying cannot fix it). */
export function authFor(secret: TargetSecret): SshAuth {
  return isPrivateKey(secret.secret) ? keyAuth(secret).auth : { password: secret.secret };
}

/**
 * A private key's login together with the parsed key (parsing an encrypted key costs half a second of bcrypt, so
 * callers parse once and use both).
 */
export function keyAuth(secret: TargetSecret): { auth: SshAuth; key: ParsedKey } {
  const key = parsePrivateKey(secret);
  if (!key) throw new RotationFailure('ROTATION_SSH_KEY_INVALID', 'The stored private key cannot be read: it is not an SSH private key, or its passphrase is wrong.', false);
  // ssh2 takes the key as text only (a parsed key in the config is ignored), so the checked text is passed on.
  return { auth: { privateKey: secret.secret, ...(secret.passphrase ? { passphrase: secret.passphrase } : {}) }, key };
}

/** The SHA256 fingerprint of a host key as ssh-keygen -l prints it (SHA256:base64, no padding). */
export const fingerprintOf = (key: Buffer) => `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

/** Whether an error is the target refusing the credentials (as opposed to the network or the protocol failing). */
export const isAuthRefusal = (error: unknown) => (error as { level?: string }).level === 'client-authentication' || (error as { code?: string }).code === 'ROTATION_AUTH_FAILED';

/**
 * Logs in over a fresh guarded connection. Refused credentials reject with ROTATION_AUTH_FAILED; a host key that does
 * not match `info.hostKeyFingerprint` (when the credential pins one) with ROTATION_SSH_HOST_KEY_MISMATCH.
 */
export async function openSsh(ctx: PluginContext, username: string, auth: SshAuth, track: (stream: Duplex) => Duplex): Promise<Client> {
  const sock = track(await ctx.dial());
  const pinned = typeof ctx.info.hostKeyFingerprint === 'string' && ctx.info.hostKeyFingerprint ? ctx.info.hostKeyFingerprint : null;
  let hostKeyMismatch = false;
  const client = new SshClient();
  const password = 'password' in auth ? auth.password : null;
  const config: ConnectConfig = {
    sock: sock as never,
    username,
    // The caller's deadline is the real limit; ssh2's own must not fire first with a vaguer message.
    readyTimeout: ctx.timeoutMs * 2,
    keepaliveInterval: 0,
    ...('password' in auth ? { password: auth.password, tryKeyboard: true } : { privateKey: auth.privateKey, passphrase: auth.passphrase }),
    hostVerifier: (key: Buffer) => {
      if (!pinned) return true;
      hostKeyMismatch = fingerprintOf(key) !== pinned;
      return !hostKeyMismatch;
    },
  };
  return new Promise<Client>((resolve, reject) => {
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => {
      // PAM-only servers ask for the password this way; any other question (a one-time code) gets no answer.
      finish(prompts.map((prompt) => (password !== null && !prompt.echo && /password/i.test(prompt.prompt) ? password : '')));
    });
    client.once('ready', () => resolve(client));
    client.once('error', (error: Error & { level?: string }) => {
      client.end();
      sock.destroy();
      if (hostKeyMismatch) reject(new RotationFailure('ROTATION_SSH_HOST_KEY_MISMATCH', 'The target presented a host key that does not match the fingerprint pinned on the credential (hostKeyFingerprint).', false));
      else if (error.level === 'client-authentication') reject(Object.assign(new RotationFailure('ROTATION_AUTH_FAILED', `The target refused the SSH login of ${username}.`, false), { level: error.level }));
      else reject(Object.assign(new Error(`SSH failed: ${error.message}`), { code: (error as { code?: string }).code ?? 'ROTATION_SSH_ERROR' }));
    });
    // A later failure on a session in use surfaces through the channel; this keeps it from being unhandled.
    client.on('error', () => undefined);
    client.connect(config);
  });
}

/** What one remote command printed and how it ended. */
export interface ExecResult { code: number | null; stdout: string; stderr: string }

/** Runs one command, writes `stdin` (then end of input), and collects its output. */
export function execCommand(client: Client, command: string, stdin = ''): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, channel) => {
      if (error) return reject(error);
      collect(channel, resolve);
      channel.end(stdin);
    });
  });
}

/** Gathers a channel's output until it closes. */
export function collect(channel: ClientChannel, done: (result: ExecResult) => void): void {
  let stdout = '';
  let stderr = '';
  let code: number | null = null;
  channel.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString('utf8')).slice(-16_000)));
  channel.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-16_000)));
  channel.on('exit', (exitCode: number | null) => (code = exitCode));
  channel.on('close', () => done({ code, stdout, stderr }));
}

/** Refuses a value that would break the line-oriented protocols (chpasswd, a pty, authorized_keys) it travels in. */
export function assertLineSafe(what: string, value: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new RotationFailure('ROTATION_SSH_UNSAFE_VALUE', `The ${what} holds a control character (a line break, a tab) that an SSH target cannot take.`, false);
}

/** A login name safe to put in a command line and a chpasswd line. */
export function assertUsername(username: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}\$?$/.test(username)) throw new RotationFailure('ROTATION_SSH_BAD_USERNAME', 'The account name is not a valid Unix login name.', false);
}
