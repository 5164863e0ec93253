import type { Client } from 'ssh2';
import { RotationFailure, scrub } from '../rotation.errors.js';
import type { AdminAccess, PluginContext, RotationPlugin, TargetSecret } from './plugin.types.js';
import { assertLineSafe, assertUsername, authFor, execCommand, isAuthRefusal, openSsh, type ExecResult } from './ssh-session.js';
import { withDeadline } from './streams.js';

// passwd's questions across PAM and shadow versions: "Current password:", "(current) UNIX password:",
// "New password:", "Enter new UNIX password:", "Retype new password:", "Re-enter new password:".
const CURRENT_PROMPT = /(current|old)[^\n:]*password[^\n:]*:\s*$/i;
const NEW_PROMPT = /(new|retype|re-enter|again)[^\n:]*password[^\n:]*:\s*$/i;
const ANY_PROMPT = /password[^\n:]*:\s*$/i;
// What passwd says when it gives up; the channel is closed at once instead of waiting for another prompt.
const REFUSED_CURRENT = /authentication (token manipulation error|failure)|incorrect|wrong password/i;
const REJECTED_NEW = /BAD PASSWORD|too (short|simple|similar|long)|palindrome|dictionary|unchanged|do not match|must (wait|choose)|not changed/i;
const SUCCESS = /success|updated|changed/i;

/** The last lines of a program's output with every secret taken out, safe for an error message. */
const tail = (text: string, secrets: string[]) => scrub(text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).slice(-3).join(' / '), secrets);

/** Answers passwd's prompts on a pty: the current password once, then the new one to each new/retype prompt. */
function runPasswd(client: Client, current: string, next: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // LC_ALL=C: the prompts and messages are matched in English whatever the account's locale is.
    client.exec('LC_ALL=C LANG=C passwd', { pty: { term: 'dumb', rows: 24, cols: 200 } }, (error, channel) => {
      if (error) return reject(error);
      let pending = '';
      let transcript = '';
      let answers = 0;
      let failure: RotationFailure | null = null;
      const give = (value: string) => {
        answers += 1;
        pending = '';
        channel.write(`${value}\n`);
      };
      const fail = (code: string, message: string, retryable: boolean) => {
        failure ??= new RotationFailure(code, message, retryable);
        channel.close();
      };
      channel.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        pending += text;
        transcript = (transcript + text).slice(-4000);
        if (REFUSED_CURRENT.test(pending)) return fail('ROTATION_AUTH_FAILED', `passwd refused the current password of the account: ${tail(transcript, [current, next])}`, false);
        if (REJECTED_NEW.test(pending)) return fail('ROTATION_SSH_PASSWORD_REJECTED', `The target's password policy refused the new password (adjust the rotation policy's password rules): ${tail(transcript, [current, next])}`, false);
        // Three answers are current + new + retype; a fourth question means passwd is asking again after a failure.
        if (answers >= 4 && ANY_PROMPT.test(pending)) return fail('ROTATION_SSH_PASSWD_FAILED', `passwd kept asking: ${tail(transcript, [current, next])}`, true);
        if (CURRENT_PROMPT.test(pending)) give(current);
        else if (NEW_PROMPT.test(pending)) give(next);
        else if (ANY_PROMPT.test(pending)) give(answers === 0 ? current : next);
      });
      channel.stderr.on('data', (chunk: Buffer) => (transcript = (transcript + chunk.toString('utf8')).slice(-4000)));
      let code: number | null = null;
      channel.on('exit', (exitCode: number | null) => (code = exitCode));
      channel.on('close', () => {
        if (failure) return reject(failure);
        if (code === 0 && answers >= 2 && SUCCESS.test(transcript)) return resolve();
        reject(new RotationFailure('ROTATION_SSH_PASSWD_FAILED', `passwd did not change the password (exit ${code ?? 'none'}): ${tail(transcript, [current, next])}`, true));
      });
    });
  });
}

