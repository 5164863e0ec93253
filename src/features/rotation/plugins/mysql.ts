import type { Duplex } from 'node:stream';
import mysql from 'mysql2/promise';
import type { PluginContext, RotationPlugin, TargetSecret } from './plugin.types.js';
import { withDeadline } from './streams.js';

/** Errors of a refused login: access denied (wrong password or unknown user), and a host not allowed. */
const AUTH_FAILED = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_HOST_NOT_PRIVILEGED', 'ER_DBACCESS_DENIED_ERROR']);

async function connect(ctx: PluginContext, username: string, password: string, track: (s: Duplex) => Duplex) {
  const stream = track(await ctx.dial());
  const database = typeof ctx.info.database === 'string' && ctx.info.database ? ctx.info.database : undefined;
  const connection = await mysql.createConnection({ user: username, password, database, stream: stream as never, connectTimeout: ctx.timeoutMs });
  connection.on('error', () => undefined);
  return connection;
}

/** MySQL and MariaDB users: verify by logging in, change with ALTER USER (as the user itself, or as an admin user). */
export const mysqlPlugin: RotationPlugin = {
  name: 'mysql',

  async verify(ctx: PluginContext, secret: TargetSecret): Promise<boolean> {
    return withDeadline('a MySQL login', ctx.timeoutMs, async (track) => {
      let connection: mysql.Connection;
      try {
        connection = await connect(ctx, ctx.username, secret.secret, track);
      } catch (error) {
        if (AUTH_FAILED.has((error as { code?: string }).code ?? '')) return false;
        throw error;
      }
      await connection.end().catch(() => undefined);
      return true;
    });
  },

  async next(_ctx: PluginContext, generatePassword: () => string): Promise<TargetSecret> {
    return { secret: generatePassword() };
  },

  async change(ctx, change): Promise<void> {
    const as = change.admin ?? { username: ctx.username, secret: change.current };
    await withDeadline('ALTER USER', ctx.timeoutMs, async (track) => {
      const connection = await connect(ctx, as.username, as.secret.secret, track);
      try {
        if (change.admin) {
          // An admin changes every host entry of the user, so whichever one the account logs in through takes the new secret.
          const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT Host AS h FROM mysql.user WHERE User = ?', [ctx.username]);
          if (rows.length === 0) throw Object.assign(new Error(`No MySQL account named ${ctx.username} exists on the target.`), { code: 'ROTATION_ACCOUNT_NOT_FOUND' });
          // Values go through the driver's escaping (client-side placeholders); ALTER USER accepts no server-side ones.
          for (const row of rows) await connection.query('ALTER USER ?@? IDENTIFIED BY ?', [ctx.username, String(row.h), change.next.secret]);
        } else {
          // An account may change its own password without privileges: MySQL 5.7+ with ALTER USER, MariaDB only with SET PASSWORD.
          await connection.query('ALTER USER CURRENT_USER() IDENTIFIED BY ?', [change.next.secret]).catch(async (error: { code?: string }) => {
            if (error.code !== 'ER_SPECIFIC_ACCESS_DENIED_ERROR') throw error;
            await connection.query('SET PASSWORD = PASSWORD(?)', [change.next.secret]);
          });
        }
      } finally {
        await connection.end().catch(() => undefined);
      }
    });
  },
};
