import { describe, expect, it } from 'vitest';
import { isId, newId } from './ids.js';

describe('ids', () => {
  it('are version-7 UUIDs that sort in creation order, even within one millisecond or when the clock steps back', () => {
    const at = Date.UTC(2026, 0, 1);
    const ids = [newId(at), newId(at), newId(at), newId(at - 5000), newId(at + 1)];
    expect(ids.every(isId)).toBe(true);
    expect(ids.every((id) => id[14] === '7' && '89ab'.includes(id[19]!))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('stay ordered across a counter overflow', () => {
    const at = Date.UTC(2027, 0, 1);
    const ids = Array.from({ length: 5000 }, () => newId(at));
    expect([...ids].sort()).toEqual(ids);
  });

  it('rejects anything but a lower-case UUID', () => {
    expect(isId('not-an-id')).toBe(false);
    expect(isId(newId().toUpperCase())).toBe(false);
  });
});
