import type { DbOrTx } from '../../platform/db/database.js';
import { listFocalPoints } from '../focal-points/focal-points.store.js';
import { readNetworkPolicy } from '../identity/network-policy.store.js';
import { readSecurityPolicy } from '../identity/security-policy.store.js';
import { inactiveSince } from '../identity/users.store.js';
import {
  ADMIN_FLOOR_MAX, ADMIN_SHARE_PERCENT, DAY_MS, MIN_ADMINS, OFFENDER_LIMIT, maxAdminsFor, presenceControl, ratioControl, type ControlResult, type Offender,
} from './compliance.controls.js';
import * as store from './compliance.store.js';

/** A SIEM destination's delivery health, as the SIEM feature reports it. */
export interface DestinationHealth {
  id: string;
  name: string;
  healthy: boolean;
  lastError: string | null;
  lagEvents: number;
}
/** The SIEM feature's health answer for a tenant (src/features/siem/siem-health.ts). */
export type SiemHealth = (db: DbOrTx, tenantId: string) => Promise<DestinationHealth[]>;

/** Enabled users (active or locked) without a confirmed TOTP; SSO-linked ones are noted, their identity provider may ask for a second factor. */
export async function mfaControl(db: DbOrTx, tenantId: string, enabledUsers: number): Promise<ControlResult> {
  const found = await store.usersWithoutMfa(db, tenantId, OFFENDER_LIMIT);
  const listed: Offender[] = found.rows.map((u) => ({
    type: 'user', id: u.id, label: u.username,
    detail: u.sso ? 'no confirmed TOTP authenticator; signs in through SSO, where the identity provider may ask for a second factor' : 'no confirmed TOTP authenticator',
  }));
  return ratioControl({
    id: 'users-without-mfa', title: 'Users without MFA',
    summary: `${found.total} of ${enabledUsers} enabled users have no confirmed TOTP authenticator.`,
    remediation: 'Each listed user enrols an authenticator (POST /api/v1/auth/mfa/totp/enroll, then /confirm); set mfaRequired to "all" in PUT /api/v1/settings/security so sessions without one can only enrol.',
  }, { total: found.total, listed }, enabledUsers);
}

/** Active users whose last sign-in is older than the security policy's inactivityDisableDays (the rule the daily disable job applies). */
export async function inactivityControl(db: DbOrTx, tenantId: string, enabledUsers: number, now: number): Promise<ControlResult> {
  const { inactivityDisableDays: days } = await readSecurityPolicy(db, tenantId);
  const base = { id: 'inactive-users' as const, title: 'Enabled users inactive longer than policy' };
  if (days === 0) {
    return { ...base, status: 'warn', score: 50, summary: 'The security policy disables no inactive user (inactivityDisableDays is 0).', offenderCount: 0, offenders: [], remediation: 'Set inactivityDisableDays (for example 90, PCI DSS 8.2.6) in PUT /api/v1/settings/security.' };
  }
  const inactive = await inactiveSince(db, tenantId, now - days * DAY_MS);
  const listed: Offender[] = inactive.slice(0, OFFENDER_LIMIT).map((u) => ({ type: 'user', id: u.id, label: u.username, detail: `no sign-in for more than ${days} days` }));
  return ratioControl({
    ...base,
    summary: `${inactive.length} of ${enabledUsers} enabled users have not signed in for more than ${days} days.`,
    remediation: 'Deactivate users who no longer need access (PATCH /api/v1/users/{id} {"status":"inactive"}); the daily job disables them at 02:00 UTC.',
  }, { total: inactive.length, listed }, enabledUsers);
}

