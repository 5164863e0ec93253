/** The published permission catalogue: `module.resource.action`, each with what it allows. */
export const permissionCatalogue = {
  'identity.users.read': 'See users, their roles and their effective permissions.',
  'identity.users.write': "Create users, change their profiles and roles, and reset their passwords.",
  'identity.users.deactivate': 'Deactivate, reactivate and delete users (every session of a deactivated user ends).',
  'identity.roles.read': 'See the built-in roles and what they grant.',
  'settings.security.read': "See the tenant's security policy.",
  'settings.security.write': "Change the tenant's security policy (passwords, lockout, sessions, inactivity).",
  'settings.network.read': "See the tenant's network allowlist.",
  'settings.network.write': 'Replace the network allowlist (every login and request of the tenant must come from it).',
  'settings.focal-points.read': "See the tenant's focal points: the contacts reached about incidents, maintenance and other topics.",
  'settings.focal-points.write': "Add, change and remove the tenant's focal points.",
  'audit.events.read': "Read the tenant's audit events.",
} as const;

/** A permission name from the catalogue. */
export type Permission = keyof typeof permissionCatalogue;

const all = Object.keys(permissionCatalogue) as Permission[];

/** Built-in roles and the permissions they grant; features add theirs to the catalogue as they land. */
export const builtInRoles: Record<string, { description: string; permissions: Permission[] }> = {
  'tenant-admin': { description: 'Everything in the tenant.', permissions: all },
  'security-admin': { description: 'Users, roles and security settings; the audit trail.', permissions: ['identity.users.read', 'identity.users.write', 'identity.users.deactivate', 'identity.roles.read', 'settings.security.read', 'settings.security.write', 'settings.network.read', 'settings.network.write', 'settings.focal-points.read', 'settings.focal-points.write', 'audit.events.read'] },
  'vault-admin': { description: 'Devices, credentials and access policies.', permissions: ['identity.users.read', 'identity.roles.read'] },
  approver: { description: 'Approves or denies access requests.', permissions: ['identity.users.read'] },
  auditor: { description: 'Reads everything, changes nothing.', permissions: ['identity.users.read', 'identity.roles.read', 'settings.security.read', 'settings.network.read', 'settings.focal-points.read', 'audit.events.read'] },
  user: { description: 'Uses the credentials access policies grant them.', permissions: [] },
};


/** The union of what a set of roles grants. */
export function permissionsOf(roles: readonly string[]): Set<Permission> {
  const granted = new Set<Permission>();
  for (const role of roles) for (const permission of builtInRoles[role]?.permissions ?? []) granted.add(permission);
  return granted;
}
