import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.js';
import * as securityPolicy from './0002_security_policy.js';
import * as focalPoints from './0003_focal_points.js';
import * as mfa from './0004_mfa.js';
import * as groupsRoles from './0005_groups_roles.js';
import * as apiClients from './0006_api_clients.js';
import * as passwordPolicy from './0007_password_policy.js';
import * as scim from './0008_scim.js';
import * as sso from './0009_sso.js';
import * as signals from './0010_signals.js';
import * as deactivationReason from './0011_deactivation_reason.js';
import * as vaultInventory from './0012_vault_inventory.js';
import * as accessPolicies from './0013_access_policies.js';
import * as vaultChanges from './0014_vault_changes.js';
import * as custody from './0015_custody.js';
import * as accessRequests from './0016_access_requests.js';
import * as notifications from './0017_notifications.js';
import * as clientCredentialGrants from './0018_client_credential_grants.js';
import * as auditSearch from './0019_audit_search.js';
import * as siem from './0020_siem.js';
import * as behaviour from './0021_behaviour.js';
import * as compliance from './0022_compliance.js';
import * as connectivity from './0023_connectivity.js';
import * as rotation from './0024_rotation.js';
import * as connectors from './0026_connectors.js';

/** Every schema change in order; names are permanent once released (expand/contract rules: docs/architecture.md). */
export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_security_policy': securityPolicy,
  '0003_focal_points': focalPoints,
  '0004_mfa': mfa,
  '0005_groups_roles': groupsRoles,
  '0006_api_clients': apiClients,
  '0007_password_policy': passwordPolicy,
  '0008_scim': scim,
  '0009_sso': sso,
  '0010_signals': signals,
  '0011_deactivation_reason': deactivationReason,
  '0012_vault_inventory': vaultInventory,
  '0013_access_policies': accessPolicies,
  '0014_vault_changes': vaultChanges,
  '0015_custody': custody,
  '0016_access_requests': accessRequests,
  '0017_notifications': notifications,
  '0018_client_credential_grants': clientCredentialGrants,
  '0019_audit_search': auditSearch,
  '0020_siem': siem,
  '0021_behaviour': behaviour,
  '0022_compliance': compliance,
  '0023_connectivity': connectivity,
  '0024_rotation': rotation,
  '0026_connectors': connectors,
};
