/** The published permission catalogue: `module.resource.action`, each with what it allows. */
export const permissionCatalogue = {
  'identity.users.read': 'See users, their roles and their effective permissions.',
  'identity.users.write': "Create users, change their profiles and roles, and reset their passwords.",
  'identity.users.deactivate': 'Deactivate, reactivate and delete users (every session of a deactivated user ends).',
  'identity.roles.read': 'See the built-in and custom roles and what they grant.',
  'identity.roles.write': 'Create, change and delete custom roles.',
  'identity.groups.read': 'See groups, their members and the roles they confer.',
  'identity.groups.write': 'Create, change and delete groups, their members and their roles.',
  'identity.role-grants.read': 'See role grants waiting for a second administrator (four-eyes).',
  'identity.role-grants.decide': "Approve or deny another administrator's role grant (four-eyes); never one's own.",
  'identity.clients.read': 'See API clients (applications using the client credentials grant), their scopes and allowed ranges; never their secrets.',
  'identity.clients.write': 'Create, change, deactivate and delete API clients and rotate their secrets (only with scopes one holds oneself).',
  'settings.security.read': "See the tenant's security policy.",
  'settings.security.write': "Change the tenant's security policy (passwords, lockout, sessions, inactivity).",
  'settings.network.read': "See the tenant's network allowlist.",
  'settings.network.write': 'Replace the network allowlist (every login and request of the tenant must come from it).',
  'settings.focal-points.read': "See the tenant's focal points: the contacts reached about incidents, maintenance and other topics.",
  'settings.focal-points.write': "Add, change and remove the tenant's focal points.",
  'settings.scim.read': "See whether the tenant has a SCIM provisioning token, when it was created and last used; never the token.",
  'settings.scim.write': "Create (replacing the previous one) and revoke the tenant's SCIM provisioning token, with which an identity provider creates, changes and deactivates users and group memberships.",
  'settings.sso.read': "See the tenant's single sign-on (OpenID Connect) settings; never the client secret.",
  'settings.sso.write': 'Change single sign-on: identity provider, group mapping, just-in-time provisioning, SSO only and its break-glass accounts.',
  'settings.smtp.read': "See the tenant's SMTP settings for notification email; never the password.",
  'settings.smtp.write': 'Change, remove and test the SMTP settings with which notifications are also sent by email.',
  'vault.credential-policies.read': 'See credential policies (strength, age and rotation rules) and which one applies to a credential.',
  'vault.credential-policies.write': 'Create, change and delete credential policies.',
  'vault.devices.read': 'See devices: addresses, protocols, vendors, sites, tags and criticality.',
  'vault.devices.write': 'Add, change and remove devices (a device holding credentials cannot be removed).',
  'vault.connectors.read': "See network connectors (agents in the tenant's networks that carry connections to its devices), their site and status; never their tokens.",
  'vault.connectors.write': 'Create network connectors (their token is shown once) and revoke them (a revoked connector is disconnected at once).',
  'vault.credentials.read': "See credentials (never their secrets), their version history, and a credential's current TOTP code.",
  'vault.credentials.write': "Add, change and remove credentials and set their secrets (each change keeps the previous secret as an old version).",
  'vault.credential-history.reveal': "Reveal an old (no longer current) version of a credential's secret, with a justification that is audited.",
  'vault.credentials.rotate': "Rotate credentials' secrets on their targets (the new secret is never shown) and cancel rotations that have not started.",
  'vault.rotations.read': "See rotations: their state, step, attempts and errors, and each credential's rotation history; never a secret.",
  'vault.connectivity.read': "See devices' connectivity (status, latency, check history) and the tenant's schedule of connectivity checks.",
  'vault.connectivity.check': 'Run a connectivity check of a device on demand (it may log in to the device with one of its credentials).',
  'settings.connectivity.write': 'Change the schedule of connectivity checks (enabled, interval in minutes).',
  'vault.credentials.use': 'Reveal, check out and check in credentials that access policies grant you.',
  'access.policies.read': 'See access policies (who may reveal, open sessions with or read the history of which credentials, and how) and preview the decision for a user and a credential.',
  'access.policies.write': 'Create, change, enable, disable and delete access policies.',
  'access.requests.read': "See every access request of the tenant (everyone sees their own requests and those waiting for their approval).",
  'audit.events.read': "Read the tenant's audit events.",
  'audit.events.export': "Export the tenant's audit events (CSV, or JSON lines that verify offline with the signed checkpoints).",
  'audit.checkpoints.write': "Sign a checkpoint of the tenant's audit chain head on demand.",
  'monitoring.siem.read': 'See SIEM destinations (where audit events are forwarded) and their delivery status; never their keys or secrets.',
  'monitoring.siem.write': 'Add, change, remove and test SIEM destinations.',
  'monitoring.compliance.read': 'See the compliance report (each control, its score and its offenders) and the kept daily reports (the trend).',
  'access.policies.review': 'Record a review (attestation) of an access policy: that it was checked and is still right.',
  'monitoring.behaviour.read': "See behaviour analytics: alerts, users' baselines (usual sources and hours), scored events and their signals, and the settings.",
  'monitoring.behaviour.write': 'Acknowledge behaviour alerts and change the behaviour analytics settings (alert threshold, time zone, warm-up).',
} as const;

