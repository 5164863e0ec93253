import ssh2, { type Client, type ParsedKey } from 'ssh2';
import { RotationFailure, scrub } from '../rotation.errors.js';
import type { AdminAccess, PluginContext, RotationPlugin, TargetSecret } from './plugin.types.js';
import { assertUsername, authFor, execCommand, isAuthRefusal, isPrivateKey, keyAuth, openSsh, parsePrivateKey, type SshAuth } from './ssh-session.js';
import { withDeadline } from './streams.js';

/** The authorized_keys line of a parsed key, and its base64 key blob (what identifies it inside any line). */
function publicOf(key: ParsedKey): { line: string; blob: string } {
  const blob = key.getPublicSSH().toString('base64');
  // A comment could carry anything; only a plain word is kept so the line stays one harmless line.
  const comment = /^[\w.@-]{1,64}$/.test(key.comment) ? ` ${key.comment}` : '';
  return { line: `${key.type} ${blob}${comment}`, blob };
}

// The line is a key type, base64 and a plain-word comment, so it can sit inside single quotes; the file is checked to
// end with a line break before appending. Nothing is read from stdin, so the script can itself arrive on stdin (sudo sh -s).
const appendScript = (key: { line: string; blob: string }) => `umask 077; mkdir -p "$HOME/.ssh" && f="$HOME/.ssh/authorized_keys" && touch "$f" || exit 3
if ! grep -qF '${key.blob}' "$f"; then { { [ ! -s "$f" ] || [ -z "$(tail -c1 "$f")" ] || echo >> "$f"; } && printf '%s\\n' '${key.line}' >> "$f"; } || exit 3; fi`;

// Filters into a temp file beside the original and renames it over, so a failure half-way leaves the old file whole;
// it refuses to write a file that lost the key the session logged in with.
const removeScript = (oldBlob: string, keepBlob: string) => `f="$HOME/.ssh/authorized_keys"; [ -f "$f" ] || exit 0
t=$(mktemp "$f.custos.XXXXXX") || exit 3
grep -vF '${oldBlob}' "$f" > "$t"; [ $? -le 1 ] || { rm -f "$t"; exit 3; }
grep -qF '${keepBlob}' "$t" || { rm -f "$t"; exit 4; }
{ chmod --reference="$f" "$t" 2>/dev/null || chmod 600 "$t"; } && mv -f "$t" "$f"`;

async function run(client: Client, script: string, stdin: string, what: string): Promise<void> {
  const result = await execCommand(client, script, stdin);
  if (result.code === 0) return;
  const said = scrub(`${result.stderr} ${result.stdout}`.trim().slice(-300), []);
  throw new RotationFailure('ROTATION_SSH_KEY_UPDATE_FAILED', `Could not ${what} ~/.ssh/authorized_keys on the target (exit ${result.code ?? 'none'}): ${said}`, true);
}

/** How an admin session runs a shell script (on stdin) as the account: su as root, else sudo without a password. */
const asAccount = (admin: AdminAccess, username: string) => (admin.username === 'root' ? `LC_ALL=C su -s /bin/sh - '${username}'` : `LC_ALL=C sudo -n -H -u '${username}' /bin/sh -s`);

/**
 * Reconciliation: the stored key no longer logs in, so the admin credential installs the new key as the account
 * (its own file, its own ownership) and takes out the stored key, if it is still listed.
 */
async function resetAsAdmin(ctx: PluginContext, admin: AdminAccess, current: TargetSecret, newKey: { line: string; blob: string }): Promise<void> {
  const parsed = parsePrivateKey(current);
  const oldBlob = parsed ? publicOf(parsed).blob : null;
  const script = oldBlob && oldBlob !== newKey.blob ? `${appendScript(newKey)}\n${removeScript(oldBlob, newKey.blob)}` : appendScript(newKey);
  await withDeadline('resetting the SSH key as the admin', ctx.timeoutMs * 2, async (track) => {
    const client = await openSsh(ctx, admin.username, authFor(admin.secret), track);
    try {
      const result = await execCommand(client, asAccount(admin, ctx.username), script);
      if (result.code === 0) return;
      const said = scrub(`${result.stderr} ${result.stdout}`.trim().slice(-300), [admin.secret.secret]);
      if (/password is required|not allowed|may not run|not in the sudoers|authentication failure|must be run from a terminal/i.test(said)) {
        throw new RotationFailure('ROTATION_PERMISSION_DENIED', `The admin account may not run a shell as ${ctx.username} (sudo -u ${ctx.username} /bin/sh): ${said}`, false);
      }
      if (/does not exist|unknown user|no such user|no passwd entry/i.test(said)) throw new RotationFailure('ROTATION_ACCOUNT_NOT_FOUND', `The target has no account named ${ctx.username}.`, false);
      throw new RotationFailure('ROTATION_SSH_KEY_UPDATE_FAILED', `Could not reset ~/.ssh/authorized_keys of ${ctx.username} (exit ${result.code ?? 'none'}): ${said}`, true);
    } finally {
      client.end();
    }
  });
}

