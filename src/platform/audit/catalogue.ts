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
  'role.created': { id: 2101, category: 'identity', severity: 6, description: 'A custom role was created; details list the permissions it grants.' },
  'role.updated': { id: 2102, category: 'identity', severity: 6, description: "A custom role's description or permissions changed; details list the permissions it now grants." },
  'role.deleted': { id: 2103, category: 'identity', severity: 6, description: 'A custom role that no one held any more was deleted.' },
  'group.created': { id: 2111, category: 'identity', severity: 5, description: 'A group was created; details list the roles it confers.' },
  'group.updated': { id: 2112, category: 'identity', severity: 6, description: "A group's name, description or roles changed; details name the fields and the roles it now confers." },
  'group.deleted': { id: 2113, category: 'identity', severity: 6, description: 'A group was deleted; its members lost the roles it conferred.' },
  'group.members.added': { id: 2114, category: 'identity', severity: 5, description: 'Users were added to a group and received its roles.' },
  'group.members.removed': { id: 2115, category: 'identity', severity: 5, description: 'Users were removed from a group and lost its roles.' },
  'role_grant.requested': { id: 2121, category: 'identity', severity: 7, description: 'Four-eyes: a change granting administration was recorded and waits for a second administrator.' },
  'role_grant.approved': { id: 2122, category: 'identity', severity: 8, description: 'Four-eyes: a second administrator approved a pending grant, which was applied.' },
  'role_grant.denied': { id: 2123, category: 'identity', severity: 6, description: 'Four-eyes: a second administrator denied a pending grant; nothing was granted.' },
  'role_grant.cancelled': { id: 2124, category: 'identity', severity: 5, description: 'Four-eyes: pending grants were cancelled because their subject or requester was deactivated or removed.' },
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
  'settings.smtp.updated': { id: 4201, category: 'config', severity: 7, description: "The tenant's SMTP settings for notification email were saved; details list the server, username and sender and whether the password was replaced, never the password." },
  'settings.smtp.removed': { id: 4202, category: 'config', severity: 6, description: 'The SMTP settings were removed: notifications go to the in-app inbox only; details list the settings that were removed, never the password.' },
  'settings.smtp.tested': { id: 4203, category: 'config', severity: 4, description: "A test message was sent with the tenant's SMTP settings; details name the recipient, the server, whether it was delivered and the server's answer when it was not." },
  'auth.password.changed': { id: 3009, category: 'auth', severity: 5, description: 'A user changed their own password; their other sessions ended.' },
  'auth.password.change_failed': { id: 3010, category: 'auth', severity: 6, description: 'A password change was refused because the current password was wrong.' },
  'auth.mfa.enrolled': { id: 3101, category: 'auth', severity: 6, description: 'A user confirmed a TOTP authenticator and received new recovery codes.' },
  'auth.mfa.disabled': { id: 3102, category: 'auth', severity: 7, description: 'A user removed their TOTP authenticator after re-entering their password.' },
  'auth.mfa.reset': { id: 3104, category: 'auth', severity: 7, description: "An administrator removed a user's authenticator (a lost or replaced device); the user's sessions ended and they enrol again where the policy requires it." },
  'auth.mfa.recovery_used': { id: 3103, category: 'auth', severity: 7, description: 'A user logged in with a single-use recovery code instead of a TOTP code.' },
  'auth.session.restricted': { id: 3301, category: 'auth', severity: 6, description: "A login opened a restricted session: the tenant's policy requires the user to enrol an authenticator or to change an expired password before anything else works; details name the restriction." },
  'auth.session.restriction_lifted': { id: 3302, category: 'auth', severity: 4, description: "A restricted session was lifted because the user enrolled an authenticator or changed their password; details name what was lifted and what remains, if anything." },
  'auth.mfa.disable_refused': { id: 3303, category: 'auth', severity: 6, description: "A user tried to remove their authenticator while the tenant's policy requires a second factor of them; nothing changed." },
  'client.created': { id: 2201, category: 'identity', severity: 6, description: 'An API client (application-to-application, OAuth2 client credentials) was created; details name its client id, scopes, allowed ranges and expiry, never its secret.' },
  'client.updated': { id: 2202, category: 'identity', severity: 6, description: "An API client's name, scopes, allowed ranges or expiry changed; details name the fields and the values it now has." },
  'client.secret_rotated': { id: 2203, category: 'identity', severity: 7, description: "An API client's secret was replaced: the old one stopped working at once and every token issued to the client was revoked." },
  'client.deactivated': { id: 2204, category: 'identity', severity: 7, description: 'An API client was deactivated: it gets no new token and every token issued to it was revoked.' },
  'client.reactivated': { id: 2205, category: 'identity', severity: 6, description: 'A deactivated API client was made active again; no revoked token comes back.' },
  'client.credential_grants_changed': { id: 2207, category: 'identity', severity: 7, description: "An API client's credential grants were replaced: details name the client id, the credential ids and tags it may now reveal (with the scope vault.credentials.use) and those it had before." },
  'client.deleted': { id: 2206, category: 'identity', severity: 7, description: 'An API client was deleted with every token issued to it.' },
  'scim.token.created': { id: 2301, category: 'identity', severity: 8, description: "A SCIM provisioning token was created for the tenant's identity provider; any previous token stopped working at once. Details name the token id and the one it replaced, never the token." },
  'scim.token.revoked': { id: 2302, category: 'identity', severity: 7, description: 'The SCIM provisioning token was revoked: the identity provider can no longer change users or groups until a new token is created.' },
  'auth.client_token.issued': { id: 3201, category: 'auth', severity: 3, description: 'An API client received an access token (client credentials grant); details name the client id, the granted scopes and the expiry.' },
  'auth.client_token.failed': { id: 3202, category: 'auth', severity: 6, description: 'A token request of a known API client was refused: wrong secret, client inactive or expired, tenant suspended, address not allowed, bad grant type or scope.' },
  'auth.sessions.revoked': { id: 3006, category: 'auth', severity: 6, description: "Every session of a tenant or user was revoked at once (tenant suspended, user deactivated)." },
  'settings.sso.updated': { id: 3401, category: 'config', severity: 7, description: "The tenant's single sign-on settings changed; details list the new values and whether the client secret was replaced, never the secret." },
  'auth.sso.login.failed': { id: 3402, category: 'auth', severity: 6, description: 'A single sign-on login was refused: bad or replayed state, another browser, an IdP error, a token that failed validation, an unknown person without just-in-time provisioning, or a user or tenant that may not log in; details name the reason.' },
  'auth.sso.linked': { id: 3403, category: 'auth', severity: 6, description: "An identity provider's subject was linked to a tenant user (by verified email, or a user created by just-in-time provisioning); later logins find the user by this link." },
  'auth.break_glass.login': { id: 3404, category: 'auth', severity: 9, description: 'A break-glass account logged in with a password while the tenant requires single sign-on; every such login deserves a look.' },
  'credential_policy.created': { id: 5201, category: 'vault', severity: 6, description: 'A credential policy (strength, age and rotation rules matched to credentials by attributes) was added; details list its name, priority, filters and rules.' },
  'credential_policy.updated': { id: 5202, category: 'vault', severity: 6, description: "A credential policy's name, priority, filters or rules changed; details name the fields and their new values." },
  'credential_policy.deleted': { id: 5203, category: 'vault', severity: 6, description: 'A credential policy was removed; the credentials it covered fall to the next matching policy or the default.' },
  'credential_policy.password_generated': { id: 5204, category: 'vault', severity: 5, description: 'A password was generated following the applicable credential policy (for a credential, or for a new one on a device); details name the policy and the length, never the password.' },
  'device.created': { id: 5001, category: 'vault', severity: 4, description: 'A device was added; details name it, its address, main protocol and port.' },
  'device.updated': { id: 5002, category: 'vault', severity: 4, description: "A device's attributes changed (address, protocols, labels, tags, criticality, status...); details name the fields." },
  'device.deleted': { id: 5003, category: 'vault', severity: 5, description: 'A device that held no credentials was removed with its protocols and tags.' },
  'credential.created': { id: 5101, category: 'vault', severity: 6, description: 'A credential (a privileged account on a device) was added; details name the device, username, type and secret version, never the secret.' },
  'credential.updated': { id: 5102, category: 'vault', severity: 5, description: "A credential's attributes changed (device, username, tags, owner, notes, TOTP seed, status...); details name the fields, never a value of a secret." },
  'credential.deleted': { id: 5103, category: 'vault', severity: 7, description: 'A credential was removed with every version of its secret and its tags.' },
  'credential.secret.changed': { id: 5104, category: 'vault', severity: 7, description: "A credential's secret was set: a new version was sealed and earlier ones kept in its history; details name the version and the reason (created, manual, generated, rotation, import), never the secret." },
  'credential.history.revealed': { id: 5105, category: 'vault', severity: 8, description: 'An old (no longer current) version of a credential secret was revealed; details name the version and the justification given. Recorded before the secret left the server.' },
  'credential.totp.viewed': { id: 5106, category: 'vault', severity: 6, description: "A user was shown a credential's current TOTP code (never the seed)." },
  'credential.integrity_failed': { id: 5107, category: 'vault', severity: 9, description: 'A sealed value of a credential (secret, passphrase or TOTP seed) failed its integrity check: it was altered or moved in the database. Nothing was shown; the credential was flagged for rotation. Investigate.' },
  'credential.revealed': { id: 5108, category: 'vault', severity: 7, description: "A credential's current secret was revealed to a user under the access policies, or to an API client under its explicit grants; details name the version, the mode (allow, justification, approval; client-grant with the grant, id or tag:<tag>, that covered it), the justification, the access request and the policies that granted it, never the secret. Recorded before the secret left the server." },
  'credential.checked_out': { id: 5109, category: 'vault', severity: 7, description: 'A user checked a credential out (exclusive custody until it is checked in or the lease expires) and was shown its current secret; details name the checkout, version, expiry, mode, justification, access request and granting policies, never the secret. Recorded before the secret left the server.' },
  'credential.step_up_failed': { id: 5111, category: 'vault', severity: 6, description: 'A use of a credential whose access policy asks for a fresh TOTP code was refused: the code was wrong or already used.' },
  'credential.checked_in': { id: 5110, category: 'vault', severity: 5, description: "A credential's checkout ended; details name the checkout, the holder, the reason (returned by the holder, forced by an administrator, expired, or deactivated with its holder) and whether the credential was flagged for rotation." },
  'vault.imported': { id: 5401, category: 'vault', severity: 7, description: 'Devices and credentials were imported from a file (POST /api/v1/import or custos import), all in one transaction; this one event stands for every row. Details name the format and count the rows, devices created, credentials created and devices that already existed, never a secret. An operator import is also recorded in the operator chain.' },
  'vault.exported': { id: 5402, category: 'vault', severity: 6, description: "The tenant's devices or credentials were exported (GET /api/v1/export): metadata only, never a secret; details name what, the format and the row count." },
  'access_policy.created': { id: 6001, category: 'access', severity: 6, description: 'An access policy was created; details list its name, whether it is enabled, its members (user and group ids), filters and per-action rules (mode, approval levels and approvers, time restriction, emergency access).' },
  'access_policy.updated': { id: 6002, category: 'access', severity: 6, description: "An access policy's name, description, enabled flag, members, filters or rules changed; details name the fields and list what the policy now grants." },
  'access_policy.deleted': { id: 6003, category: 'access', severity: 6, description: 'An access policy was deleted; what it granted is no longer granted from the next decision on.' },
  'access_request.created': { id: 6101, category: 'access', severity: 5, description: 'A user asked to use a credential under an approval policy; details name the credential, action, justification, requested window, the approval stages and the policies that ask for them.' },
  'access_request.approved': { id: 6102, category: 'access', severity: 6, description: 'An approver approved an access request at its current stage; details name the stage, the comment and whether the request is now fully approved (then with its validity window).' },
  'access_request.denied': { id: 6103, category: 'access', severity: 6, description: 'An approver denied an access request with a comment; the request is closed.' },
  'access_request.cancelled': { id: 6104, category: 'access', severity: 4, description: 'An access request was cancelled by its requester, or because the requester was deactivated; an approved window ends at once.' },
  'access_request.expired': { id: 6105, category: 'access', severity: 4, description: 'An access request was not decided in time, or its approved window ended.' },
  'access_request.emergency': { id: 6106, category: 'access', severity: 9, description: 'A user invoked emergency (break-glass) access to a credential, skipping approval as the access policies allow; every approver and the security-incident focal points were notified, and uses of it are flagged and mark the credential for rotation.' },
  'siem.destination.created': { id: 7101, category: 'config', severity: 6, description: 'A SIEM destination was added; details name its transport, address, format and filters, never its secrets.' },
  'siem.destination.updated': { id: 7102, category: 'config', severity: 6, description: "A SIEM destination's settings changed; details name the fields that changed." },
  'siem.destination.deleted': { id: 7103, category: 'config', severity: 7, description: 'A SIEM destination was removed; events are no longer forwarded to it.' },
  'siem.destination.tested': { id: 7104, category: 'config', severity: 4, description: 'A test event was sent to a SIEM destination; details say whether the receiver confirmed it and its error when not.' },
  'siem.delivery.failing': { id: 7105, category: 'config', severity: 7, description: 'Forwarding to a SIEM destination started failing; recorded once per outage, and events wait in the log until it recovers.' },
  'siem.delivery.recovered': { id: 7106, category: 'config', severity: 5, description: 'Forwarding to a SIEM destination works again after an outage; details give how long it failed.' },
  'audit.exported': { id: 7001, category: 'config', severity: 6, description: "The tenant's audit events were exported (GET /api/v1/audit/export or custos audit export); details name the format, the filters and the number of events, and whether the stream completed." },
  'audit.verified': { id: 7002, category: 'config', severity: 4, description: "The tenant's audit chain was verified (GET /api/v1/audit/verify); the outcome is failure when an event was altered, removed or reordered, and details name where." },
  'audit.checkpoint.signed': { id: 7003, category: 'config', severity: 3, description: 'A user asked for a signed checkpoint of the audit chain head (POST /api/v1/audit/checkpoints); details name its seq, hash and key. Scheduled checkpoints are not recorded in the chain (each would move the head it just signed).' },
  'access_policy.reviewed': { id: 7301, category: 'access', severity: 4, description: 'An access policy was reviewed (attested) as still right (POST /api/v1/access-policies/{id}/review); details name the policy and the comment. The compliance report counts a policy as reviewed from then (or from its last change, whichever is later).' },
  'compliance.report.kept': { id: 7302, category: 'config', severity: 2, description: "The daily compliance report of the tenant was stored for the trend (GET /api/v1/compliance/reports); details give the overall score and each failing control. At most one per tenant per day: a re-run that day replaces the row without a new event." },
  'behaviour.alert': { id: 7201, category: 'behaviour', severity: 8, description: "Behaviour analytics scored a user's login, reveal or checkout above the tenant's alert threshold; details name the user, the score 0-100, the signals that fired (new source, unusual hour, reveal burst, failed-login burst, first use of a critical credential, emergency access...) and the seq of the scored event, never a secret. The security-incident focal points were notified. Later high scores of the same user within 15 minutes join this alert." },
  'behaviour.alert.acknowledged': { id: 7202, category: 'behaviour', severity: 4, description: 'A behaviour alert was acknowledged by a reviewer (POST /api/v1/behaviour/alerts/{id}/acknowledge); details name the alert, its user and the comment.' },
  'behaviour.settings.updated': { id: 7203, category: 'config', severity: 6, description: "The tenant's behaviour analytics settings changed (alert threshold, time zone, warm-up); details give the new values." },
} as const satisfies Record<string, EventDefinition>;

/** The name of a catalogued event, such as `auth.login.failed`. */
export type AuditAction = keyof typeof eventCatalogue;
