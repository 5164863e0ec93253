import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { sshPasswordPlugin } from '../src/features/rotation/plugins/ssh-password.js';
import type { AdminAccess, PluginContext } from '../src/features/rotation/plugins/plugin.types.js';
import { ASCII_SYMBOLS, generatePassword } from '../src/features/vault/password-generator.js';
import { startSshd, type TestSshUser } from '../test/support/sshd.js';

/**
 * Rotates `accounts` throwaway OS accounts on one real sshd through the ssh-password plugin, `concurrency` at a time
 * (passwd as the account itself, or sudo chpasswd through one admin account), then checks that every new password
 * logs in and every old one is refused. The figure is rotations per second over the rotation phase only.
 */
export async function benchSshRotation(options: { accounts?: number; concurrency?: number; admin?: boolean } = {}): Promise<{ lines: string[]; figures: Record<string, number> }> {
  const total = options.accounts ?? 200;
  const concurrency = options.concurrency ?? 8;
  const sshd = await startSshd();
  if (!sshd) return { lines: ['ssh-rotation: SKIPPED (sshd is missing; run scripts/setup-system.sh)'], figures: {} };
  try {
    const users: TestSshUser[] = [];
    for (let i = 0; i < total; i += 1) users.push(await sshd.createUser());
    let admin: AdminAccess | undefined;
    if (options.admin) {
      const account = await sshd.createUser({ sudo: true });
      admin = { username: account.username, secret: { secret: account.password } };
    }
    const ctx = (username: string): PluginContext => ({ username, dial: () => Promise.resolve(net.connect(sshd.port, '127.0.0.1')), timeoutMs: 30_000, info: {} });
    // Every printable symbol is allowed, so quoting on the way to passwd and chpasswd is exercised too.
    const rules = { minLength: 24, requireClasses: ['lower', 'upper', 'digit', 'symbol'] as const, allowedSymbols: ASCII_SYMBOLS };
    const next = new Map<string, string>();
    const failures: string[] = [];

    const pool = async (work: (user: TestSshUser) => Promise<void>) => {
      let index = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (index < users.length) await work(users[index++]!);
      }));
    };

    const started = process.hrtime.bigint();
    await pool(async (user) => {
      const secret = (await sshPasswordPlugin.next(ctx(user.username), () => generatePassword(rules))).secret;
      try {
        await sshPasswordPlugin.change(ctx(user.username), { current: { secret: user.password }, next: { secret }, admin });
        next.set(user.username, secret);
      } catch (error) {
        failures.push(`${user.username}: ${(error as { code?: string }).code ?? ''} ${(error as Error).message}`);
      }
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;

    let verified = 0;
    await pool(async (user) => {
      const secret = next.get(user.username);
      if (!secret) return;
      const ok = await sshPasswordPlugin.verify(ctx(user.username), { secret });
      const oldRefused = !(await sshPasswordPlugin.verify(ctx(user.username), { secret: user.password }));
      if (ok && oldRefused) verified += 1;
      else failures.push(`${user.username}: new password ${ok ? 'logs in' : 'does NOT log in'}, old one ${oldRefused ? 'refused' : 'still works'}`);
    });
    const perSec = Number((total / seconds).toFixed(2));
    const verdict = verified === total ? 'PASS' : 'FAIL';
    return {
      lines: [
        `ssh-rotation: rotated ${total} accounts on one sshd (${admin ? 'sudo chpasswd as an admin' : 'passwd as each account'}, concurrency ${concurrency}) in ${seconds.toFixed(2)} s: ${perSec} rotations/s; ${verified}/${total} verified (new logs in, old refused) ${verdict}`,
        ...failures.slice(0, 10).map((line) => `  ${line}`),
      ],
      figures: { sshRotationsPerSec: perSec, sshRotations: total, sshRotationsVerified: verified, sshRotationSeconds: Number(seconds.toFixed(3)) },
    };
  } finally {
    await sshd.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flag = (name: string) => {
    const at = process.argv.indexOf(`--${name}`);
    return at === -1 ? undefined : process.argv[at + 1];
  };
  const { lines, figures } = await benchSshRotation({
    accounts: flag('accounts') ? Number(flag('accounts')) : undefined,
    concurrency: flag('concurrency') ? Number(flag('concurrency')) : undefined,
    admin: process.argv.includes('--admin'),
  });
  for (const line of lines) console.log(line);
  if (figures.sshRotationsVerified !== undefined && figures.sshRotationsVerified !== figures.sshRotations) process.exitCode = 1;
}
