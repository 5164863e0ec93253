import { randomFillSync } from 'node:crypto';

let lastMs = -1;
let counter = 0;

// Random bytes are drawn 4 KiB at a time (as crypto.randomUUID does): one call into the CSPRNG costs several
// microseconds here, whatever its size, and every audit event and row needs an id.
const pool = Buffer.alloc(4096);
let offset = pool.length;

/**
 * A UUIDv7: time-ordered, so new rows land at the end of indexes and ids sort by creation. Within one
 * millisecond (or if the clock steps back) a 12-bit counter in rand_a keeps this process's ids increasing
 * (RFC 9562, method 1), so cursor pagination by id follows creation order.
 */
export function newId(now: number = Date.now()): string {
  let ms = now;
  if (ms <= lastMs) {
    ms = lastMs;
    counter += 1;
    if (counter > 0xfff) {
      ms = lastMs + 1;
      counter = 0;
    }
  } else {
    counter = 0;
  }
  lastMs = ms;
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += 16;
  // The id is written over its own 16 pool bytes, which are never handed out again.
  pool.writeUIntBE(ms, at, 6);
  pool[at + 6] = 0x70 | (counter >> 8);
  pool[at + 7] = counter & 0xff;
  pool[at + 8] = (pool[at + 8]! & 0x3f) | 0x80;
  const hex = pool.toString('hex', at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a well-formed lower-case UUID; lets routes answer 404 for junk ids without a query. */
export function isId(value: string): boolean {
  return uuidPattern.test(value);
}
