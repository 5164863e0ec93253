import { closeForMaintenance, registerMaintenanceRoutes } from '../features/maintenance/maintenance.routes.js';
import { registerSnapshotRoutes } from '../features/snapshots/snapshots.routes.js';
import type { HttpApp } from '../platform/http/create-app.js';
import { createHttpApp } from '../platform/http/create-app.js';
import { requireBearer } from '../platform/http/authenticate.js';
import { requirePermissions } from '../platform/http/authorize.js';
import { requireUnrestricted } from '../features/identity/session-restriction.js';
import { registerUserRoutes } from '../features/identity/users.routes.js';
import { registerGroupRoutes } from '../features/identity/groups.routes.js';
import { registerRoleRoutes } from '../features/identity/roles.routes.js';
import { registerMfaRoutes } from '../features/identity/mfa.routes.js';
import { registerSecurityPolicyRoutes } from '../features/identity/security-policy.routes.js';
import { registerNetworkPolicyRoutes } from '../features/identity/network-policy.routes.js';
import { registerFocalPointRoutes } from '../features/focal-points/focal-points.routes.js';
import { registerDeviceRoutes } from '../features/vault/devices.routes.js';
import { registerCredentialRoutes } from '../features/vault/credentials.routes.js';
import { registerTransferRoutes } from '../features/transfer/transfer.routes.js';
import { registerRevealRoutes } from '../features/vault/reveal.routes.js';
import { registerCustodyRoutes } from '../features/vault/custody.routes.js';
import { registerAccessPolicyRoutes } from '../features/access/access-policies.routes.js';
import { registerAccessRequestRoutes } from '../features/access/access-requests.routes.js';
import { registerCredentialPolicyRoutes } from '../features/vault/credential-policies.routes.js';
import { registerClientRoutes } from '../features/clients/clients.routes.js';
import { registerClientGrantRoutes } from '../features/clients/client-grants.routes.js';
import { registerOAuth2Routes, type TokenRateLimit } from '../features/clients/oauth2.routes.js';
import { isClientToken } from '../features/clients/client-tokens.js';
import type { Logger } from '../platform/log.js';
import { registerHealthRoutes, type ReadinessCheck } from '../features/health/health.routes.js';
import { registerAuthRoutes, type LoginRateLimit } from '../features/identity/auth.routes.js';
import { registerActivationPage } from '../features/identity/activation-page/activation-page.routes.js';
import { registerTenantRoutes } from '../features/tenants/tenants.routes.js';
import { registerSsoRoutes } from '../features/sso/sso.routes.js';
import { registerScimTokenRoutes } from '../features/scim/scim-token.routes.js';
import { registerScimApi, type ScimRateLimit } from '../features/scim/scim.routes.js';
import { registerNotificationRoutes } from '../features/notifications/notifications.routes.js';
import { registerSiemRoutes, withSiemMetrics } from '../features/siem/siem.routes.js';
import { registerRotationRoutes } from '../features/rotation/rotation.routes.js';
import { createMetrics } from '../platform/http/metrics.js';
import { registerComplianceRoutes } from '../features/compliance/compliance.routes.js';
import { registerBehaviourRoutes } from '../features/behaviour/behaviour.routes.js';
import { registerAuditRoutes } from '../features/audit/audit.routes.js';
import { registerConnectorRoutes } from '../features/connector/connectors.routes.js';
import { registerConnectivityRoutes } from '../features/connectivity/connectivity.routes.js';
import { attachConnectorEndpoint } from '../features/connector/connector-endpoint.js';
import type { Services } from './services.js';

/** What buildApp needs: the wired services and the few settings HTTP cares about. */
export interface AppDeps {
  services: Services;
  log: Logger;
  version: string;
  checks: Record<string, ReadinessCheck>;
  trustedProxies?: string[];
  loginRateLimit?: LoginRateLimit;
  /** Token requests (POST /api/v1/oauth2/token) per source address. */
  clientTokenRateLimit?: TokenRateLimit;
  /** SCIM requests (/scim/v2) per token and source address. */
  scimRateLimit?: ScimRateLimit;
}

