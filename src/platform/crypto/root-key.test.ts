import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateRootKeyFile, keyCheckValue, loadRootKey, matchesCheckValue } from './root-key.js';

const tempFile = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'custos-key-')), 'root.key');

describe('root key', () => {
  it('generates a key file readable by its owner only', () => {
    const file = tempFile();
    const generated = generateRootKeyFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadRootKey({ rootKeyFile: file })!.key.equals(generated.key)).toBe(true);
  });

  it('the environment key wins over the file', () => {
    const file = tempFile();
    generateRootKeyFile(file);
    const envKey = randomBytes(32);
    const loaded = loadRootKey({ rootKeyFile: file, rootKeyBase64: envKey.toString('base64') })!;
    expect(loaded.source).toBe('env');
    expect(loaded.key.equals(envKey)).toBe(true);
  });

  it('refuses a key that is not base64 of 32 bytes', () => {
    expect(() => loadRootKey({ rootKeyFile: tempFile(), rootKeyBase64: randomBytes(16).toString('base64') })).toThrow(/32 bytes/);
    expect(() => loadRootKey({ rootKeyFile: tempFile(), rootKeyBase64: 'not base64!' })).toThrow(/CUSTOS_ROOT_KEY/);
  });

  it('refuses a key file other users can read', () => {
    const file = tempFile();
    writeFileSync(file, randomBytes(32).toString('base64'));
    chmodSync(file, 0o644);
    expect(() => loadRootKey({ rootKeyFile: file })).toThrow(/chmod 600/);
  });

  it('the check value recognises its own key and no other', () => {
    const key = randomBytes(32);
    const kcv = keyCheckValue(key);
    expect(kcv).not.toContain(key.toString('hex'));
    expect(matchesCheckValue(key, kcv)).toBe(true);
    expect(matchesCheckValue(randomBytes(32), kcv)).toBe(false);
  });
});
