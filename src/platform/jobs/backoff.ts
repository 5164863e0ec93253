/** How long a failed job waits before its next attempt: doubling from baseMs, never beyond maxMs. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** One second doubling to ten minutes: quick recovery from blips without hammering a peer that is down. */
export const defaultBackoff: BackoffPolicy = { baseMs: 1_000, maxMs: 10 * 60_000 };

/**
 * The delay before the attempt after `attempts` failed ones: base * 2^(attempts-1), capped, then jittered
 * into [delay/2, delay] so jobs that failed together (a peer outage) do not all retry in the same instant.
 */
export function retryDelayMs(attempts: number, policy: BackoffPolicy = defaultBackoff, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 40);
  const delay = Math.min(policy.baseMs * 2 ** exponent, policy.maxMs);
  return Math.round(delay / 2 + (delay / 2) * random());
}