/** A permission name from the catalogue. */
export type Permission = keyof typeof permissionCatalogue;

/**
 * Permissions that confer nothing by themselves: what they reach is what access policies grant (written by those
 * holding access.policies.write). Anyone who may assign roles may hand them out, so the built-in user role stays
 * assignable (it is every new user's role) by administrators who do not use credentials themselves.
 */
export const policyGovernedPermissions: ReadonlySet<string> = new Set<Permission>(['vault.credentials.use']);

const all = Object.keys(permissionCatalogue) as Permission[];

/** Built-in roles and the permissions they grant; features add theirs to the catalogue as they land. */
export const builtInRoles: Record<string, { description: string; permissions: Permission[] }> = {
  'tenant-admin': { description: 'Everything in the tenant.', permissions: all },
  'security-admin': { description: 'Users, groups, roles and security settings; the audit trail.', permissions: ['identity.users.read', 'identity.users.write', 'identity.users.deactivate', 'identity.roles.read', 'identity.roles.write', 'identity.groups.read', 'identity.groups.write', 'identity.role-grants.read', 'identity.role-grants.decide', 'identity.clients.read', 'identity.clients.write', 'settings.security.read', 'settings.security.write', 'settings.network.read', 'settings.network.write', 'settings.focal-points.read', 'settings.focal-points.write', 'settings.scim.read', 'settings.scim.write', 'settings.sso.read', 'settings.sso.write', 'settings.smtp.read', 'settings.smtp.write', 'audit.events.read', 'audit.events.export', 'audit.checkpoints.write', 'monitoring.siem.read', 'monitoring.siem.write', 'monitoring.compliance.read', 'access.policies.review', 'monitoring.behaviour.read', 'monitoring.behaviour.write'] },
  'vault-admin': { description: 'Devices, credentials and access policies.', permissions: ['identity.users.read', 'identity.roles.read', 'identity.groups.read', 'vault.devices.read', 'vault.devices.write', 'vault.connectors.read', 'vault.connectors.write', 'vault.credentials.read', 'vault.credentials.write', 'vault.credential-history.reveal', 'vault.credentials.use', 'vault.credentials.rotate', 'vault.rotations.read', 'vault.connectivity.read', 'vault.connectivity.check', 'settings.connectivity.write', 'vault.credential-policies.read', 'vault.credential-policies.write', 'access.policies.read', 'access.policies.write', 'access.requests.read', 'access.policies.review'] },
  approver: { description: 'Approves or denies access requests.', permissions: ['identity.users.read', 'vault.credentials.use'] },
  auditor: { description: 'Reads everything, changes nothing.', permissions: ['identity.users.read', 'identity.roles.read', 'identity.groups.read', 'identity.role-grants.read', 'identity.clients.read', 'settings.security.read', 'settings.network.read', 'settings.focal-points.read', 'settings.scim.read', 'settings.sso.read', 'settings.smtp.read', 'audit.events.read', 'audit.events.export', 'vault.devices.read', 'vault.connectors.read', 'vault.credentials.read', 'vault.rotations.read', 'vault.connectivity.read', 'vault.credential-policies.read', 'access.policies.read', 'access.requests.read', 'monitoring.siem.read', 'monitoring.compliance.read', 'monitoring.behaviour.read'] },
  user: { description: 'Uses the credentials access policies grant them.', permissions: ['vault.credentials.use'] },
};

/** A tenant's custom roles by name, each with the permissions it grants. */
export type CustomRoles = ReadonlyMap<string, readonly string[]>;

/** The union of what a set of roles grants; a role neither built in nor among the custom ones grants nothing. */
export function permissionsOf(roles: readonly string[], custom: CustomRoles = new Map()): Set<Permission> {
  const granted = new Set<Permission>();
  for (const role of roles) {
    for (const permission of builtInRoles[role]?.permissions ?? custom.get(role) ?? []) if (permission in permissionCatalogue) granted.add(permission as Permission);
  }
  return granted;
}

/** Whether a set of permissions administers the tenant: anything that changes or deactivates (four-eyes and MFA policy use this). */
export function isAdministrative(permissions: Iterable<string>): boolean {
  for (const permission of permissions) if (/\.(write|deactivate|decide)$/.test(permission)) return true;
  return false;
}

/** Whether a role administers the tenant: a built-in *-admin role, or a custom role with an administrative permission. */
export function isAdminRole(role: string, custom: CustomRoles): boolean {
  if (role in builtInRoles) return role.endsWith('-admin');
  return isAdministrative(custom.get(role) ?? []);
}

/** Whether every role in the list is built in (then no custom role needs loading). */
export const allBuiltIn = (roles: readonly string[]) => roles.every((role) => role in builtInRoles);
