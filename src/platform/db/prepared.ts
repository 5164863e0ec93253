import type { CompiledQuery, Compilable } from 'kysely';
import type { Db } from './database.js';

/**
 * A hot-path query built and compiled once per database, then run with fresh parameters: it skips Kysely's
 * per-call building and compiling. `build` receives placeholder arguments; their positions in the compiled
 * parameters are found by identity, so any builder shape works. Any other parameter is a constant of the
 * query and keeps its compiled value.
 */
export function prepareQuery<Args extends unknown[], Row>(arity: number, build: (db: Db, ...args: Args) => Compilable<Row>) {
  // Keyed by the dialect's adapter, which a database shares with every transaction on it: a transaction is a new
  // object each time, and the SQL only depends on the dialect.
  const compiled = new WeakMap<object, { query: CompiledQuery<Row>; positions: number[] }>();
  const constant = -1;
  const placeholders = Array.from({ length: arity }, (_, i) => `\u0000custos-param-${i}\u0000`);

  function compile(db: Db) {
    const query = build(db, ...(placeholders as Args)).compile();
    const positions = query.parameters.map((value) => placeholders.indexOf(value as string));
    if (placeholders.some((_, i) => !positions.includes(i))) throw new Error('prepareQuery: every argument must be used by the query');
    const entry = { query, positions };
    compiled.set(db.getExecutor().adapter, entry);
    return entry;
  }

  /** Runs the query on this database with these arguments; answers every row. */
  return async (db: Db, ...args: Args): Promise<Row[]> => {
    const { query, positions } = compiled.get(db.getExecutor().adapter) ?? compile(db);
    const result = await db.executeQuery<Row>({ ...query, parameters: positions.map((p, i) => (p === constant ? query.parameters[i] : args[p])) });
    return result.rows;
  };
}
