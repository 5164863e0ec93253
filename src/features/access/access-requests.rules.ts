import type { StoredStage } from '../../platform/db/schema.access.js';

/** An undecided request lapses after a day (or at the end of the window it asked for, if sooner). */
export const PENDING_MS = 24 * 60 * 60 * 1000;
/** A window may be asked for at most this far ahead. */
export const MAX_LEAD_MS = 30 * 24 * 60 * 60 * 1000;

/** Whether every constraint of a stage has its count of approvals from its own approvers. */
export function stageSatisfied(stage: StoredStage, approvedBy: ReadonlySet<string>): boolean {
  return stage.constraints.every((c) => c.approverIds.filter((id) => approvedBy.has(id)).length >= c.required);
}

/** The first constraint of a stage that cannot be met because too few people other than the requester may approve it. */
export function unmeetable(stages: readonly StoredStage[]): { level: number; required: number; available: number } | null {
  for (const stage of stages) {
    for (const c of stage.constraints) if (c.approverIds.length < c.required) return { level: stage.level, required: c.required, available: c.approverIds.length };
  }
  return null;
}

/**
 * When an approval may be used: from the asked-for start (or the approval itself, whichever is later) until the
 * asked-for end, or for the approval's validity from its start when no end was asked for.
 */
export function approvalWindow(now: number, requestedFrom: number | null, requestedTo: number | null, validMinutes: number): { validFrom: number; validUntil: number } {
  const validFrom = Math.max(now, requestedFrom ?? now);
  return { validFrom, validUntil: requestedTo ?? validFrom + validMinutes * 60_000 };
}

/** Why an asked-for window is refused (null: acceptable); the span is bounded by the policies' approval validity. */
export function windowProblem(now: number, from: number | undefined, to: number | undefined, validMinutes: number): string | null {
  if (to !== undefined && to <= now) return 'to is in the past: ask for a window that ends later than now.';
  if (from !== undefined && from > now + MAX_LEAD_MS) return 'from is more than 30 days ahead: ask closer to the time you need the credential.';
  if (to !== undefined && to - Math.max(now, from ?? now) > validMinutes * 60_000) {
    return `The window asked for is longer than the ${validMinutes} minutes an approval is valid under the access policies: ask for a shorter window.`;
  }
  return null;
}

/** Everyone who may decide any stage, each once. */
export function everyApprover(stages: readonly StoredStage[]): string[] {
  return [...new Set(stages.flatMap((s) => s.constraints.flatMap((c) => c.approverIds)))].sort();
}
