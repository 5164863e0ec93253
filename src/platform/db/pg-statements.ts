import { createHash } from 'node:crypto';
import type pg from 'pg';

/** A statement becomes named (prepared) on the connections once its text has been sent this many times. */
const NAMED_AFTER = 2;
/** At most this many texts are named, per process: each connection keeps a plan for each one it ran. */
const MAX_NAMED = 500;

type QueryFn = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * PostgreSQL parses and plans every unnamed statement afresh, and on the hot paths (a token check joins seven tables)
 * planning costs more than running. A statement text that recurs is sent as a named prepared statement instead
 * (named by a hash of its text, so a name always means one text): each connection plans it once. Texts that vary
 * (IN lists of every length) stop being named at the cap. After a migration changes a table under a `select *`,
 * PostgreSQL refuses the old plan once ("cached plan must not change result type"): the text is sent unnamed from
 * then on, and a query outside a transaction is retried at once.
 */
export function nameRecurringStatements(pool: pg.Pool): void {
  const seen = new Map<string, number>();
  const names = new Map<string, string>();
  const refused = new Set<string>();

  function nameOf(text: string): string | undefined {
    const known = names.get(text);
    if (known !== undefined || refused.has(text) || names.size >= MAX_NAMED) return known;
    const count = (seen.get(text) ?? 0) + 1;
    if (count < NAMED_AFTER) {
      if (seen.size >= MAX_NAMED * 4) seen.clear();
      seen.set(text, count);
      return undefined;
    }
    seen.delete(text);
    const name = `custos_${createHash('sha1').update(text).digest('base64url')}`;
    names.set(text, name);
    return name;
  }

  pool.on('connect', (client) => {
    const send = client.query.bind(client) as QueryFn;
    let inTransaction = false;
    (client as unknown as { query: QueryFn }).query = (config, values, callback) => {
      if (typeof config !== 'string' || callback !== undefined) return send(config, values, callback);
      if (/^(begin|start transaction)/i.test(config)) inTransaction = true;
      else if (/^(commit|rollback)\b/i.test(config)) inTransaction = false;
      const name = nameOf(config);
      if (name === undefined) return send(config, values);
      const outside = !inTransaction;
      return (send({ name, text: config, values }) as Promise<unknown>).catch((error: { code?: string; message?: string }) => {
        if (error.code !== '0A000' || !error.message?.includes('cached plan')) throw error;
        names.delete(config);
        refused.add(config);
        if (outside) return send(config, values);
        throw error;
      });
    };
  });
}
