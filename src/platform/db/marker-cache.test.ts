import { describe, expect, it } from 'vitest';
import { createResolutionCache } from './marker-cache.js';

describe('the change-marker cache', () => {
  it('answers from memory only while the marker is unchanged', async () => {
    let marker = 'm1';
    let loads = 0;
    const cache = createResolutionCache<string>({ changeMarker: () => marker });
    const load = async () => `row${++loads}`;
    expect(await cache.resolve('k', load, () => true)).toBe('row1');
    expect(await cache.resolve('k', load, () => true)).toBe('row1');
    marker = 'm2';
    expect(await cache.resolve('k', load, () => true)).toBe('row2');
    expect(loads).toBe(2);
  });

  it('never trusts an entry loaded while a write landed', async () => {
    let marker = 'm1';
    const cache = createResolutionCache<string>({ changeMarker: () => marker });
    await cache.resolve('k', async () => {
      marker = 'm2';
      return 'read during a write';
    }, () => true);
    expect(await cache.resolve('k', async () => 'fresh', () => true)).toBe('fresh');
  });

  it('caches nothing without a marker, keeps only what it is told to, and stays bounded', async () => {
    const none = createResolutionCache<string>({ changeMarker: () => null });
    await none.resolve('k', async () => 'x', () => true);
    expect(none.size()).toBe(0);
    const bounded = createResolutionCache<string>({ changeMarker: () => 'm', max: 3 });
    await bounded.resolve('unknown', async () => '', (v) => v !== '');
    expect(bounded.size()).toBe(0);
    for (const key of ['a', 'b', 'c', 'd', 'e']) await bounded.resolve(key, async () => key, () => true);
    expect(bounded.size()).toBe(3);
  });
});