/** Active tenant-admins: fewer than MIN_ADMINS is a single point of failure, more than maxAdminsFor(enabled users) over-privilege. */
export async function adminCountControl(db: DbOrTx, tenantId: string, enabledUsers: number): Promise<ControlResult> {
  const admins = await store.activeAdmins(db, tenantId, OFFENDER_LIMIT);
  const most = maxAdminsFor(enabledUsers);
  const base = { id: 'admin-count' as const, title: 'Number of tenant administrators' };
  const asOffenders = (detail: string): Offender[] => admins.rows.map((u) => ({ type: 'user', id: u.id, label: u.username, detail }));
  if (admins.total < MIN_ADMINS) {
    return {
      ...base, status: 'fail', score: admins.total === 0 ? 0 : 50, offenderCount: admins.total, offenders: asOffenders('the only active tenant-admin: a single point of failure'),
      summary: `${admins.total} active tenant-admin; at least ${MIN_ADMINS} are needed so the tenant is never locked out.`,
      remediation: 'Give a second trusted person the tenant-admin role (PATCH /api/v1/users/{id} {"roles":[...]}) and have them enrol MFA.',
    };
  }
  if (admins.total > most) {
    return {
      ...base, status: 'warn', score: Math.round((100 * most) / admins.total), offenderCount: admins.total, offenders: asOffenders(`one of ${admins.total} tenant-admins; at most ${most} are expected`),
      summary: `${admins.total} active tenant-admins for ${enabledUsers} enabled users; at most ${most} are expected (the larger of ${ADMIN_FLOOR_MAX} and ${ADMIN_SHARE_PERCENT}% of enabled users).`,
      remediation: 'Replace tenant-admin by the narrower built-in roles (security-admin, vault-admin, auditor) for those who do not need everything.',
    };
  }
  return { ...base, status: 'pass', score: 100, offenderCount: 0, offenders: [], summary: `${admins.total} active tenant-admins (expected ${MIN_ADMINS} to ${most}).`, remediation: 'Nothing to do.' };
}

/** At least one focal point reached about security incidents (behaviour alerts and emergency access mail them). */
export async function focalPointControl(db: DbOrTx, tenantId: string): Promise<ControlResult> {
  const points = await listFocalPoints(db, tenantId, { topic: 'security-incident' });
  return presenceControl({
    id: 'security-incident-focal-point', title: 'Security-incident focal point',
    summary: points.length > 0 ? `${points.length} focal points are reached about security incidents.` : 'No focal point is reached about security incidents.',
    remediation: 'Add one: POST /api/v1/focal-points {"name","email","topics":["security-incident"]}.',
  }, tenantId, points.length > 0 ? null : 'no focal point has the security-incident topic');
}

/** A network allowlist limits where the tenant's users may sign in from. */
export async function allowlistControl(db: DbOrTx, tenantId: string): Promise<ControlResult> {
  const stored = await readNetworkPolicy(db, tenantId);
  const cidrs = stored ? ((JSON.parse(stored) as { allowedCidrs?: string[] }).allowedCidrs ?? []) : [];
  return presenceControl({
    id: 'network-allowlist', title: 'Network allowlist',
    summary: cidrs.length > 0 ? `Sign-in is allowed from ${cidrs.length} address ranges.` : 'Every address may sign in: no network allowlist is set.',
    remediation: 'Set the ranges users connect from: PUT /api/v1/settings/network {"allowedCidrs":["203.0.113.0/24"]}.',
  }, tenantId, cidrs.length > 0 ? null : 'no network allowlist: sign-in is allowed from any address');
}

/** Every SIEM destination delivers; none configured warns (events are then kept only in Custos). */
export async function siemControl(db: DbOrTx, tenantId: string, siemHealth: SiemHealth): Promise<ControlResult> {
  const destinations = await siemHealth(db, tenantId);
  const base = { id: 'siem-health' as const, title: 'SIEM destinations healthy' };
  const remediation = 'Check each listed destination (GET /api/v1/siem/destinations/{id}/status): receiver reachable, certificates valid; POST /api/v1/siem/destinations/{id}/test sends a test event.';
  if (destinations.length === 0) {
    return { ...base, status: 'warn', score: 50, offenderCount: 0, offenders: [], summary: 'No SIEM destination: audit events are not forwarded.', remediation: 'Add a destination: POST /api/v1/siem/destinations (docs/user-guide.md, SIEM forwarding).' };
  }
  const unhealthy = destinations.filter((d) => !d.healthy);
  const listed: Offender[] = unhealthy.map((d) => ({ type: 'siem_destination', id: d.id, label: d.name, detail: `${d.lastError ?? 'not delivering'}; ${d.lagEvents} events waiting` }));
  return ratioControl({ ...base, summary: `${unhealthy.length} of ${destinations.length} SIEM destinations are not delivering.`, remediation }, { total: unhealthy.length, listed }, destinations.length);
}