/** Classifies what `sudo chpasswd` printed when it did not succeed. */
function sudoFailure(result: ExecResult, secrets: string[]): RotationFailure {
  const text = `${result.stderr}\n${result.stdout}`;
  const said = tail(text, secrets);
  if (/does not exist|unknown user|no such user/i.test(text)) return new RotationFailure('ROTATION_ACCOUNT_NOT_FOUND', `The target has no account of that name: ${said}`, false);
  if (/not in the sudoers|not allowed|may not run|incorrect password|password is required|no tty present|a terminal is required|must have a tty/i.test(text)) return new RotationFailure('ROTATION_PERMISSION_DENIED', `The admin account may not run sudo /usr/sbin/chpasswd: ${said}`, false);
  if (/command not found|no such file/i.test(text)) return new RotationFailure('ROTATION_SSH_SUDO_FAILED', `sudo or chpasswd is missing on the target: ${said}`, false);
  return new RotationFailure('ROTATION_SSH_SUDO_FAILED', `sudo chpasswd failed (exit ${result.code ?? 'none'}): ${said}`, true);
}

/** Sets the account's password from the admin session: chpasswd as root, else sudo (without a password first, then with the admin's). */
async function chpasswdAsAdmin(client: Client, admin: AdminAccess, username: string, next: string): Promise<void> {
  const line = `${username}:${next}\n`;
  const secrets = [next, admin.secret.secret];
  // chpasswd reports an unknown account only as a PAM failure; asking first gives the operator a clear answer.
  const known = await execCommand(client, `id -u -- '${username}'`);
  if (known.code !== 0) throw new RotationFailure('ROTATION_ACCOUNT_NOT_FOUND', `The target has no account named ${username}.`, false);
  if (admin.username === 'root') {
    const result = await execCommand(client, 'LC_ALL=C /usr/sbin/chpasswd', line);
    if (result.code !== 0) throw sudoFailure(result, secrets);
    return;
  }
  // -n first: with a NOPASSWD rule nothing may be read as a sudo password, or the chpasswd line would be eaten.
  const quiet = await execCommand(client, 'LC_ALL=C sudo -n /usr/sbin/chpasswd', line);
  if (quiet.code === 0) return;
  if (!/password is required/i.test(quiet.stderr) || 'privateKey' in authFor(admin.secret)) throw sudoFailure(quiet, secrets);
  // sudo -S reads exactly one line as the password (the SSH login just proved it right), chpasswd reads the rest.
  const withPassword = await execCommand(client, "LC_ALL=C sudo -S -p '' /usr/sbin/chpasswd", `${admin.secret.secret}\n${line}`);
  if (withPassword.code !== 0) throw sudoFailure(withPassword, secrets);
}

/** Unix accounts reached over SSH with a password: verify by logging in, change with passwd (itself) or sudo chpasswd (admin). */
export const sshPasswordPlugin: RotationPlugin = {
  name: 'ssh-password',

  async verify(ctx: PluginContext, secret: TargetSecret): Promise<boolean> {
    return withDeadline('an SSH login', ctx.timeoutMs, async (track) => {
      try {
        const client = await openSsh(ctx, ctx.username, { password: secret.secret }, track);
        client.end();
        return true;
      } catch (error) {
        if (isAuthRefusal(error)) return false;
        throw error;
      }
    });
  },

  async next(_ctx: PluginContext, generatePassword: () => string): Promise<TargetSecret> {
    return { secret: generatePassword() };
  },

  async change(ctx, change): Promise<void> {
    assertUsername(ctx.username);
    assertLineSafe('new password', change.next.secret);
    const { admin } = change;
    // passwd asks twice and checks its policy; a few round trips more than a login.
    await withDeadline(admin ? 'sudo chpasswd over SSH' : 'passwd over SSH', ctx.timeoutMs * 2, async (track) => {
      const client = admin
        ? await openSsh(ctx, admin.username, authFor(admin.secret), track)
        : await openSsh(ctx, ctx.username, { password: change.current.secret }, track);
      try {
        if (admin) await chpasswdAsAdmin(client, admin, ctx.username, change.next.secret);
        else {
          assertLineSafe('current password', change.current.secret);
          await runPasswd(client, change.current.secret, change.next.secret);
        }
      } finally {
        client.end();
      }
    });
  },
};
