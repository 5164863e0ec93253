// Multi-row statements and IN lists are cut into pieces: 400 values of at most 17 columns (rows) or one (ids)
// stay far below SQLite's (32,766) and PostgreSQL's (65,535) bound-parameter limits.
const CHUNK = 400;

/** The items in consecutive pieces of at most `size`, in order. */
export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
