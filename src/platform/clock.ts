/** The source of time for every rule that expires something; tests hand in a clock they can move. */
export interface Clock {
  now(): number;
}

/** Wall-clock time in epoch milliseconds. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand to cross expiry boundaries without sleeping. */
export function createManualClock(start = Date.now()) {
  let current = start;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
    set(ms: number) {
      current = ms;
    },
  };
}
export type ManualClock = ReturnType<typeof createManualClock>;