/** Logs in with a key within the deadline and runs `work` on the session. */
const withKeySession = <T>(ctx: PluginContext, auth: SshAuth, what: string, work: (client: Client) => Promise<T>) =>
  withDeadline(what, ctx.timeoutMs, async (track) => {
    const client = await openSsh(ctx, ctx.username, auth, track);
    try {
      return await work(client);
    } finally {
      client.end();
    }
  });

/**
 * Unix accounts that log in over SSH with a key pair. A change adds the new public key, proves it logs in on a second
 * connection, and only then removes the old one, so no failure in between locks the account out. A rotation uses the
 * account's own key; only a reset (reconciliation) uses the admin credential, which runs the edit as the account.
 */
export const sshKeyPlugin: RotationPlugin = {
  name: 'ssh-key',

  async verify(ctx: PluginContext, secret: TargetSecret): Promise<boolean> {
    // A secret that is not a readable key cannot log in; that is an answer, not an unreachable target.
    if (!isPrivateKey(secret.secret)) return false;
    let auth: SshAuth;
    try {
      auth = keyAuth(secret).auth;
    } catch {
      return false;
    }
    return withDeadline('an SSH key login', ctx.timeoutMs, async (track) => {
      try {
        const client = await openSsh(ctx, ctx.username, auth, track);
        client.end();
        return true;
      } catch (error) {
        if (isAuthRefusal(error)) return false;
        throw error;
      }
    });
  },

  async next(ctx: PluginContext, generatePassword: () => string): Promise<TargetSecret> {
    // The engine does not pass the current key here; a credential whose key must be encrypted says so in its info.
    const passphrase = ctx.info.keyPassphrase === true ? generatePassword() : null;
    const comment = 'custos-rotated';
    // ssh2 1.17 writes about one ed25519 key in 200 that its own parser rejects (measured: 15 of 3000): a key that
    // could not log in later must never become the pending secret, so it is drawn again.
    for (;;) {
      const pair = passphrase
        ? ssh2.utils.generateKeyPairSync('ed25519', { comment, passphrase, cipher: 'aes256-ctr', rounds: 16 })
        : ssh2.utils.generateKeyPairSync('ed25519', { comment });
      if (parsePrivateKey({ secret: pair.private, passphrase })) return { secret: pair.private, passphrase };
    }
  },

  async change(ctx, change): Promise<void> {
    assertUsername(ctx.username);
    const next = keyAuth(change.next);
    if (change.reset) {
      if (!change.admin) throw new RotationFailure('ROTATION_RECONCILE_NOT_SET', 'Resetting a key that no longer logs in needs an admin credential (additionalInfo.reconcileCredentialId).', false);
      return resetAsAdmin(ctx, change.admin, change.current, publicOf(next.key));
    }
    const current = keyAuth(change.current);
    const oldKey = publicOf(current.key);
    const newKey = publicOf(next.key);
    await withKeySession(ctx, current.auth, 'adding the new SSH key', (client) => run(client, appendScript(newKey), '', 'add the new key to'));
    if (newKey.blob === oldKey.blob) return;
    try {
      await withKeySession(ctx, next.auth, 'removing the old SSH key', (client) => run(client, removeScript(oldKey.blob, newKey.blob), '', 'remove the old key from'));
    } catch (error) {
      if (!isAuthRefusal(error)) throw error;
      // The target does not take the new key (another AuthorizedKeysFile, a key type it refuses): take it out again.
      await withKeySession(ctx, current.auth, 'withdrawing the new SSH key', (client) => run(client, removeScript(newKey.blob, oldKey.blob), '', 'withdraw the new key from')).catch(() => undefined);
      throw new RotationFailure('ROTATION_SSH_KEY_NOT_ACCEPTED', 'The target does not accept the new key after it was added to ~/.ssh/authorized_keys; the old key was kept.', false);
    }
  },
};
