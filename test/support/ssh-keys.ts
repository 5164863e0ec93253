import ssh2 from 'ssh2';

/**
 * An ed25519 key pair from ssh2 that ssh2 itself can parse: about one key in 200 that ssh2 1.17 writes is rejected by
 * its own parser (measured: 15 of 3000), and a test must not fail on that draw. The product redraws the same way.
 */
export function parsableEd25519(options: { passphrase?: string } = {}): { private: string; public: string } {
  for (;;) {
    const pair = options.passphrase
      ? ssh2.utils.generateKeyPairSync('ed25519', { passphrase: options.passphrase, cipher: 'aes256-ctr', rounds: 16 })
      : ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private, options.passphrase) instanceof Error)) return pair;
  }
}
