import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FatalConfigError } from '../errors.js';

/** The 256-bit key that wraps every tenant key; it never enters the database. */
export interface RootKey {
  key: Buffer;
  /** Where it came from, for messages: 'env' or the file's path. */
  source: string;
}

/** Where the root key comes from; the env key wins over the file. A KMS provider would fit the same shape. */
export interface RootKeySettings {
  rootKeyBase64?: string;
  rootKeyFile: string;
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32 || key.toString('base64') !== text.trim()) {
    throw new FatalConfigError('ROOT_KEY_INVALID', `The root key in ${where} is not base64 of exactly 32 bytes.`);
  }
  return key;
}

/** Loads the root key: CUSTOS_ROOT_KEY if set, otherwise the key file, which must not be readable by others. */
export function loadRootKey(settings: RootKeySettings): RootKey | null {
  if (settings.rootKeyBase64) return { key: decodeKey(settings.rootKeyBase64, 'CUSTOS_ROOT_KEY'), source: 'env' };
  if (!existsSync(settings.rootKeyFile)) return null;
  const mode = statSync(settings.rootKeyFile).mode & 0o077;
  if (mode !== 0) {
    throw new FatalConfigError(
      'ROOT_KEY_PERMISSIONS',
      `The root key file ${settings.rootKeyFile} is readable by other users; run: chmod 600 ${settings.rootKeyFile}`,
    );
  }
  return { key: decodeKey(readFileSync(settings.rootKeyFile, 'utf8'), settings.rootKeyFile), source: settings.rootKeyFile };
}

/** Writes a key file readable by its owner alone; refuses to overwrite an existing one. */
export function writeKeyFile(file: string, key: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
}

/** Generates a fresh root key and stores it in the key file (first start only). */
export function generateRootKeyFile(file: string): RootKey {
  const key = randomBytes(32);
  writeKeyFile(file, key);
  return { key, source: file };
}

/** A value derived from the key that identifies it without revealing it; stored to detect a wrong key. */
export function keyCheckValue(key: Buffer): string {
  return createHmac('sha256', key).update('custos root key check v1').digest('hex');
}

/** True when the key produced the stored check value. */
export function matchesCheckValue(key: Buffer, stored: string): boolean {
  const actual = Buffer.from(keyCheckValue(key), 'hex');
  const expected = Buffer.from(stored, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
