import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { Command } from 'commander';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import { keyCheckValue, writeKeyFile } from '../../platform/crypto/root-key.js';
import { invalid } from '../../platform/errors.js';
import { pendingKeyFile } from '../runtime.js';
import { KEY_CHECK } from '../root-key-guard.js';
import { cliActor, withRuntime } from './context.js';
import { printLines } from './output.js';
import { startProgress } from './progress.js';

/**
 * `custos root-key rotate`: a new root key re-wraps every data key in one transaction. The new key is written
 * next to the old one first, so a crash at any point leaves a key that opens the database (start-up finishes it).
 */
export function rootKeyCommand(): Command {
  const rootKey = new Command('root-key').description('the root key that wraps every tenant key');
  rootKey
    .command('rotate')
    .option('--new-key-file <path>', 'with CUSTOS_ROOT_KEY: where to write the new key (then set CUSTOS_ROOT_KEY to its content)')
    .description('replace the root key and re-wrap every data key under it; restart the servers afterwards')
    .action(async (opts: { newKeyFile?: string }, command: Command) => {
      await withRuntime(command, async (rt) => {
        const fromEnv = rt.rootKey.source === 'env';
        if (fromEnv && !opts.newKeyFile) {
          throw invalid('NEW_KEY_FILE_REQUIRED', 'The root key comes from CUSTOS_ROOT_KEY; give --new-key-file PATH to receive the new key.');
        }
        const target = opts.newKeyFile ?? pendingKeyFile(rt.config);
        const newKey = randomBytes(32);
        try {
          writeKeyFile(target, newKey);
        } catch {
          throw invalid('ROTATION_PENDING', `${target} already exists: a rotation may be in progress. Start the server once to finish it, or remove that file if it is stale.`);
        }
        try {
          const count = await rt.database.db.transaction().execute(async (trx) => {
            await rt.audit.append(trx, SYSTEM_SCOPE, { action: 'root_key.rotated', actor: cliActor() });
            let progress: ReturnType<typeof startProgress> | undefined;
            const n = await rt.keyring.rewrapAll(trx, newKey, (done, total) => {
              progress ??= startProgress('re-wrapping data keys', total);
              progress.update(done);
            });
            progress?.stop();
            await trx.updateTable('custos_meta').set({ value: keyCheckValue(newKey) }).where('key', '=', KEY_CHECK).execute();
            return n;
          });
          rt.useRootKey(newKey);
          if (!fromEnv) renameSync(target, rt.config.rootKeyFile);
          printLines(`Rotated the root key: ${count} data key(s) re-wrapped.`);
          printLines(fromEnv ? `The new key is in ${target}. Set CUSTOS_ROOT_KEY to its content, then restart every server.` : `The new key replaced ${rt.config.rootKeyFile}. Restart every server, and replace your backup of the key.`);
        } catch (error) {
          if (!fromEnv) rmSync(target, { force: true });
          throw error;
        }
      });
    });
  return rootKey;
}
