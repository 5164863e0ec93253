import type { RotationPlugin } from './plugin.types.js';
import { mysqlPlugin } from './mysql.js';
import { postgresPlugin } from './postgres.js';
import { sshKeyPlugin } from './ssh-key.js';
import { sshPasswordPlugin } from './ssh-password.js';

/** Every rotation plugin by name. */
export const rotationPlugins: Partial<Record<RotationPlugin['name'], RotationPlugin>> = {
  'ssh-password': sshPasswordPlugin,
  'ssh-key': sshKeyPlugin,
  postgres: postgresPlugin,
  mysql: mysqlPlugin,
};

/**
 * The plugin for a device protocol and credential type: ssh+password -> ssh-password, ssh+ssh-key -> ssh-key,
 * postgres -> postgres, mysql -> mysql (MariaDB included); null when Custos cannot rotate that account.
 */
export function pluginFor(protocol: string, credentialType: string, plugins = rotationPlugins): RotationPlugin | null {
  const name: RotationPlugin['name'] | null =
    protocol === 'ssh' ? (credentialType === 'password' ? 'ssh-password' : credentialType === 'ssh-key' ? 'ssh-key' : null)
      : protocol === 'postgres' && credentialType === 'password' ? 'postgres'
        : (protocol === 'mysql' || protocol === 'mariadb') && credentialType === 'password' ? 'mysql'
          : null;
  return name ? (plugins[name] ?? null) : null;
}