/** Builds the whole HTTP app without listening: health, the tenant plane (/api/v1) and the operator plane (/ops/v1). */
export async function buildApp(deps: AppDeps): Promise<HttpApp> {
  const { services } = deps;
  const app = await createHttpApp({ logger: deps.log, version: deps.version, trustedProxies: deps.trustedProxies, metrics: withSiemMetrics(createMetrics(), services.siem.metrics) });
  registerHealthRoutes(app, { version: deps.version, checks: deps.checks });
  registerActivationPage(app);

  await app.register(async (scope: HttpApp) => {
    closeForMaintenance(scope, services.maintenance);
    // The token's prefix says who resolves it: API client tokens (cct_) or user sessions (cst_).
    requireBearer(scope, (token, request) => (isClientToken(token) ? services.clients.authenticate(token, request.ip) : services.auth.authenticate(token, request.ip)), 'log in with POST /api/v1/auth/login (an application: POST /api/v1/oauth2/token) and send Authorization: Bearer <token>.', { sessionCookie: true });
    // A session the policy restricts (enrol MFA, change an expired password) is refused before any permission check.
    requireUnrestricted(scope);
    requirePermissions(scope, services.can);
    registerAuthRoutes(scope, { auth: services.auth, loginRateLimit: deps.loginRateLimit });
    registerMfaRoutes(scope, { mfa: services.mfa });
    registerUserRoutes(scope, { users: services.users });
    registerGroupRoutes(scope, { groups: services.groups });
    registerRoleRoutes(scope, { roles: services.roles, grants: services.grants });
    registerSecurityPolicyRoutes(scope, { policy: services.securityPolicy });
    registerNetworkPolicyRoutes(scope, { network: services.network });
    registerFocalPointRoutes(scope, { focalPoints: services.focalPoints });
    registerDeviceRoutes(scope, { devices: services.devices });
    registerCredentialRoutes(scope, { credentials: services.credentials, history: services.credentialHistory });
    registerRotationRoutes(scope, { rotations: services.rotations });
    registerTransferRoutes(scope, { transfer: services.transfer });
    registerRevealRoutes(scope, { reveal: services.reveal });
    registerCustodyRoutes(scope, { custody: services.custody });
    registerAccessPolicyRoutes(scope, { accessPolicies: services.accessPolicies });
    registerAccessRequestRoutes(scope, { requests: services.accessRequests, approvals: services.approvals });
    registerCredentialPolicyRoutes(scope, { credentialPolicies: services.credentialPolicies });
    registerClientRoutes(scope, { clients: services.clients });
    registerClientGrantRoutes(scope, { grants: services.clientGrants });
    registerOAuth2Routes(scope, { clients: services.clients, rateLimit: deps.clientTokenRateLimit });
    registerScimTokenRoutes(scope, { scim: services.scim });
    registerSsoRoutes(scope, { settings: services.sso.settings, login: services.sso.login, publicUrl: services.sso.publicUrl });
    registerNotificationRoutes(scope, { notifications: services.notifications, smtp: services.smtp });
    registerSiemRoutes(scope, { siem: services.siem });
    registerComplianceRoutes(scope, { compliance: services.compliance });
    registerBehaviourRoutes(scope, { behaviour: services.behaviour });
    registerAuditRoutes(scope, { audit: services.auditTrail, checkpoints: services.auditCheckpoints, exports: services.auditExport });
    registerConnectorRoutes(scope, { connectors: services.connectors });
    registerConnectivityRoutes(scope, { connectivity: services.connectivity });
  }, { prefix: '/api/v1' });

  await app.register(async (scope: HttpApp) => {
    requireBearer(scope, (token, request) => services.operators.authenticate(token, request.ip), 'create an operator token with: custos operator token create');
    registerTenantRoutes(scope, { tenants: services.tenants });
    registerSnapshotRoutes(scope, { snapshots: services.snapshots });
    registerMaintenanceRoutes(scope, { maintenance: services.maintenance });
  }, { prefix: '/ops/v1' });

  // The identity provider's plane: only SCIM tokens (csp_), its own errors and content type (features/scim).
  await app.register(async (scope: HttpApp) => {
    closeForMaintenance(scope, services.maintenance);
    registerScimApi(scope, { scim: services.scim, rateLimit: deps.scimRateLimit });
  }, { prefix: '/scim/v2' });

  // Connectors dial in by WebSocket on the same server; their live connections close before the server does.
  attachConnectorEndpoint(app.server, { connectors: services.connectors, log: deps.log });
  app.addHook('preClose', async () => {
    services.connectors.closeAll();
    await services.connectors.recorded();
  });

  return app;
}
