import { createPrivateKey } from 'node:crypto';
import { invalid } from '../../platform/errors.js';
import type { CredentialType } from './credentials.schemas.js';

const PASSWORD_MAX = 1024;
const API_KEY_MIN = 8;
const API_KEY_MAX = 8192;
const pemLabels = ['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'];
const keyTypes = ['rsa', 'ec', 'ed25519', 'ed448', 'dsa'];
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

const keyInvalid = (why: string) =>
  invalid('SSH_KEY_INVALID', `${why} An ssh-key secret is a whole private key block, from -----BEGIN OPENSSH PRIVATE KEY----- (or a PEM BEGIN line) to its -----END ...----- line, with its line breaks.`);
const passphraseRequired = () => invalid('SSH_KEY_PASSPHRASE_REQUIRED', 'This private key is encrypted: send its passphrase too, so the key can be used later.');
const passphraseNotNeeded = () => invalid('PASSPHRASE_NOT_NEEDED', 'This private key is not encrypted, so it has no passphrase: leave passphrase out.');

/** Reads the length-prefixed fields of the OpenSSH key format (RFC 4251 strings); throws past the end. */
function sshReader(bytes: Buffer, start: number) {
  let at = start;
  const take = (n: number) => {
    if (n < 0 || at + n > bytes.length) throw keyInvalid('The key is cut short.');
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const uint32 = () => take(4).readUInt32BE(0);
  return { uint32, string: () => take(uint32()) };
}

/** The openssh-key-v1 container: one key, and for an unencrypted key the two check integers agree. */
function checkOpenSsh(body: string, passphrase: string | undefined): void {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(body)) throw keyInvalid('The key body is not base64.');
  const bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (!bytes.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) throw keyInvalid('The key body is not an OpenSSH private key.');
  const read = sshReader(bytes, OPENSSH_MAGIC.length);
  const cipher = read.string().toString('latin1');
  read.string(); // kdf name
  read.string(); // kdf options
  if (read.uint32() !== 1) throw keyInvalid('The block holds more than one key; store one key per credential.');
  read.string(); // public key
  const secret = read.string();
  const encrypted = cipher !== 'none';
  if (encrypted && passphrase === undefined) throw passphraseRequired();
  if (!encrypted && passphrase !== undefined) throw passphraseNotNeeded();
  // An encrypted key's passphrase cannot be tried here (bcrypt-pbkdf): it is checked when the key is first used.
  if (!encrypted && (secret.length < 8 || secret.readUInt32BE(0) !== secret.readUInt32BE(4))) throw keyInvalid('The key is damaged (its check integers differ).');
}

/** PKCS#1, SEC1 and PKCS#8 keys: Node parses them, with the passphrase when they are encrypted. */
function checkPem(text: string, label: string, body: string, passphrase: string | undefined): void {
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:\s*4,ENCRYPTED/m.test(body);
  if (encrypted && passphrase === undefined) throw passphraseRequired();
  if (!encrypted && passphrase !== undefined) throw passphraseNotNeeded();
  let type: string | undefined;
  try {
    type = createPrivateKey({ key: text, format: 'pem', ...(encrypted ? { passphrase } : {}) }).asymmetricKeyType;
  } catch {
    if (encrypted) throw invalid('SSH_KEY_PASSPHRASE_WRONG', 'The passphrase does not open this private key; check it and send both again.');
    throw keyInvalid('The key could not be read.');
  }
  if (!type || !keyTypes.includes(type)) throw keyInvalid(`A ${type ?? 'unknown'} key is not an ssh key type (rsa, ecdsa, ed25519, dsa).`);
}

/** A private key as ssh uses it; a public key, a PuTTY file or anything else is refused with what to send instead. */
function checkPrivateKey(secret: string, passphrase: string | undefined): void {
  const text = secret.trim();
  if (/^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-\S+|sk-\S+)\s+AAAA/.test(text) || /-----BEGIN (RSA |EC |DSA )?PUBLIC KEY-----/.test(text) || text.startsWith('---- BEGIN SSH2 PUBLIC KEY')) {
    throw invalid('SSH_KEY_IS_PUBLIC', "This is a public key. Store the private key instead (the file without .pub, beginning with -----BEGIN OPENSSH PRIVATE KEY-----); the public key belongs in the target's authorized_keys.");
  }
  if (text.startsWith('PuTTY-User-Key-File-')) {
    throw invalid('SSH_KEY_FORMAT', 'This is a PuTTY key (.ppk). Convert it first with: puttygen key.ppk -O private-openssh -o key, and store the result.');
  }
  const block = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]+?)\r?\n-----END \1-----$/.exec(text);
  if (!block) throw keyInvalid('This is not a private key block.');
  const [, label, body] = block as unknown as [string, string, string];
  if (label === 'OPENSSH PRIVATE KEY') return checkOpenSsh(body, passphrase);
  if (pemLabels.includes(label)) return checkPem(text, label, body, passphrase);
  throw keyInvalid(`A ${label} block is not a private key.`);
}

/**
 * Checks a secret against its credential type before it is sealed: size and characters of passwords and API keys,
 * the format of private keys. Strength rules are the credential policies' (the checkSecret hook); messages never
 * quote the secret.
 */
export function checkSecretFormat(type: CredentialType, secret: string, passphrase?: string): void {
  if (passphrase !== undefined && type !== 'ssh-key') throw invalid('PASSPHRASE_NOT_ALLOWED', `Only an ssh-key credential has a passphrase; a ${type} has none.`);
  if (type === 'ssh-key') return checkPrivateKey(secret, passphrase);
  if (type === 'password') {
    if (secret.length > PASSWORD_MAX) throw invalid('SECRET_TOO_LONG', `A password is at most ${PASSWORD_MAX} characters.`);
    if (/\p{Cc}/u.test(secret)) throw invalid('SECRET_INVALID', 'A password cannot contain control characters such as a line break or a tab.');
    return;
  }
  if (secret.length < API_KEY_MIN) throw invalid('SECRET_TOO_SHORT', `An API key has at least ${API_KEY_MIN} characters; check that it was pasted whole.`);
  if (secret.length > API_KEY_MAX) throw invalid('SECRET_TOO_LONG', `An API key is at most ${API_KEY_MAX} characters.`);
  if (/[\s\p{Cc}]/u.test(secret)) throw invalid('SECRET_INVALID', 'An API key cannot contain spaces, line breaks or other control characters; paste the key alone.');
}
