/**
 * The compliance report's vocabulary and scoring rules, pure (docs/user-guide.md "Compliance report" states them):
 * a control with no offender passes (100); a ratio control scores the compliant share of what it checks and
 * warns while that share is at least WARN_FLOOR, fails below it. The overall score is the mean of the controls.
 */

/** Every control the report checks, in report order. */
export const controlIds = [
  'users-without-mfa',
  'inactive-users',
  'admin-count',
  'credential-age',
  'credentials-out-of-sync',
  'policies-without-approval',
  'policies-not-reviewed',
  'security-incident-focal-point',
  'siem-health',
  'network-allowlist',
] as const;
export type ControlId = (typeof controlIds)[number];
export type ControlStatus = 'pass' | 'warn' | 'fail';

/** Something a control names as non-compliant: a user, credential, policy, destination or the tenant itself. */
export interface Offender {
  type: 'user' | 'credential' | 'access_policy' | 'siem_destination' | 'tenant';
  id: string;
  label: string;
  detail: string;
}

/** One control's outcome; offenders holds at most OFFENDER_LIMIT of offenderCount. */
export interface ControlResult {
  id: ControlId;
  title: string;
  status: ControlStatus;
  score: number;
  summary: string;
  offenderCount: number;
  offenders: Offender[];
  remediation: string;
}

/** The whole report as computed at generatedAt. */
export interface ComplianceReport {
  generatedAt: number;
  score: number;
  controls: ControlResult[];
}

/** At most this many offenders are listed per control; offenderCount gives the total. */
export const OFFENDER_LIMIT = 100;
/** A ratio control with offenders warns while at least this share (percent) of what it checks complies. */
export const WARN_FLOOR = 90;
/** Access policies must be reviewed (or changed) at least this often. */
export const REVIEW_INTERVAL_DAYS = 90;
/** A secret still at its first version and older than this counts as never rotated, whatever the policies say. */
export const NEVER_ROTATED_DAYS = 365;
/** Fewer active tenant-admins than this is a single point of failure. */
export const MIN_ADMINS = 2;
/** More active tenant-admins than max(ADMIN_FLOOR_MAX, ADMIN_SHARE_PERCENT of enabled users) is over-privilege. */
export const ADMIN_FLOOR_MAX = 3;
export const ADMIN_SHARE_PERCENT = 10;
export const DAY_MS = 24 * 3600_000;

/** The most tenant-admins a tenant of this many enabled users should have. */
export const maxAdminsFor = (enabledUsers: number) => Math.max(ADMIN_FLOOR_MAX, Math.ceil((enabledUsers * ADMIN_SHARE_PERCENT) / 100));

/** The share of a population that complies, as 0-100 (an empty population complies fully). */
export const ratioScore = (offenders: number, population: number) => (population <= 0 ? 100 : Math.max(0, Math.round((100 * (population - offenders)) / population)));

/** Pass without offenders; otherwise warn while the score is at least WARN_FLOOR, fail below. */
export const ratioStatus = (offenders: number, score: number): ControlStatus => (offenders === 0 ? 'pass' : score >= WARN_FLOOR ? 'warn' : 'fail');

/** A ratio control's result from its counts and listed offenders. */
export function ratioControl(base: Pick<ControlResult, 'id' | 'title' | 'remediation' | 'summary'>, offenders: { total: number; listed: Offender[] }, population: number): ControlResult {
  const score = ratioScore(offenders.total, population);
  return { ...base, status: ratioStatus(offenders.total, score), score, offenderCount: offenders.total, offenders: offenders.listed.slice(0, OFFENDER_LIMIT) };
}

/** A yes/no control: pass (100) or fail (0) naming the tenant as the offender. */
export function presenceControl(base: Pick<ControlResult, 'id' | 'title' | 'remediation' | 'summary'>, tenantId: string, missing: string | null): ControlResult {
  if (missing === null) return { ...base, status: 'pass', score: 100, offenderCount: 0, offenders: [] };
  return { ...base, status: 'fail', score: 0, offenderCount: 1, offenders: [{ type: 'tenant', id: tenantId, label: 'this tenant', detail: missing }] };
}

/** The overall score: the mean of the control scores, rounded. */
export const overallScore = (controls: readonly ControlResult[]) => (controls.length === 0 ? 100 : Math.round(controls.reduce((sum, c) => sum + c.score, 0) / controls.length));

/** Whole days between two instants, rounded down. */
export const daysBetween = (from: number, to: number) => Math.floor((to - from) / DAY_MS);

/** The UTC day (YYYY-MM-DD) of an instant: the key of a kept report. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
