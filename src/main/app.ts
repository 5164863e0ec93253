import type { HttpApp } from '../platform/http/create-app.js';
import { createHttpApp } from '../platform/http/create-app.js';
import { requireBearer } from '../platform/http/authenticate.js';
import { requirePermissions } from '../platform/http/authorize.js';
import { registerUserRoutes } from '../features/identity/users.routes.js';
import { registerMfaRoutes } from '../features/identity/mfa.routes.js';
import { registerSecurityPolicyRoutes } from '../features/identity/security-policy.routes.js';
import { registerNetworkPolicyRoutes } from '../features/identity/network-policy.routes.js';
import { registerFocalPointRoutes } from '../features/focal-points/focal-points.routes.js';
import type { Logger } from '../platform/log.js';
import { registerHealthRoutes, type ReadinessCheck } from '../features/health/health.routes.js';
import { registerAuthRoutes, type LoginRateLimit } from '../features/identity/auth.routes.js';
import { registerActivationPage } from '../features/identity/activation-page/activation-page.routes.js';
import { registerTenantRoutes } from '../features/tenants/tenants.routes.js';
import type { Services } from './services.js';

/** What buildApp needs: the wired services and the few settings HTTP cares about. */
export interface AppDeps {
  services: Services;
  log: Logger;
  version: string;
  checks: Record<string, ReadinessCheck>;
  trustedProxies?: string[];
  loginRateLimit?: LoginRateLimit;
}

/** Builds the whole HTTP app without listening: health, the tenant plane (/api/v1) and the operator plane (/ops/v1). */
export async function buildApp(deps: AppDeps): Promise<HttpApp> {
  const { services } = deps;
  const app = await createHttpApp({ logger: deps.log, version: deps.version, trustedProxies: deps.trustedProxies });
  registerHealthRoutes(app, { version: deps.version, checks: deps.checks });
  registerActivationPage(app);

  await app.register(async (scope: HttpApp) => {
    requireBearer(scope, (token, request) => services.auth.authenticate(token, request.ip), 'log in with POST /api/v1/auth/login and send Authorization: Bearer <token>.');
    requirePermissions(scope, services.auth.hasPermission);
    registerAuthRoutes(scope, { auth: services.auth, loginRateLimit: deps.loginRateLimit });
    registerMfaRoutes(scope, { mfa: services.mfa });
    registerUserRoutes(scope, { users: services.users });
    registerSecurityPolicyRoutes(scope, { policy: services.securityPolicy });
    registerNetworkPolicyRoutes(scope, { network: services.network });
    registerFocalPointRoutes(scope, { focalPoints: services.focalPoints });
  }, { prefix: '/api/v1' });

  await app.register(async (scope: HttpApp) => {
    requireBearer(scope, (token, request) => services.operators.authenticate(token, request.ip), 'create an operator token with: custos operator token create');
    registerTenantRoutes(scope, { tenants: services.tenants });
  }, { prefix: '/ops/v1' });

  return app;
}
