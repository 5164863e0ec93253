import type { Duplex } from 'node:stream';
import pg from 'pg';
import type { PluginContext, RotationPlugin, TargetSecret } from './plugin.types.js';
import { asConnectedSocket } from '../../../platform/net/connected-socket.js';
import { withDeadline } from './streams.js';

/** SQLSTATE of a refused login: invalid_password, and invalid_authorization_specification (unknown role, pg_hba reject). */
const AUTH_FAILED = new Set(['28P01', '28000']);

const databaseOf = (ctx: PluginContext) => (typeof ctx.info.database === 'string' && ctx.info.database ? ctx.info.database : 'postgres');

async function connect(ctx: PluginContext, username: string, password: string, track: (s: Duplex) => Duplex) {
  const stream = asConnectedSocket(track(await ctx.dial()));
  const client = new pg.Client({ user: username, password, database: databaseOf(ctx), stream: () => stream as never, connectionTimeoutMillis: ctx.timeoutMs, ssl: false });
  // A later socket error (the server going away) must not crash the process as an unhandled 'error' event.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** PostgreSQL roles: verify by logging in, change with ALTER ROLE (as the role itself, or as an admin role). */
export const postgresPlugin: RotationPlugin = {
  name: 'postgres',

  async verify(ctx: PluginContext, secret: TargetSecret): Promise<boolean> {
    return withDeadline('a PostgreSQL login', ctx.timeoutMs, async (track) => {
      let client: pg.Client;
      try {
        client = await connect(ctx, ctx.username, secret.secret, track);
      } catch (error) {
        if (AUTH_FAILED.has((error as { code?: string }).code ?? '')) return false;
        throw error;
      }
      await client.end().catch(() => undefined);
      return true;
    });
  },

  async next(_ctx: PluginContext, generatePassword: () => string): Promise<TargetSecret> {
    return { secret: generatePassword() };
  },

  async change(ctx, change): Promise<void> {
    const as = change.admin ?? { username: ctx.username, secret: change.current };
    await withDeadline('ALTER ROLE', ctx.timeoutMs, async (track) => {
      const client = await connect(ctx, as.username, as.secret.secret, track);
      try {
        // ALTER ROLE takes no parameters: the name and the password are quoted by the driver's own escaping.
        await client.query(`ALTER ROLE ${client.escapeIdentifier(ctx.username)} PASSWORD ${client.escapeLiteral(change.next.secret)}`);
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  },
};
