import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSecretFormat } from './credentials.secret-format.js';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';
const hasKeygen = existsSync(SSH_KEYGEN);
if (!hasKeygen) {
  const line = 'ssh-keygen is not installed: the OpenSSH key format tests are SKIPPED. Run scripts/setup-system.sh.';
  if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
  console.warn(`\n!!! ${line}\n`);
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'custos-keys-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh key from the real ssh-keygen: answers the private and public files' text. */
function keygen(name: string, args: string[]) {
  const file = path.join(scratch, name);
  execFileSync(SSH_KEYGEN, ['-q', '-f', file, '-C', 'test@custos', ...args]);
  return { privateKey: readFileSync(file, 'utf8'), publicKey: readFileSync(`${file}.pub`, 'utf8') };
}

/** The code a check throws, or 'ok'. */
function outcome(type: 'password' | 'ssh-key' | 'api-key', secret: string, passphrase?: string): string {
  try {
    checkSecretFormat(type, secret, passphrase);
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describe('secret formats by credential type', () => {
  it('passwords: any printable text up to 1024 characters, no control characters', () => {
    expect(outcome('password', 'p')).toBe('ok');
    expect(outcome('password', 'pässwörd with spaces ✓')).toBe('ok');
    expect(outcome('password', 'x'.repeat(1024))).toBe('ok');
    expect(outcome('password', 'x'.repeat(1025))).toBe('SECRET_TOO_LONG');
    for (const bad of ['a\nb', 'tab\there', 'nul\u0000', 'del\u007f']) expect(outcome('password', bad), JSON.stringify(bad)).toBe('SECRET_INVALID');
    expect(outcome('password', 'x', 'passphrase')).toBe('PASSPHRASE_NOT_ALLOWED');
  });

  it('API keys: 8 to 8192 characters without whitespace', () => {
    expect(outcome('api-key', 'ak_12345')).toBe('ok');
    expect(outcome('api-key', 'ak_1234')).toBe('SECRET_TOO_SHORT');
    expect(outcome('api-key', 'k'.repeat(8193))).toBe('SECRET_TOO_LONG');
    expect(outcome('api-key', 'ak_1234 5678')).toBe('SECRET_INVALID');
    expect(outcome('api-key', 'ak_12345678\n')).toBe('SECRET_INVALID');
  });

  it('PEM private keys (PKCS#1, SEC1, PKCS#8) parse, with the passphrase when encrypted', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const encrypted = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'open sesame' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const legacyEncrypted = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'open sesame' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } });
    expect(outcome('ssh-key', rsa.privateKey)).toBe('ok');
    expect(outcome('ssh-key', `\n${ec.privateKey}\n\n`)).toBe('ok');
    expect(outcome('ssh-key', rsa.privateKey.replace(/\n/g, '\r\n'))).toBe('ok');
    expect(outcome('ssh-key', encrypted.privateKey, 'open sesame')).toBe('ok');
    expect(outcome('ssh-key', legacyEncrypted.privateKey, 'open sesame')).toBe('ok');
    expect(outcome('ssh-key', encrypted.privateKey)).toBe('SSH_KEY_PASSPHRASE_REQUIRED');
    expect(outcome('ssh-key', legacyEncrypted.privateKey)).toBe('SSH_KEY_PASSPHRASE_REQUIRED');
    expect(outcome('ssh-key', encrypted.privateKey, 'wrong')).toBe('SSH_KEY_PASSPHRASE_WRONG');
    expect(outcome('ssh-key', rsa.privateKey, 'unneeded')).toBe('PASSPHRASE_NOT_NEEDED');
    for (const publicKey of [rsa.publicKey, ec.publicKey]) expect(outcome('ssh-key', publicKey)).toBe('SSH_KEY_IS_PUBLIC');
    const lines = rsa.privateKey.trim().split('\n');
    expect(outcome('ssh-key', [...lines.slice(0, 3), ...lines.slice(5)].join('\n'))).toBe('SSH_KEY_INVALID');
    expect(outcome('ssh-key', lines.slice(0, -1).join('\n'))).toBe('SSH_KEY_INVALID');
  });

  it.skipIf(!hasKeygen)('OpenSSH keys from ssh-keygen: ed25519, ecdsa and rsa; encrypted ones need their passphrase; .pub files are refused', () => {
    for (const [name, args] of [['ed', ['-t', 'ed25519', '-N', '']], ['ecdsa', ['-t', 'ecdsa', '-N', '']], ['rsa', ['-t', 'rsa', '-b', '2048', '-N', '']]] as const) {
      const { privateKey, publicKey } = keygen(name, [...args]);
      expect(privateKey).toContain('BEGIN OPENSSH PRIVATE KEY');
      expect(outcome('ssh-key', privateKey), name).toBe('ok');
      expect(outcome('ssh-key', privateKey, 'unneeded'), name).toBe('PASSPHRASE_NOT_NEEDED');
      expect(outcome('ssh-key', publicKey), name).toBe('SSH_KEY_IS_PUBLIC');
    }
    const locked = keygen('locked', ['-t', 'ed25519', '-N', 'correct passphrase']);
    expect(outcome('ssh-key', locked.privateKey, 'correct passphrase')).toBe('ok');
    expect(outcome('ssh-key', locked.privateKey)).toBe('SSH_KEY_PASSPHRASE_REQUIRED');
    const pem = keygen('pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '']);
    expect(pem.privateKey).toContain('BEGIN RSA PRIVATE KEY');
    expect(outcome('ssh-key', pem.privateKey)).toBe('ok');
    const rfc4716 = execFileSync(SSH_KEYGEN, ['-e', '-f', path.join(scratch, 'ed.pub')], { encoding: 'utf8' });
    expect(outcome('ssh-key', rfc4716)).toBe('SSH_KEY_IS_PUBLIC');
  });

  it.skipIf(!hasKeygen)('a damaged OpenSSH key is refused: wrong magic, truncated body, check integers that differ', () => {
    const { privateKey } = keygen('damage', ['-t', 'ed25519', '-N', '']);
    const [begin, ...rest] = privateKey.trim().split('\n');
    const end = rest.pop()!;
    const body = Buffer.from(rest.join(''), 'base64');
    const wrap = (bytes: Buffer) => `${begin}\n${bytes.toString('base64').replace(/(.{70})/g, '$1\n')}\n${end}\n`;
    expect(outcome('ssh-key', wrap(body))).toBe('ok');
    const magic = Buffer.from(body);
    magic.write('openssh-key-v2', 0, 'latin1');
    expect(outcome('ssh-key', wrap(magic))).toBe('SSH_KEY_INVALID');
    expect(outcome('ssh-key', wrap(body.subarray(0, 60)))).toBe('SSH_KEY_INVALID');
    // The private section starts with two equal check integers; flip a bit of the second.
    // The key type's second occurrence opens the private section's key, right after the two check integers and its length.
    const checkAt = body.indexOf(Buffer.from('ssh-ed25519', 'latin1'), 60) - 4 - 8;
    const flipped = Buffer.from(body);
    flipped[checkAt + 7] = flipped[checkAt + 7]! ^ 1;
    expect(outcome('ssh-key', wrap(flipped))).toBe('SSH_KEY_INVALID');
  });

  it('anything else that is not a private key is refused with what to send instead', () => {
    expect(outcome('ssh-key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv0 user@host')).toBe('SSH_KEY_IS_PUBLIC');
    expect(outcome('ssh-key', 'ecdsa-sha2-nistp256 AAAAE2VjZHNh user@host')).toBe('SSH_KEY_IS_PUBLIC');
    expect(outcome('ssh-key', 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none')).toBe('SSH_KEY_FORMAT');
    expect(outcome('ssh-key', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----')).toBe('SSH_KEY_INVALID');
    expect(outcome('ssh-key', '-----BEGIN OPENSSH PRIVATE KEY-----\nnot*base64\n-----END OPENSSH PRIVATE KEY-----')).toBe('SSH_KEY_INVALID');
    expect(outcome('ssh-key', 'just a password')).toBe('SSH_KEY_INVALID');
  });
});
