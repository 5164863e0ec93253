import type { Clock } from '../../platform/clock.js';
import { DomainError } from '../../platform/errors.js';

/** Wrong step-up codes a user may send in a window before step-ups are refused until the window ends. */
export const STEP_UP_MAX_FAILURES = 5;
export const STEP_UP_WINDOW_MS = 15 * 60_000;
const MAX_USERS = 10_000;

/**
 * Bounds guessing of a 6-digit code by someone holding a user's session: after a few wrong codes every step-up
 * of that user is refused (429 TOTP_STEP_UP_LOCKED) for the rest of the window, right codes included. Kept in
 * memory, per node (as the login rate limit is): n nodes allow n times the failures.
 */
export function createStepUpGuard(deps: { clock: Clock }) {
  const failures = new Map<string, number[]>();

  const recent = (key: string, now: number) => (failures.get(key) ?? []).filter((at) => at > now - STEP_UP_WINDOW_MS);

  /** Throws when the user's step-ups are locked; call before checking a code. */
  function assertOpen(tenantId: string, userId: string): void {
    const now = deps.clock.now();
    const times = recent(`${tenantId}:${userId}`, now);
    if (times.length < STEP_UP_MAX_FAILURES) return;
    const untilMs = times[0]! + STEP_UP_WINDOW_MS;
    throw new DomainError('TOTP_STEP_UP_LOCKED', `Too many wrong authenticator codes: step-ups are refused until ${new Date(untilMs).toISOString()}. If you did not send them, tell your security team: someone may hold your session.`, 'rate_limited', { retryAfterSeconds: Math.ceil((untilMs - now) / 1000) });
  }

  /** Counts a wrong code. */
  function recordFailure(tenantId: string, userId: string): void {
    const key = `${tenantId}:${userId}`;
    const now = deps.clock.now();
    const times = [...recent(key, now), now];
    failures.delete(key);
    if (failures.size >= MAX_USERS) failures.delete(failures.keys().next().value!);
    failures.set(key, times);
  }

  return { assertOpen, recordFailure };
}
export type StepUpGuard = ReturnType<typeof createStepUpGuard>;
