/**
 * Remembers what a query answered (a token's session, a user's groups, a credential's attributes), valid only while the database's change marker is the one read before the
 * query: any commit since (any logout, revocation or suspension, by this process or another) misses. The answer
 * is therefore always what the database says now; the cache only skips proving it with a query. With no marker
 * (PostgreSQL) nothing is cached.
 */
export function createResolutionCache<T>(deps: { changeMarker: () => string | null; max?: number }) {
  const max = deps.max ?? 10_000;
  const entries = new Map<string, { marker: string; value: T }>();

  /** The cached value for key, or load()'s, remembered only when it is worth keeping. */
  async function resolve(key: string, load: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    // Read before loading: a write that lands during the load changes the marker, so the entry is never trusted.
    const marker = deps.changeMarker();
    if (marker === null) return load();
    const hit = entries.get(key);
    if (hit && hit.marker === marker) return hit.value;
    const value = await load();
    if (keep(value)) {
      entries.delete(key);
      if (entries.size >= max) entries.delete(entries.keys().next().value!);
      entries.set(key, { marker, value });
    }
    return value;
  }

  return { resolve, size: () => entries.size };
}
