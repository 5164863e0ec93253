/** The categories a SIEM filters on; every event type belongs to exactly one. */
export type EventCategory =
  | 'auth'
  | 'identity'
  | 'vault'
  | 'access'
  | 'rotation'
  | 'connectivity'
  | 'session'
  | 'backup'
  | 'behaviour'
  | 'config'
  | 'operator';

/** One auditable event type: a stable numeric id (never reused), a category and a severity 1-10. */
export interface EventDefinition {
  id: number;
  category: EventCategory;
  severity: number;
  description: string;
}

/** The event catalogue, defined once; docs/events.md is generated from it (npm run docs:events). */
export const eventCatalogue = {
  'custos.initialised': { id: 1000, category: 'operator', severity: 5, description: 'A new installation created its root key check value and the system scope; the first event of the operator chain.' },
  'tenant.created': { id: 1001, category: 'operator', severity: 5, description: 'The operator provisioned a tenant, its data key and its pending admin.' },
  'tenant.suspended': { id: 1002, category: 'operator', severity: 7, description: 'The operator suspended a tenant: every login and token of it is refused.' },
  'tenant.resumed': { id: 1003, category: 'operator', severity: 5, description: 'The operator resumed a suspended tenant: its users can log in again.' },
  'tenant.deleted': { id: 1004, category: 'operator', severity: 9, description: "The operator deleted a tenant; its keys were destroyed (crypto-shredding) and its data removed." },
  'operator.token.created': { id: 1101, category: 'operator', severity: 7, description: 'An operator bearer token was created from the CLI.' },
  'operator.token.revoked': { id: 1102, category: 'operator', severity: 6, description: 'An operator bearer token was revoked.' },
  'root_key.rotated': { id: 1201, category: 'operator', severity: 8, description: 'The root key was replaced and every data key re-wrapped under the new one.' },
  'user.created': { id: 2001, category: 'identity', severity: 4, description: 'A user was created, pending activation.' },
  'user.updated': { id: 2002, category: 'identity', severity: 4, description: "A user's profile or roles were changed; details name the fields, never their secrets." },
  'user.deactivated': { id: 2003, category: 'identity', severity: 7, description: 'A user was deactivated: every session revoked, pending activations voided, and what other features hold released.' },
  'user.reactivated': { id: 2004, category: 'identity', severity: 5, description: 'A deactivated user was made active again; no old session or token comes back.' },
  'user.deleted': { id: 2005, category: 'identity', severity: 7, description: 'A user was deactivated and then removed with everything that belonged to them.' },
  'user.password_reset': { id: 2006, category: 'identity', severity: 6, description: 'An administrator issued a new activation token so a user can set a new password; older tokens were voided.' },
  'auth.activated': { id: 3001, category: 'auth', severity: 5, description: 'A user set a password with a one-time activation token and became active.' },
  'auth.activation.failed': { id: 3002, category: 'auth', severity: 6, description: 'An activation attempt used an invalid, used or expired token, or chose a password the policy refuses.' },
  'auth.login.succeeded': { id: 3003, category: 'auth', severity: 3, description: 'A user logged in and received a session token.' },
  'auth.login.failed': { id: 3004, category: 'auth', severity: 6, description: 'A login was refused: unknown user, wrong password, or a user or tenant that may not log in.' },
  'auth.logout': { id: 3005, category: 'auth', severity: 2, description: 'A user ended their session; its token no longer works.' },
  'auth.activation.issued': { id: 3007, category: 'auth', severity: 6, description: "The operator issued a new activation token for a tenant admin who had not activated yet; older tokens were voided." },
  'auth.locked': { id: 3008, category: 'auth', severity: 8, description: "A user's account was locked after too many failed logins (the tenant's lockout policy); it unlocks by itself after the lockout time." },
  'settings.security.updated': { id: 4001, category: 'config', severity: 7, description: "The tenant's security policy changed; details name each field and its new value." },
  'settings.network.updated': { id: 4002, category: 'config', severity: 7, description: "The tenant's network allowlist was replaced; details list the ranges and whether the change was forced past the caller's own address." },
  'focal_point.created': { id: 4101, category: 'config', severity: 4, description: 'A focal point (a named contact the provider and notifications reach about its topics) was added.' },
  'focal_point.updated': { id: 4102, category: 'config', severity: 4, description: "A focal point's name, email, phone or topics changed; details name the fields." },
  'focal_point.deleted': { id: 4103, category: 'config', severity: 5, description: 'A focal point was removed; it is no longer reached about any topic.' },
  'auth.password.changed': { id: 3009, category: 'auth', severity: 5, description: 'A user changed their own password; their other sessions ended.' },
  'auth.password.change_failed': { id: 3010, category: 'auth', severity: 6, description: 'A password change was refused because the current password was wrong.' },
  'auth.mfa.enrolled': { id: 3101, category: 'auth', severity: 6, description: 'A user confirmed a TOTP authenticator and received new recovery codes.' },
  'auth.mfa.disabled': { id: 3102, category: 'auth', severity: 7, description: 'A user removed their TOTP authenticator after re-entering their password.' },
  'auth.mfa.recovery_used': { id: 3103, category: 'auth', severity: 7, description: 'A user logged in with a single-use recovery code instead of a TOTP code.' },
  'auth.sessions.revoked': { id: 3006, category: 'auth', severity: 6, description: "Every session of a tenant or user was revoked at once (tenant suspended, user deactivated)." },
} as const satisfies Record<string, EventDefinition>;

/** The name of a catalogued event, such as `auth.login.failed`. */
export type AuditAction = keyof typeof eventCatalogue;
